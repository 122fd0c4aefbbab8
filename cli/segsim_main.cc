// segsim: the command-line front end. Subcommands live in their own files (*_command.cc).

#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.h"
#include "segsim/version.h"

namespace {

struct Subcommand {
  const char* name;
  int (*fn)(int, char**);
  const char* help;
};

constexpr Subcommand kSubcommands[] = {
    {"run", segsim::cli::run_command, "run a scenario and write its result file"},
    {"validate", segsim::cli::validate_command, "check a scenario and report every problem"},
    {"inspect", segsim::cli::inspect_command, "print what a result file holds"},
    {"calibrate", segsim::cli::calibrate_command, "measure the real dfw and fit the cost model"},
    {"compare", segsim::cli::compare_command, "compare two results against regression budgets (CI)"},
    {"sweep", segsim::cli::sweep_command, "run a scenario over a grid of parameter values"},
    {"report", segsim::cli::report_command, "write a capacity-planning HTML report of a run or sweep"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: segsim <command> [options]\n\ncommands:\n");
  for (const Subcommand& c : kSubcommands) std::fprintf(out, "  %-10s %s\n", c.name, c.help);
  std::fprintf(out, "\n`segsim <command> --help` describes a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return segsim::cli::kExitBadInput;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return segsim::cli::kExitOk;
  }
  if (name == "--version") {
    std::printf("segsim %s (%s)\n", segsim::kVersion, segsim::kGitRevision);
    return segsim::cli::kExitOk;
  }
  for (const Subcommand& c : kSubcommands) {
    if (name == c.name) return c.fn(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "segsim: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return segsim::cli::kExitBadInput;
}
