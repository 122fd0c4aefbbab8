#pragma once
// Shared option handling for subcommands: Boost.Program_options with one positional argument
// and the exit-code conventions of commands.h.

#include <boost/program_options.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "commands.h"

namespace segsim::cli {

namespace po = boost::program_options;

// Parses argv (argv[0] is the subcommand name) into `vm`. Prints usage on --help (returns
// kExitOk through `exit_code`) and a clear message on bad usage (kExitBadInput). Returns true if
// the command should proceed.
inline bool parse_options(int argc, char** argv, const char* usage, po::options_description& options,
                          const po::positional_options_description& positional, po::variables_map& vm,
                          int& exit_code) {
  po::options_description all = options;
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage << "\n\n" << all << "\n";
      exit_code = kExitOk;
      return false;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "segsim " << argv[0] << ": " << e.what() << "\nusage: " << usage << "\n";
    exit_code = kExitBadInput;
    return false;
  }
  return true;
}

}  // namespace segsim::cli
