#include "process_pool.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

extern char** environ;

namespace segsim::cli {
namespace {

constexpr int kInterruptSignals[] = {SIGINT, SIGTERM, SIGHUP};

bool is_ignored(int signal) {
  struct sigaction current {};
  return sigaction(signal, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

// Starts one process; its pid, or -1 with `error`.
pid_t spawn(const ProcessSpec& spec, const sigset_t& child_mask, std::string& error) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  const char* out = spec.stdout_path.empty() ? "/dev/null" : spec.stdout_path.c_str();
  const char* err = spec.stderr_path.empty() ? "/dev/null" : spec.stderr_path.c_str();
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The pool blocks the signals it waits for; the child gets the program's original mask.
  posix_spawnattr_setsigmask(&attributes, &child_mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    error = std::string("cannot start ") + argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

}  // namespace

int run_processes(const std::vector<ProcessSpec>& specs, unsigned jobs, const PoolCallbacks& callbacks,
                  std::vector<ProcessOutcome>& outcomes) {
  outcomes.assign(specs.size(), ProcessOutcome{});
  if (jobs == 0) jobs = 1;

  sigset_t waited, original;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  for (int s : kInterruptSignals) {
    if (!is_ignored(s)) sigaddset(&waited, s);
  }
  sigprocmask(SIG_BLOCK, &waited, &original);

  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  int interrupted = 0;
  while (true) {
    while (!interrupted && running.size() < jobs && next < specs.size()) {
      const std::size_t index = next++;
      if (callbacks.on_start) callbacks.on_start(index);
      const pid_t pid = spawn(specs[index], original, outcomes[index].error);
      if (pid < 0) {
        if (callbacks.on_finish) callbacks.on_finish(index, outcomes[index]);
        continue;
      }
      outcomes[index].started = true;
      running.emplace(pid, index);
    }
    if (running.empty()) break;

    siginfo_t info;
    const int signal = sigwaitinfo(&waited, &info);
    if (signal < 0) continue;  // EINTR from a signal outside the set (e.g. SIGSTOP/SIGCONT)
    if (signal != SIGCHLD && !interrupted) {
      interrupted = signal;
      for (const auto& [pid, index] : running) kill(pid, SIGTERM);
    }
    // SIGCHLDs coalesce: reap every child that has finished.
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      const auto it = running.find(pid);
      if (it == running.end()) continue;
      const std::size_t index = it->second;
      running.erase(it);
      outcomes[index].exit_code = decode_status(status);
      if (callbacks.on_finish) callbacks.on_finish(index, outcomes[index]);
    }
  }
  // Signals that arrived after the last child (or while none ran) still interrupt the sweep.
  if (!interrupted) {
    sigset_t interrupts;
    sigemptyset(&interrupts);
    for (int s : kInterruptSignals) {
      if (sigismember(&waited, s)) sigaddset(&interrupts, s);
    }
    const timespec zero{0, 0};
    siginfo_t info;
    const int pending = sigtimedwait(&interrupts, &info, &zero);
    if (pending > 0) interrupted = pending;
  }
  // Drain a stale SIGCHLD so that it is not delivered (and ignored) later, then restore the mask.
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  const timespec zero{0, 0};
  siginfo_t info;
  while (sigtimedwait(&child, &info, &zero) > 0) {
  }
  sigprocmask(SIG_SETMASK, &original, nullptr);
  return interrupted;
}

void die_by_signal(int signal) {
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(signal, &fallback, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  raise(signal);
  std::_Exit(128 + signal);  // not reached unless the signal is blocked elsewhere
}

}  // namespace segsim::cli
