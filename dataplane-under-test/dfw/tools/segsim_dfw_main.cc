// segsim-dfw: command-line tools over the dfw library. One subcommand per file; this table is the
// only place that lists them.
//
//   segsim-dfw bench ...      datapath throughput (bench_command.cc)
//   segsim-dfw classify ...   ClassBench classification (classify_command.cc, by the classifier)
//   segsim-dfw verdicts ...   per-frame verdicts of a one-port datapath (verdicts_command.cc)

#include <cstdio>
#include <cstring>

#include "bench_command.h"
#include "commands.h"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Subcommand kSubcommands[] = {
    {"bench", "established- and new-connection-path throughput, memory per connection",
     dfw::tools::run_bench_command},
    // The classify subcommand lives in tools/classify_command.cc (classifier engineer).
    {"classify", "first-match classification of a ClassBench trace",
     dfw::tools::run_classify_command},
    {"verdicts", "per-frame verdicts of a one-port datapath for a policy and a frame sequence",
     dfw::tools::run_verdicts_command},
};

int usage(FILE* out) {
  std::fprintf(out, "usage: segsim-dfw <subcommand> [options]   (--help after one for its options)\n");
  for (const Subcommand& s : kSubcommands) std::fprintf(out, "  %-10s %s\n", s.name, s.summary);
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) return usage(stdout);
  for (const Subcommand& s : kSubcommands) {
    if (std::strcmp(argv[1], s.name) == 0) return s.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "segsim-dfw: unknown subcommand '%s'\n", argv[1]);
  return usage(stderr);
}
