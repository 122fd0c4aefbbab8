#pragma once
// Everything a run writes into its result file (docs/results.md): time series sampled every
// output interval while the kernel runs (hosts, cores, links), and at the end the per-flow table,
// latency histograms and percentiles, drops by reason, per-rule hits, the VM/host/link directories
// and the run summary.

#include <string>
#include <vector>

#include "analysis/result_writer.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"
#include "series_table.h"
#include "world.h"

namespace scenarios {

class Recorder {
 public:
  Recorder(World& world, analysis::ResultWriter& writer, sim::Time interval);

  // Opens the streaming series tables and schedules the first sample at `interval`.
  bool start(std::string& error);
  // Takes the final sample at the end of the run and writes every end-of-run table; fills the
  // deterministic fields of `summary`.
  bool finish(const Scenario& scenario, RunSummary& summary, std::string& error);

 private:
  void sample();
  bool write_directories(const Scenario& scenario, std::string& error);
  bool write_flows(RunSummary& summary, std::string& error);
  bool write_latency(RunSummary& summary, std::string& error);
  bool write_drops(RunSummary& summary, std::string& error);
  bool write_rules(std::string& error);
  bool write_summary(const RunSummary& summary, std::string& error);
  bool write_replay(const Scenario& scenario, std::string& error);
  bool write_invariants(RunSummary& summary, std::string& error);

  World& world_;
  analysis::ResultWriter& writer_;
  sim::Time interval_;
  SeriesTable hosts_;
  SeriesTable cores_;
  SeriesTable links_;
  std::string first_error_;
  std::vector<models::HostSample> last_host_samples_;
  std::vector<models::LinkSample> last_link_samples_;
  std::vector<std::vector<int64_t>> previous_core_busy_ns_;  // [host][core]
  sim::Time previous_sample_time_;
  double peak_core_utilization_ = 0;
  uint64_t peak_live_connections_ = 0;
};

}  // namespace scenarios
