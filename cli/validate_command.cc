// `segsim validate SCENARIO [--set k=v]...`: loads a scenario, reports every problem.

#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "options.h"
#include "scenarios/loader.h"

namespace segsim::cli {

int validate_command(int argc, char** argv) {
  po::options_description options("validate options");
  std::string path;
  std::vector<std::string> overrides;
  options.add_options()
      ("scenario", po::value(&path)->required(), "scenario file (YAML)")
      ("set", po::value(&overrides)->composing(), "override a value: path.to.key=value (repeatable)");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  int exit_code = kExitOk;
  if (!parse_options(argc, argv, "segsim validate SCENARIO [--set k=v]...", options, positional, vm,
                     exit_code)) {
    return exit_code;
  }

  scenarios::Diagnostics diagnostics;
  auto scenario = scenarios::load_scenario(path, overrides, diagnostics);
  std::cerr << scenarios::format_diagnostics(diagnostics);
  if (!scenario) {
    std::cerr << path << ": " << diagnostics.error_count() << " error(s)\n";
    return kExitBadInput;
  }
  std::cout << path << ": ok (" << scenario->hosts.size() << " hosts, " << scenario->vms.size()
            << " VMs, " << scenario->policy.rules.size() << " policy rules, " << scenario->traffic.size()
            << " traffic sources, " << scenario->timeline.size() << " timeline events, duration "
            << sim::to_string(scenario->duration) << ")\n";
  return kExitOk;
}

}  // namespace segsim::cli
