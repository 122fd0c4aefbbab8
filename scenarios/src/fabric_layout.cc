#include "scenarios/fabric_layout.h"

namespace scenarios {

std::string link_name(std::string_view a, std::string_view b) {
  return std::string(a) + "--" + std::string(b);
}

const FabricLink* FabricLayout::find_link(std::string_view name) const {
  for (const FabricLink& link : links) {
    if (link.name == name || link_name(link.b, link.a) == name) return &link;
  }
  return nullptr;
}

FabricLayout layout_fabric(const FabricSpec& fabric, const std::vector<HostSpec>& hosts) {
  FabricLayout layout;
  auto add_link = [&](const std::string& a, const std::string& b, const LinkSpec& spec) {
    layout.links.push_back({link_name(a, b), a, b, spec});
  };
  if (fabric.kind == "leaf-spine") {
    for (uint32_t l = 0; l < fabric.leaves; ++l) layout.switches.push_back("leaf" + std::to_string(l));
    for (uint32_t s = 0; s < fabric.spines; ++s) layout.switches.push_back("spine" + std::to_string(s));
    for (size_t i = 0; i < hosts.size(); ++i) {
      const uint32_t leaf = static_cast<uint32_t>(i / fabric.hosts_per_leaf);
      add_link(hosts[i].name, "leaf" + std::to_string(leaf), fabric.host_link);
      if (fabric.uplinks_per_host == 2) add_link(hosts[i].name, "leaf" + std::to_string(leaf ^ 1U), fabric.host_link);
    }
    for (uint32_t l = 0; l < fabric.leaves; ++l) {
      for (uint32_t s = 0; s < fabric.spines; ++s) {
        add_link("leaf" + std::to_string(l), "spine" + std::to_string(s), fabric.fabric_link);
      }
    }
  } else if (fabric.kind == "star") {
    layout.switches.push_back("switch0");
    for (const HostSpec& host : hosts) add_link(host.name, "switch0", fabric.host_link);
  } else {
    layout.switches = fabric.switches;
    for (const FabricSpec::GraphLink& link : fabric.links) add_link(link.a, link.b, link.link);
  }
  return layout;
}

}  // namespace scenarios
