#include "scenarios/run.h"

#include <cstdio>
#include <sstream>

#include "scenarios/simulation.h"

namespace scenarios {

int run_scenario(const Scenario& scenario, const RunOptions& options, RunSummary& summary, std::string& error) {
  int exit_code = 0;
  std::unique_ptr<Simulation> simulation = Simulation::create(scenario, options, error, exit_code);
  if (!simulation) return exit_code;
  if (int rc = simulation->run(error)) return rc;
  return simulation->finish(summary, error);
}

std::string format_summary(const Scenario& scenario, const RunSummary& s) {
  std::ostringstream out;
  char line[256];
  out << "scenario " << scenario.name << ": simulated " << sim::to_string(sim::Nanos(s.simulated_ns)) << " in ";
  std::snprintf(line, sizeof line, "%.2f s wall (%.2f M events/s, %llu events)\n", s.wall_seconds,
                s.events_per_second / 1e6, static_cast<unsigned long long>(s.events));
  out << line;
  std::snprintf(line, sizeof line,
                "  flows      %llu started, %llu completed, %llu failed, %llu still running at the end\n",
                static_cast<unsigned long long>(s.flows_started), static_cast<unsigned long long>(s.flows_completed),
                static_cast<unsigned long long>(s.flows_failed), static_cast<unsigned long long>(s.flows_incomplete));
  out << line;
  std::snprintf(line, sizeof line, "  packets    %llu sent by VMs, %llu delivered, %llu dropped\n",
                static_cast<unsigned long long>(s.packets_from_vms), static_cast<unsigned long long>(s.packets_delivered),
                static_cast<unsigned long long>(s.drops_total));
  out << line;
  for (const auto& [reason, n] : s.drops_by_reason) {
    std::snprintf(line, sizeof line, "    %-32s %llu\n", reason.c_str(), static_cast<unsigned long long>(n));
    out << line;
  }
  std::snprintf(line, sizeof line, "  latency    p50 %s, p99 %s, p99.9 %s (one-way, VM to VM)\n",
                sim::to_string(sim::Nanos(static_cast<int64_t>(s.latency_p50_ns))).c_str(),
                sim::to_string(sim::Nanos(static_cast<int64_t>(s.latency_p99_ns))).c_str(),
                sim::to_string(sim::Nanos(static_cast<int64_t>(s.latency_p999_ns))).c_str());
  out << line;
  std::snprintf(line, sizeof line,
                "  firewall   %.0f cycles/packet, busiest core %.1f%% busy over the run (%.1f%% at its peak), "
                "peak %llu live connections per host\n",
                s.firewall_cycles_per_packet, 100.0 * s.busiest_core_mean_utilization, 100.0 * s.peak_core_utilization,
                static_cast<unsigned long long>(s.peak_live_connections));
  out << line;
  for (const std::string& extra : s.report_lines) out << "  " << extra << "\n";
  out << "result: " << s.result_path << "\n";
  return out.str();
}

}  // namespace scenarios
