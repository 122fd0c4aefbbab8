#pragma once
// Running child processes at most N at a time, for `segsim sweep`: each point of a sweep is a
// `segsim run` in its own process, so a crash or a bad point cannot take the others down and
// HDF5 (not thread-safe in Debian's build) never sees two threads.
//
// SIGINT, SIGTERM and SIGHUP (those not ignored when run_processes starts) interrupt the pool:
// no further process starts, the running ones get SIGTERM and are waited for, and
// run_processes returns the signal so the caller can clean up and re-raise it. The signals are
// blocked and taken with sigwaitinfo while the pool runs, so nothing happens inside a signal
// handler. Children start with the signal mask the program had and inherit the dispositions.

#include <csignal>
#include <functional>
#include <string>
#include <vector>

namespace segsim::cli {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is the program to execute (a path)
  std::string stdout_path;        // "" for /dev/null
  std::string stderr_path;        // "" for /dev/null
};

struct ProcessOutcome {
  bool started = false;  // false: never started (interrupted, or spawning failed: see error)
  int exit_code = 0;     // exit status, or -N if killed by signal N
  std::string error;     // why it could not start
};

struct PoolCallbacks {
  std::function<void(std::size_t index)> on_start;
  std::function<void(std::size_t index, const ProcessOutcome& outcome)> on_finish;
};

// Runs every spec (in order of index, at most `jobs` at once) and fills `outcomes`. Returns 0,
// or the signal that interrupted the pool.
int run_processes(const std::vector<ProcessSpec>& specs, unsigned jobs, const PoolCallbacks& callbacks,
                  std::vector<ProcessOutcome>& outcomes);

// Re-raises `signal` with its default disposition (after an interrupted pool), so the exit status
// says "killed by SIGINT" as the shell expects.
[[noreturn]] void die_by_signal(int signal);

}  // namespace segsim::cli
