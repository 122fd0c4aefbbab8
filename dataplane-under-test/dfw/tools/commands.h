#pragma once
// Subcommands of segsim-dfw. Each takes the arguments after the program name (argv[0] is the
// subcommand's own name) and returns the process exit status: 0 success, 2 bad usage or input.

namespace dfw::tools {

// classify --rules RULES --trace TRACE --out OUT [--repeat-seconds S]   (classify_command.cc)
int run_classify_command(int argc, char** argv);

// verdicts --rules POLICY --packets PACKETS   (verdicts_command.cc; the nftables differential test)
int run_verdicts_command(int argc, char** argv);

}  // namespace dfw::tools
