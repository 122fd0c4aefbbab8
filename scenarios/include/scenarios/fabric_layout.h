#pragma once
// The concrete switches and links a FabricSpec describes, with their names.
//
// The loader uses it to check link names in the timeline and in outputs.pcap; the fabric model
// builds the network from it, so both agree on what "leaf0--spine1" is.
//
//   leaf-spine  switches leaf0..leaf{L-1}, spine0..spine{S-1}. Host i (in scenario order) is
//               attached to leaf floor(i / hosts_per_leaf); with uplinks_per_host: 2 also to its
//               partner leaf (index xor 1). Every leaf links to every spine (fabric_link).
//   star        one switch, switch0; every host links to it (host_link).
//   graph       the switches and links listed in the scenario.
//
// A link's name is "<a>--<b>": for host links the host comes first, for leaf-spine links the
// leaf; graph links keep the order written. Links are full duplex; both directions share a name.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/scenario.h"

namespace scenarios {

struct FabricLink {
  std::string name;  // "a--b"
  std::string a;
  std::string b;
  LinkSpec spec;
};

struct FabricLayout {
  std::vector<std::string> switches;
  std::vector<FabricLink> links;

  // The link called `name`, accepting the endpoints in either order ("spine0--leaf1").
  const FabricLink* find_link(std::string_view name) const;
};

std::string link_name(std::string_view a, std::string_view b);

// Assumes a validated fabric (the loader checks that hosts fit the leaves and that
// uplinks_per_host: 2 has an even number of leaves).
FabricLayout layout_fabric(const FabricSpec& fabric, const std::vector<HostSpec>& hosts);

}  // namespace scenarios
