#include "scenarios/run.h"

#include <sys/resource.h>

#include <cstdio>
#include <sstream>

#include "analysis/result_writer.h"
#include "recorder.h"
#include "world.h"

namespace scenarios {
namespace {

uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

void write_meta(analysis::ResultWriter& w, const Scenario& s, const RunOptions& options, const World& world) {
  w.set_meta("scenario_name", s.name);
  w.set_meta("scenario_description", s.description);
  w.set_meta("scenario_path", s.source_path);
  w.set_meta("scenario_text", s.source_text);
  w.set_meta("effective_yaml", s.effective_yaml);
  w.set_meta("seed", s.seed);
  w.set_meta("duration_ns", s.duration.ns());
  w.set_meta("sample_interval_ns", s.outputs.interval.ns());
  w.set_meta("calibration_path", world.calibration_path);
  w.set_meta("calibration_cpu_model", world.calibration.machine.cpu_model);
  w.set_meta("calibration_clock_hz", world.calibration.machine.clock_hz);
  w.set_meta("calibration_method", world.calibration.machine.method);
}

}  // namespace

int run_scenario(const Scenario& scenario, const RunOptions& options, RunSummary& summary, std::string& error) {
  int exit_code = 0;
  std::unique_ptr<World> world = build_world(scenario, options.calibration_path, error, exit_code);
  if (!world) return exit_code;

  std::string path = options.output_path;
  if (path.empty()) path = scenario.outputs.path.empty() ? scenario.name + ".h5" : scenario.outputs.path;
  std::unique_ptr<analysis::ResultWriter> writer = analysis::ResultWriter::create(path, error);
  if (!writer) return 1;
  write_meta(*writer, scenario, options, *world);

  Recorder recorder(*world, *writer, scenario.outputs.interval);
  if (!recorder.start(error)) return 1;
  for (auto& generator : world->generators) generator->start();
  for (auto& replay : world->replays) replay->start();
  if (options.progress) world->kernel.set_progress_callback(options.progress_interval, options.progress);

  // A malformed trace record stops the run: bad input, no result file (the writer is dropped
  // uncommitted, which removes its temporary file).
  auto replay_failed = [&] {
    for (std::size_t i = 0; i < world->replays.size(); ++i) {
      if (world->replays[i]->failed()) {
        error = "traffic." + std::to_string(world->replay_traffic_index[i]) + ".file: " + world->replays[i]->error();
        return true;
      }
    }
    return false;
  };
  if (replay_failed()) return 2;
  world->kernel.run_until(scenario.duration);
  if (replay_failed()) return 2;
  if (world->replay_flows) world->replay_flows->finish();

  if (!recorder.finish(scenario, summary, error)) return 1;
  summary.wall_seconds = world->kernel.wall_seconds();
  summary.events_per_second = summary.wall_seconds > 0 ? static_cast<double>(summary.events) / summary.wall_seconds : 0;
  // The invocation names the output path, so it differs between otherwise identical runs.
  writer->set_wall("command_line", options.command_line);
  writer->set_wall("run_wall_seconds", summary.wall_seconds);
  writer->set_wall("events_per_second", summary.events_per_second);
  writer->set_wall("packets_per_second",
                   summary.wall_seconds > 0 ? static_cast<double>(summary.packets_from_vms) / summary.wall_seconds : 0);
  writer->set_wall("peak_rss_bytes", peak_rss_bytes());
  if (!writer->commit(error)) return 1;
  summary.result_path = path;
  return 0;
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
                "  firewall   %.0f cycles/packet, busiest core %.1f%% busy, peak %llu live connections per host\n",
                s.firewall_cycles_per_packet, 100.0 * s.peak_core_utilization,
                static_cast<unsigned long long>(s.peak_live_connections));
  out << line;
  out << "result: " << s.result_path << "\n";
  return out.str();
}

}  // namespace scenarios
