// Topology builders: describe leaf-spine and star fabrics as a FabricGraph.

#include <string>

#include "models/switched_fabric.h"

namespace models {

double LeafSpineParams::oversubscription() const {
  const double down = static_cast<double>(hosts_per_leaf) * uplinks_per_host *
                      static_cast<double>(host_link.rate.bits_per_second());
  const double up = static_cast<double>(spines) *
                    static_cast<double>(fabric_link.rate.bits_per_second());
  return up > 0 ? down / up : 0.0;
}

namespace {

void add_host_edges(const std::string& host, const std::string& switch_name, uint32_t uplinks,
                    const LinkParams& params, FabricGraph& out) {
  for (uint32_t u = 0; u < uplinks; ++u) out.edges.push_back({host, switch_name, params});
}

bool check_uplinks(uint32_t uplinks, std::string& error) {
  if (uplinks == 1 || uplinks == 2) return true;
  error = "uplinks_per_host: must be 1 or 2, got " + std::to_string(uplinks);
  return false;
}

}  // namespace

bool leaf_spine_graph(const LeafSpineParams& params, const std::vector<std::string>& host_names,
                      FabricGraph& out, std::string& error) {
  if (!check_uplinks(params.uplinks_per_host, error)) return false;
  if (params.leaves == 0 || params.hosts_per_leaf == 0) {
    error = "leaves and hosts_per_leaf: must be at least 1";
    return false;
  }
  if (params.spines == 0 && params.leaves > 1) {
    error = "spines: a leaf-spine fabric with more than one leaf needs at least one spine";
    return false;
  }
  if (params.uplinks_per_host == 2 && params.leaves % 2 != 0) {
    error = "uplinks_per_host: 2 links each host to a pair of leaves (0-1, 2-3, ...), so the number "
            "of leaves must be even, got " + std::to_string(params.leaves);
    return false;
  }
  const uint64_t expected = static_cast<uint64_t>(params.leaves) * params.hosts_per_leaf;
  if (host_names.size() != expected) {
    error = "hosts: a leaf-spine of " + std::to_string(params.leaves) + " leaves x " +
            std::to_string(params.hosts_per_leaf) + " hosts per leaf needs " +
            std::to_string(expected) + " hosts, got " + std::to_string(host_names.size());
    return false;
  }
  out = FabricGraph{};
  out.host_names = host_names;
  for (uint32_t s = 0; s < params.spines; ++s) out.switch_names.push_back("spine-" + std::to_string(s));
  for (uint32_t l = 0; l < params.leaves; ++l) {
    const std::string leaf = "leaf-" + std::to_string(l);
    out.switch_names.push_back(leaf);
    for (uint32_t s = 0; s < params.spines; ++s)
      out.edges.push_back({leaf, "spine-" + std::to_string(s), params.fabric_link});
    // Dual-homed hosts (uplinks_per_host = 2): the second uplink goes to the partner leaf
    // (index xor 1), as racks with a pair of top-of-rack switches are cabled, so that one leaf
    // failing leaves every host reachable through the other.
    for (uint32_t h = 0; h < params.hosts_per_leaf; ++h) {
      const std::string& host = host_names[l * params.hosts_per_leaf + h];
      add_host_edges(host, leaf, 1, params.host_link, out);
      if (params.uplinks_per_host == 2)
        add_host_edges(host, "leaf-" + std::to_string(l ^ 1U), 1, params.host_link, out);
    }
  }
  return true;
}

bool star_graph(const StarParams& params, const std::vector<std::string>& host_names,
                FabricGraph& out, std::string& error) {
  if (!check_uplinks(params.uplinks_per_host, error)) return false;
  out = FabricGraph{};
  out.host_names = host_names;
  out.switch_names.push_back("switch");
  for (const std::string& host : host_names)
    add_host_edges(host, "switch", params.uplinks_per_host, params.host_link, out);
  return true;
}

}  // namespace models
