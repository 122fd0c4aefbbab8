// `segsim sweep SCENARIO --param key=v1,v2 [--param ...] [-j N] [-o DIR]`: runs every point of
// the parameter grid as its own `segsim run` process, at most N at a time, each into
// DIR/point-NNN.h5, then writes DIR/index.h5 (analysis/sweep_index.h, docs/sweep.md).
// Exit 0 if every point succeeded, 1 if any failed, 2 for bad arguments (every point's overrides
// are validated before anything runs). Ctrl-C stops the children and writes no index.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "analysis/sweep_index.h"
#include "commands.h"
#include "options.h"
#include "process_pool.h"
#include "scenarios/loader.h"
#include "sweep_grid.h"

namespace segsim::cli {
namespace {

namespace fs = std::filesystem;

// Beyond this a grid is almost certainly a mistake (a value list pasted twice, a typo'd range).
constexpr std::size_t kMaxPoints = 100000;
constexpr std::size_t kErrorLines = 3;

std::string describe_point(const std::vector<SweepParameter>& parameters, const std::vector<std::string>& values) {
  std::string text;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    text += (k ? " " : "") + parameters[k].key + "=" + values[k];
  }
  return text;
}

std::vector<std::string> point_overrides(const std::vector<std::string>& common,
                                         const std::vector<SweepParameter>& parameters,
                                         const std::vector<std::string>& values) {
  std::vector<std::string> overrides = common;
  for (std::size_t k = 0; k < parameters.size(); ++k) overrides.push_back(parameters[k].key + "=" + values[k]);
  return overrides;
}

// Loads the scenario with every point's overrides, so that an unknown key or a bad value stops
// the sweep before any process starts. Prints each distinct diagnostic once.
bool validate_points(const std::string& scenario, const std::vector<std::string>& common,
                     const std::vector<SweepParameter>& parameters,
                     const std::vector<std::vector<std::string>>& points) {
  std::set<std::string> printed;
  std::size_t bad = 0;
  for (std::size_t p = 0; p < points.size(); ++p) {
    scenarios::Diagnostics diagnostics;
    const auto loaded = scenarios::load_scenario(scenario, point_overrides(common, parameters, points[p]), diagnostics);
    if (loaded) continue;
    ++bad;
    std::istringstream lines(scenarios::format_diagnostics(diagnostics));
    std::string line;
    bool new_line = false;
    std::string text;
    while (std::getline(lines, line)) {
      if (line.empty() || !printed.insert(line).second) continue;
      text += line + "\n";
      new_line = true;
    }
    if (new_line) std::cerr << text;
    std::cerr << "segsim sweep: point " << p << " (" << describe_point(parameters, points[p])
              << "): the scenario does not load\n";
  }
  if (bad) std::cerr << "segsim sweep: " << bad << " of " << points.size() << " points invalid; nothing was run\n";
  return bad == 0;
}

// The last few non-empty lines of a run's stderr: the error that matters, without the noise.
std::string last_error_lines(const std::string& log_path) {
  std::ifstream in(log_path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  std::string text;
  const std::size_t first = lines.size() > kErrorLines ? lines.size() - kErrorLines : 0;
  for (std::size_t i = first; i < lines.size(); ++i) text += (text.empty() ? "" : "\n") + lines[i];
  // The index stores UTF-8 text without NUL: keep printable ASCII (runs print nothing else).
  for (char& c : text) {
    if (c != '\n' && (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)) c = '?';
  }
  return text.substr(0, 2000);
}

std::string self_executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : self.string();
}

}  // namespace

