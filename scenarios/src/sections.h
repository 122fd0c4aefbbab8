#pragma once
// The readers of the scenario's top-level sections (internal). Each fills its part of the
// Scenario and reports problems through the LoadContext; later sections resolve names through
// the NameIndex the topology reader builds.

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/fabric_layout.h"
#include "scenarios/scenario.h"
#include "yaml_reader.h"

namespace scenarios::detail {

struct NameIndex {
  std::vector<std::string> host_names;    // scenario order
  std::vector<std::string> vm_names;      // scenario order
  std::map<std::string, size_t> host_by_name;
  std::map<std::string, size_t> vm_by_name;
  FabricLayout layout;
  std::vector<std::string> link_names;    // canonical, layout order
  std::vector<std::string> rule_names;    // filled by read_policy
  bool duration_valid = true;             // false: skip checks relative to the run's end
};

// If `name` is not among `candidates`, reports "unknown <kind> 'x' (did you mean 'y'?)".
bool check_reference(LoadContext& ctx, const YAML::Node& node, std::string_view path, const std::string& name,
                     const std::vector<std::string>& candidates, std::string_view kind);

// `topology` (required): fabric, hosts, VMs with generated addresses.
void read_topology(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, NameIndex& index);
// `policy`: inline, or the name of a YAML file holding the same map.
void read_policy(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, NameIndex& index);
// `transport`: the VMs' TCP parameters.
void read_transport(LoadContext& ctx, const YAML::Node& node, Scenario& scenario);
// `control_plane`: a modelled controller and agents over a management network.
void read_control_plane(LoadContext& ctx, const YAML::Node& node, Scenario& scenario);
// `traffic`: a list of synthetic or replay sources.
void read_traffic(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, const NameIndex& index);
// `timeline`: a list of {at, action, args...}; sorted by time.
void read_timeline(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, const NameIndex& index);
// `failures`: the random failure process (MTBF/MTTR per component).
void read_failures(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, const NameIndex& index);
// `outputs`.
void read_outputs(LoadContext& ctx, const YAML::Node& node, Scenario& scenario, const NameIndex& index);

}  // namespace scenarios::detail
