// `segsim run SCENARIO [-o OUT.h5] [--seed N] [--set k=v]... [--calibration FILE] [--quiet]`

#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "options.h"
#include "progress_line.h"
#include "scenarios/loader.h"
#include "scenarios/run.h"

namespace segsim::cli {

int run_command(int argc, char** argv) {
  po::options_description options("run options");
  std::string path, output, calibration;
  std::vector<std::string> overrides;
  options.add_options()
      ("scenario", po::value(&path)->required(), "scenario file (YAML)")
      ("output,o", po::value(&output), "result file (default: outputs.path, else <name>.h5)")
      ("seed", po::value<uint64_t>(), "random seed (overrides the scenario's)")
      ("set", po::value(&overrides)->composing(), "override a value: path.to.key=value (repeatable)")
      ("calibration", po::value(&calibration), "cost-model calibration file (default: the bundled one)")
      ("quiet,q", "print nothing but errors");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  int exit_code = kExitOk;
  if (!parse_options(argc, argv, "segsim run SCENARIO [-o OUT.h5] [--seed N] [--set k=v]... [--quiet]", options,
                     positional, vm, exit_code)) {
    return exit_code;
  }
  const bool quiet = vm.count("quiet") != 0;
  if (vm.count("seed")) overrides.push_back("seed=" + std::to_string(vm["seed"].as<uint64_t>()));

  scenarios::Diagnostics diagnostics;
  auto scenario = scenarios::load_scenario(path, overrides, diagnostics);
  if (!quiet || diagnostics.has_errors()) std::cerr << scenarios::format_diagnostics(diagnostics);
  if (!scenario) return kExitBadInput;

  scenarios::RunOptions run_options;
  run_options.output_path = output;
  run_options.calibration_path = calibration;
  std::string command_line = "segsim";
  for (int i = 0; i < argc; ++i) command_line += std::string(" ") + argv[i];
  run_options.command_line = command_line;
  const bool show_progress = !quiet && isatty(STDERR_FILENO);
  if (show_progress) run_options.progress = [](const sim::Progress& p) { draw_progress(stderr, p); };

  scenarios::RunSummary summary;
  std::string error;
  const int rc = scenarios::run_scenario(*scenario, run_options, summary, error);
  if (show_progress) clear_progress(stderr);
  if (rc != 0) {
    std::cerr << "segsim run: " << path << ": " << error << "\n";
    return rc;
  }
  if (!quiet) std::cout << scenarios::format_summary(*scenario, summary);
  return kExitOk;
}

}  // namespace segsim::cli