int sweep_command(int argc, char** argv) {
  po::options_description options("sweep options");
  std::string scenario, output_dir, calibration;
  std::vector<std::string> parameter_texts, common;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  options.add_options()
      ("scenario", po::value(&scenario)->required(), "scenario file (YAML)")
      ("param", po::value(&parameter_texts)->composing()->required(),
       "a swept value: path.to.key=v1,v2,... (repeatable; the grid is their Cartesian product)")
      ("set", po::value(&common)->composing(), "override a value in every point: path.to.key=value (repeatable)")
      ("jobs,j", po::value(&jobs), "points run at once (default: the number of CPUs)")
      ("output,o", po::value(&output_dir), "directory for the results and index.h5 (default: <scenario>-sweep)")
      ("calibration", po::value(&calibration), "cost-model calibration file for every point");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  int exit_code = kExitOk;
  const char* usage = "segsim sweep SCENARIO --param key=v1,v2,... [--param ...] [-j N] [-o DIR]";
  if (!parse_options(argc, argv, usage, options, positional, vm, exit_code)) return exit_code;

  std::vector<SweepParameter> parameters;
  const auto& reserved = analysis::sweep_index_reserved_columns();
  for (const std::string& text : parameter_texts) {
    SweepParameter p;
    std::string error;
    if (!parse_sweep_parameter(text, p, error)) {
      std::cerr << "segsim sweep: " << error << "\n";
      return kExitBadInput;
    }
    for (const SweepParameter& earlier : parameters) {
      if (earlier.key == p.key) {
        std::cerr << "segsim sweep: --param " << p.key << " is given twice (list all its values in one --param)\n";
        return kExitBadInput;
      }
    }
    if (std::find(reserved.begin(), reserved.end(), p.key) != reserved.end()) {
      std::cerr << "segsim sweep: --param " << p.key << ": '" << p.key
                << "' is a column of the index file; it cannot be a parameter\n";
      return kExitBadInput;
    }
    parameters.push_back(std::move(p));
  }
  if (jobs == 0) {
    std::cerr << "segsim sweep: --jobs must be at least 1\n";
    return kExitBadInput;
  }
  std::size_t point_count = 1;
  for (const SweepParameter& p : parameters) {
    point_count *= p.values.size();
    if (point_count > kMaxPoints) {
      std::cerr << "segsim sweep: the grid has more than " << kMaxPoints << " points\n";
      return kExitBadInput;
    }
  }
  if (!calibration.empty() && !fs::is_regular_file(calibration)) {
    std::cerr << "segsim sweep: --calibration " << calibration << ": no such file\n";
    return kExitBadInput;
  }
  const std::vector<std::vector<std::string>> points = sweep_points(parameters);
  if (!validate_points(scenario, common, parameters, points)) return kExitBadInput;

  if (output_dir.empty()) output_dir = fs::path(scenario).stem().string() + "-sweep";
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec || !fs::is_directory(output_dir)) {
    std::cerr << "segsim sweep: cannot create the directory " << output_dir << ": " << ec.message() << "\n";
    return kExitBadInput;
  }

  // One `segsim run` per point, by this very binary, so that the points run what the sweep runs.
  const std::string self = self_executable();
  const std::size_t digits = std::max<std::size_t>(3, std::to_string(points.size() - 1).size());
  std::vector<ProcessSpec> specs;
  analysis::SweepIndex index;
  index.scenario_path = scenario;
  index.common_overrides = common;
  for (const SweepParameter& p : parameters) {
    index.parameters.push_back(p.key);
    index.parameter_values.push_back(p.values_text);
  }
  for (std::size_t p = 0; p < points.size(); ++p) {
    const std::string number = std::to_string(p);
    const std::string name = "point-" + std::string(digits - std::min<std::size_t>(digits, number.size()), '0') + number;
    const std::string base = (fs::path(output_dir) / name).string();
    ProcessSpec spec;
    spec.argv = {self, "run", scenario, "-o", base + ".h5", "--quiet"};
    for (const std::string& o : point_overrides(common, parameters, points[p])) {
      spec.argv.push_back("--set");
      spec.argv.push_back(o);
    }
    if (!calibration.empty()) spec.argv.insert(spec.argv.end(), {"--calibration", calibration});
    spec.stderr_path = base + ".log";
    specs.push_back(std::move(spec));
    index.points.push_back({points[p], base + ".h5", 0, "", ""});
  }

  std::vector<std::chrono::steady_clock::time_point> started(points.size());
  std::size_t done = 0, failed = 0;
  PoolCallbacks callbacks;
  callbacks.on_start = [&](std::size_t p) { started[p] = std::chrono::steady_clock::now(); };
  callbacks.on_finish = [&](std::size_t p, const ProcessOutcome& outcome) {
    analysis::SweepPoint& point = index.points[p];
    point.exit_code = outcome.started ? outcome.exit_code : -1;
    const bool ok = outcome.started && outcome.exit_code == 0;
    point.status = ok ? "ok" : (outcome.started && outcome.exit_code < 0) ? "killed" : "failed";
    point.error = !outcome.started ? outcome.error : ok ? "" : last_error_lines(specs[p].stderr_path);
    ++done;
    failed += ok ? 0 : 1;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started[p]).count();
    std::string report = "segsim sweep: [" + std::to_string(done) + "/" + std::to_string(points.size()) + "] point " +
                         std::to_string(p) + " (" + describe_point(parameters, points[p]) + "): " + point.status;
    char timing[64];
    std::snprintf(timing, sizeof timing, "%.1f s", seconds);
    report += ok ? std::string(" (") + timing + ")" : " (exit " + std::to_string(point.exit_code) + ", " + timing + ")";
    std::istringstream error_lines(point.error);
    for (std::string line; std::getline(error_lines, line);) report += "\n    " + line;
    std::cerr << report << "\n";
    // A run's log matters only when it says something.
    std::error_code ignored;
    if (fs::exists(specs[p].stderr_path, ignored) && fs::file_size(specs[p].stderr_path, ignored) == 0) {
      fs::remove(specs[p].stderr_path, ignored);
    }
  };
  std::vector<ProcessOutcome> outcomes;
  const int interrupted = run_processes(specs, jobs, callbacks, outcomes);
  if (interrupted) {
    std::fprintf(stderr, "segsim sweep: interrupted (signal %d) after %zu of %zu points; no index written\n",
                 interrupted, done, points.size());
    die_by_signal(interrupted);
  }
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (!outcomes[p].started && index.points[p].status.empty()) {
      index.points[p] = {points[p], index.points[p].result_path, -1, "failed", outcomes[p].error};
    }
  }

  const std::string index_path = (fs::path(output_dir) / "index.h5").string();
  std::string error;
  if (!analysis::write_sweep_index(index, index_path, error)) {
    std::cerr << "segsim sweep: " << index_path << ": " << error << "\n";
    return kExitFailure;
  }
  std::cout << points.size() << " points: " << points.size() - failed << " ok, " << failed << " failed\n"
            << "index: " << index_path << "\n";
  return failed ? kExitFailure : kExitOk;
}

}  // namespace segsim::cli
