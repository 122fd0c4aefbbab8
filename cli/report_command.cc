// `segsim report RUN.h5|index.h5 -o report.html [...]`: the capacity-planning report is Python
// (matplotlib); this command runs it with Debian's interpreter and the package from this
// source tree, so that `segsim report` works without activating anything.
// Options, output and exit codes are python/segsim/report.py's (0 written, 2 bad input).

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

#ifndef SEGSIM_PYTHON_PACKAGE_DIR
#error "SEGSIM_PYTHON_PACKAGE_DIR must name the directory holding the segsim Python package"
#endif

namespace segsim::cli {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

int report_command(int argc, char** argv) {
  // The report needs only the pure-Python part of the package: the source tree's copy will do.
  std::string path = SEGSIM_PYTHON_PACKAGE_DIR;
  if (const char* existing = std::getenv("PYTHONPATH"); existing != nullptr && *existing != '\0') {
    path += ":";
    path += existing;
  }
  if (setenv("PYTHONPATH", path.c_str(), 1) != 0) {
    std::cerr << "segsim report: cannot set PYTHONPATH: " << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  std::vector<char*> args = {const_cast<char*>(kPython), const_cast<char*>("-m"),
                             const_cast<char*>("segsim.report")};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(kPython, args.data());
  std::cerr << "segsim report: cannot run " << kPython << ": " << std::strerror(errno)
            << " (install python3-matplotlib, python3-pandas, python3-h5py: scripts/install-deps)\n";
  return kExitFailure;
}

}  // namespace segsim::cli
