#pragma once
// Running a validated scenario: build the world (hosts, fabric, VMs, the real dfw on every port,
// the policy controller's rules, traffic), run the event kernel to the scenario's duration,
// sample every output interval, and write one HDF5 result file (docs/results.md).
//
// Usage (what `segsim run` does):
//
//   scenarios::RunOptions options;
//   options.output_path = "out/quickstart.h5";
//   scenarios::RunSummary summary;
//   std::string error;
//   int rc = scenarios::run_scenario(*scenario, options, summary, error);
//   // rc: 0 ok, 1 runtime failure, 2 bad input (e.g. a feature the scenario asks for that this
//   // build cannot provide); on failure no result file exists and `error` says why.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "scenarios/scenario.h"
#include "sim/kernel.h"

namespace scenarios {

struct RunOptions {
  std::string output_path;        // empty: outputs.path, else "<name>.h5"
  std::string calibration_path;   // empty: the bundled default calibration
  std::string command_line;       // recorded in /meta
  // Called about every `progress_interval` of wall time while the kernel runs.
  std::function<void(const sim::Progress&)> progress;
  std::chrono::milliseconds progress_interval{500};
};

// Headline numbers of a run; the same values are in the result file's /summary table.
struct RunSummary {
  std::string result_path;
  int64_t simulated_ns = 0;
  uint64_t events = 0;
  uint64_t packets_from_vms = 0;
  uint64_t packets_delivered = 0;
  uint64_t flows_started = 0;
  uint64_t flows_completed = 0;
  uint64_t flows_failed = 0;
  uint64_t flows_incomplete = 0;
  uint64_t drops_total = 0;
  std::map<std::string, uint64_t> drops_by_reason;  // only non-zero reasons
  double firewall_cycles_per_packet = 0;            // charged cycles / packets processed
  double peak_core_utilization = 0;                 // busiest core over any sample interval
  // Sustained load, what a capacity planner sizes against (the peak follows 10 ms bursts): the
  // largest busy share of one core over the whole run, and of one host's cores together.
  double busiest_core_mean_utilization = 0;
  double busiest_host_mean_utilization = 0;
  uint64_t latency_p50_ns = 0;
  uint64_t latency_p99_ns = 0;
  uint64_t latency_p999_ns = 0;
  uint64_t peak_live_connections = 0;               // per host, the largest seen
  double wall_seconds = 0;
  double events_per_second = 0;

  // Headline numbers added by run extensions (migrations, failures, invariants, the control
  // plane): appended to the /summary table as columns, printed by format_summary.
  struct Field {
    std::string name;   // column name, e.g. "invariant_violations"
    std::string units;  // as in every result table: "ns", "connections", "1", ...
    std::variant<int64_t, uint64_t, double> value;
  };
  std::vector<Field> extra;
  // Lines extensions want printed under the headline numbers ("migrations  3 done, ...").
  std::vector<std::string> report_lines;
};

int run_scenario(const Scenario& scenario, const RunOptions& options, RunSummary& summary,
                 std::string& error);

// Multi-line, human-readable rendering of a summary (what `segsim run` prints).
std::string format_summary(const Scenario& scenario, const RunSummary& summary);

}  // namespace scenarios
