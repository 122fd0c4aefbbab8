#pragma once
// The modelled control plane as a run extension (control_plane_sim_extension.cc).

#include <memory>
#include <string>
#include <vector>

#include "extension.h"

namespace scenarios {

// With a `control_plane` section: replaces World::control_plane with the simulated one and adds
// its extension to `out`. Without it: adds nothing, but refuses (exit 2) a timeline that uses the
// control-plane actions. False with `error` and `exit_code` on refusal.
bool add_control_plane_sim(RunContext& context, std::vector<std::unique_ptr<RunExtension>>& out, std::string& error,
                           int& exit_code);

}  // namespace scenarios
