#pragma once
// The `segsim` command's subcommands. Each takes the arguments after its name and returns the
// process exit code: 0 ok, 1 runtime failure, 2 bad input (usage, scenario, file).

namespace segsim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

int run_command(int argc, char** argv);
int validate_command(int argc, char** argv);
int inspect_command(int argc, char** argv);
int calibrate_command(int argc, char** argv);
int compare_command(int argc, char** argv);
int sweep_command(int argc, char** argv);
int report_command(int argc, char** argv);

}  // namespace segsim::cli
