#pragma once
// Best-effort removal of unfinished result files when the process is interrupted.
//
// Every ResultWriter registers its temporary file here while it is uncommitted. The first
// registration installs handlers for SIGINT, SIGTERM and SIGHUP, but only for signals whose
// disposition is still the default: a program with its own handler keeps it and should call
// remove_registered_temp_files() from that handler (it is async-signal-safe) or unwind so the
// writers' destructors run. The installed handler removes the files, restores the default
// disposition and re-raises the signal, so the exit status still says "killed by SIGINT".
//
// A crash (SIGSEGV, abort) can leave "<path>.tmp-<pid>" behind; that name never looks finished.

#include <string>

namespace analysis {

// Registers `path` (made absolute) for removal on a signal. Returns false if the registry is
// full or the path too long; the writer's destructor still removes the file then.
bool register_temp_file(const std::string& path);
// Forgets `path` (after it was renamed or removed).
void unregister_temp_file(const std::string& path);
// Unlinks every registered file. Async-signal-safe.
void remove_registered_temp_files() noexcept;

}  // namespace analysis
