#pragma once
// The `migrate` action's arguments, as strings (from a scenario timeline, already checked by
// the loader, or straight from Python's sim.migrate, not checked): parsed and validated here
// with messages that name the argument and what was expected.
//
//   vm (required)          VM name
//   to (required)          destination host name
//   state: move | drop     carry the firewall state (default move)
//   policy: before | after the destination gets the VM's rules before or after switchover
//                          (default before)
//   memory: size           guest memory (default: the VM's memory_size in the scenario, 4GiB)
//   dirty_rate: rate       how fast the guest dirties memory, as a data rate (default 800Mbps,
//                          i.e. 100 MB/s)
//   bandwidth: rate        the migration stream's rate limit (default 10Gbps)

#include <string>

#include "migration_engine.h"
#include "scenarios/scenario.h"
#include "world.h"

namespace scenarios {

bool parse_migrate_args(const TimelineEvent& event, const Scenario& scenario, const World& world, MigrationRequest& out,
                        std::string& error);

}  // namespace scenarios
