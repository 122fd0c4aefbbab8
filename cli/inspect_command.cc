// `segsim inspect OUT.h5`: prints what a result file holds.

#include <iostream>
#include <string>

#include "analysis/inspect.h"
#include "commands.h"
#include "options.h"

namespace segsim::cli {

int inspect_command(int argc, char** argv) {
  po::options_description options("inspect options");
  std::string path;
  options.add_options()("result", po::value(&path)->required(), "result file (HDF5)");
  po::positional_options_description positional;
  positional.add("result", 1);
  po::variables_map vm;
  int exit_code = kExitOk;
  if (!parse_options(argc, argv, "segsim inspect RESULT.h5", options, positional, vm, exit_code)) {
    return exit_code;
  }
  return analysis::inspect_file(path, std::cout, std::cerr);
}

}  // namespace segsim::cli
