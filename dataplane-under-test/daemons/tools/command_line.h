#pragma once
// The command-line handling every daemon shares: `--help` prints the options and exits 0; a bad
// option, a missing required one or a bad `--log-level` prints "<program>: what was wrong" and
// exits 2 (bad input), as the rest of segsim does.

#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include "daemons/status_file.h"
#include "platform/platform.h"

namespace daemons {

// Parses argv into the variables `options` is bound to, then `log_level_text` into `level`.
// Returns -1 when the daemon should go on, else the exit code to return.
inline int parse_command_line(const char* program, int argc, char** argv,
                              const boost::program_options::options_description& options,
                              const std::string& log_level_text, platform::LogLevel& level) {
  namespace po = boost::program_options;
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << options;
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << program << ": " << e.what() << "\n" << options;
    return 2;
  }
  if (!parse_log_level(log_level_text, level)) {
    std::cerr << program << ": --log-level \"" << log_level_text << "\": expected debug, info, warning or error\n";
    return 2;
  }
  return -1;
}

}  // namespace daemons
