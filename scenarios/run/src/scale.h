#pragma once
// Scaling an application out and in during a run (timeline actions `add_vm` and `remove_vm`,
// docs/scenario.md): a VM created at run time gets an address, a dfw port and a vNIC on its
// host, a transport stack, a place in the traffic patterns that pick peers by label, and its
// workload at the control plane (which adapts every impacted port); a removed VM stops, its port
// and vNIC go, and the control plane forgets it so that peers' IP sets shrink.
//
// The change goes through World::control_plane (ControlPlaneLink::workload_added/_removed), so
// it takes the management network's time when the scenario models the control plane (the rows
// of /convergence are then the simulated control plane's) and is instant otherwise (this
// extension then writes the /convergence rows itself, converged at the change).

#include <memory>

#include "controller/policy.h"
#include "extension.h"
#include "world.h"

namespace scenarios {

// The controller's view of VM `vm` as the world has it now (id = VmIndex, name, host, labels,
// addresses).
controller::Workload workload_of(const World& world, models::VmIndex vm);

std::unique_ptr<RunExtension> create_scale_extension(RunContext& context);

}  // namespace scenarios
