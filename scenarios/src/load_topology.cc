// topology: fabric, hosts (list or {count, prefix} groups), VMs (list or groups) and the
// addresses generated for VMs that do not give their own.

#include <algorithm>
#include <set>

#include "addresses.h"
#include "sections.h"
#include "suggest.h"

namespace scenarios::detail {
namespace {

constexpr uint64_t kMaxGroupCount = 1'000'000;

const std::vector<std::string> kHostParams = {"cores", "clock", "rx_queue_count", "core_queue_packets",
                                              "connection_limit", "vms_per_host"};

std::vector<std::string> with(std::vector<std::string> base, std::initializer_list<std::string> more) {
  base.insert(base.end(), more);
  return base;
}

void read_link_fields(MapReader& r, LinkSpec& link) {
  r.read_data_rate("rate", link.rate);
  r.read_duration("delay", link.delay, Need::optional, ZeroIs::allowed);
  r.read_size("queue_size", link.queue_size, Need::optional, ZeroIs::rejected);
  r.read_size("ecn_threshold", link.ecn_threshold, ZeroIs::rejected);
  if (link.ecn_threshold && *link.ecn_threshold > link.queue_size) {
    r.context().error(*r.find("ecn_threshold"), r.field("ecn_threshold"),
                      "ecn_threshold exceeds queue_size (expected at most " + std::to_string(link.queue_size.count()) +
                          " bytes)");
  }
}

void read_link(LoadContext& ctx, const YAML::Node& node, const std::string& path, LinkSpec& link) {
  MapReader r(ctx, node, path, "a link: {rate, delay, queue_size, ecn_threshold}");
  if (!r.is_map()) return;
  r.check_keys({"rate", "delay", "queue_size", "ecn_threshold"});
  read_link_fields(r, link);
}

// topology.fabric.routing: how the switches' routing protocol reacts to a failure.
void read_routing(LoadContext& ctx, const YAML::Node& node, FabricSpec& fabric) {
  MapReader r(ctx, node, "topology.fabric.routing", "a map with reconvergence_delay");
  if (!r.is_map()) return;
  r.check_keys({"reconvergence_delay"});
  r.read_duration("reconvergence_delay", fabric.reconvergence_delay, Need::optional, ZeroIs::allowed);
}

void read_fabric(LoadContext& ctx, const YAML::Node& node, FabricSpec& fabric) {
  MapReader r(ctx, node, "topology.fabric", "a fabric map with kind: leaf-spine, star or graph");
  if (!r.is_map()) return;
  r.read_choice("kind", fabric.kind, {"leaf-spine", "star", "graph"});
  if (fabric.kind == "leaf-spine") {
    r.check_keys({"kind", "leaves", "spines", "hosts_per_leaf", "uplinks_per_host", "host_link", "fabric_link", "routing"},
                 " for fabric kind 'leaf-spine'");
    r.read_unsigned_as("leaves", fabric.leaves, Need::optional, 1, 100'000);
    r.read_unsigned_as("spines", fabric.spines, Need::optional, 1, 100'000);
    r.read_unsigned_as("hosts_per_leaf", fabric.hosts_per_leaf, Need::optional, 1, 100'000);
    r.read_unsigned_as("uplinks_per_host", fabric.uplinks_per_host, Need::optional, 1, 2);
    if (fabric.uplinks_per_host == 2 && fabric.leaves % 2 != 0) {
      ctx.error(r.find("leaves") ? *r.find("leaves") : node, r.field("leaves"),
                "uplinks_per_host: 2 pairs leaves (0-1, 2-3, ...), so the number of leaves must be even (got " +
                    std::to_string(fabric.leaves) + ")");
    }
  } else if (fabric.kind == "star") {
    r.check_keys({"kind", "host_link", "routing"}, " for fabric kind 'star'");
    fabric.uplinks_per_host = 1;
  } else {
    r.check_keys({"kind", "switches", "links", "routing"}, " for fabric kind 'graph'");
    fabric.uplinks_per_host = 1;
  }
  if (const YAML::Node* n = r.find("host_link")) read_link(ctx, *n, r.field("host_link"), fabric.host_link);
  if (const YAML::Node* n = r.find("fabric_link")) read_link(ctx, *n, r.field("fabric_link"), fabric.fabric_link);
  if (const YAML::Node* n = r.find("routing")) read_routing(ctx, *n, fabric);
  if (fabric.kind != "graph") return;

  if (const YAML::Node* switches = r.require("switches", "a list of switch names")) {
    if (!switches->IsSequence()) {
      ctx.error(*switches, r.field("switches"), "expected a list of switch names, got " + describe_node(*switches));
    } else {
      for (size_t i = 0; i < switches->size(); ++i) {
        const std::string path = join_path(r.field("switches"), i);
        if (auto name = read_name(ctx, (*switches)[i], path)) fabric.switches.push_back(*name);
      }
    }
  }
  const YAML::Node* links = r.require("links", "a list of links {a, b, rate, delay, ...}");
  if (links == nullptr) return;
  if (!links->IsSequence()) {
    ctx.error(*links, r.field("links"), "expected a list of links {a, b, rate, delay, ...}, got " + describe_node(*links));
    return;
  }
  for (size_t i = 0; i < links->size(); ++i) {
    const std::string path = join_path(r.field("links"), i);
    FabricSpec::GraphLink link;
    MapReader lr(ctx, (*links)[i], path, "a link {a, b, rate, delay, queue_size, ecn_threshold}");
    if (!lr.is_map()) continue;
    lr.check_keys({"a", "b", "rate", "delay", "queue_size", "ecn_threshold"});
    const bool has_a = lr.read_name("a", link.a, Need::required);
    const bool has_b = lr.read_name("b", link.b, Need::required);
    read_link_fields(lr, link.link);
    if (has_a && has_b) fabric.links.push_back(std::move(link));
  }
}

void read_host_params(MapReader& r, HostSpec& host) {
  r.read_unsigned_as("cores", host.cores, Need::optional, 1, 4096);
  r.read_frequency("clock", host.clock_hz);
  r.read_unsigned_as("rx_queue_count", host.rx_queue_count, Need::optional, 1, 4096);
  r.read_unsigned_as("core_queue_packets", host.core_queue_packets, Need::optional, 1, 100'000'000);
  r.read_unsigned_as("connection_limit", host.connection_limit, Need::optional, 1, 4'000'000'000);
  r.read_unsigned_as("vms_per_host", host.vms_per_host, Need::optional, 1, kMaxGroupCount);
}

// One host, or a group {count, prefix, params...}; appends to hosts, remembering each host's node.
void read_host_entry(LoadContext& ctx, const YAML::Node& node, const std::string& path, std::vector<HostSpec>& hosts,
                     std::vector<YAML::Node>& origins, std::map<std::string, uint64_t>& next_index) {
  MapReader r(ctx, node, path, "a host {name, cores, clock, ...} or a group {count, prefix, ...}");
  if (!r.is_map()) return;
  HostSpec params;
  if (r.has("count")) {
    r.check_keys(with(kHostParams, {"count", "prefix"}), " for a host group");
    uint64_t count = 0;
    std::string prefix = "h";
    r.read_unsigned("count", count, Need::required, 1, kMaxGroupCount);
    r.read_name("prefix", prefix);
    read_host_params(r, params);
    for (uint64_t i = 0; i < count; ++i) {
      HostSpec host = params;
      host.name = prefix + std::to_string(next_index[prefix]++);
      hosts.push_back(std::move(host));
      origins.push_back(node);
    }
    return;
  }
  r.check_keys(with(kHostParams, {"name"}), " for a host (a group needs 'count')");
  if (!r.read_name("name", params.name, Need::required)) return;
  read_host_params(r, params);
  hosts.push_back(std::move(params));
  origins.push_back(node);
}

void read_hosts(LoadContext& ctx, const YAML::Node& node, Scenario& s, NameIndex& index) {
  std::vector<YAML::Node> origins;
  std::map<std::string, uint64_t> next_index;
  if (node.IsMap()) {
    read_host_entry(ctx, node, "topology.hosts", s.hosts, origins, next_index);
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      read_host_entry(ctx, node[i], join_path("topology.hosts", i), s.hosts, origins, next_index);
    }
  } else {
    ctx.error(node, "topology.hosts", "expected a list of hosts or a group {count: 4, prefix: h}, got " + describe_node(node));
  }
  for (size_t i = 0; i < s.hosts.size(); ++i) {
    const auto [it, inserted] = index.host_by_name.emplace(s.hosts[i].name, i);
    if (!inserted) {
      ctx.error(origins[i], "topology.hosts",
                "duplicate host name '" + s.hosts[i].name + "' (first defined at line " +
                    std::to_string(LoadContext::line_of(origins[it->second])) + ")");
      continue;
    }
    index.host_names.push_back(s.hosts[i].name);
  }
}

struct VmOrigin {
  YAML::Node node;  // the VM's or its group's entry
  std::string path;
};

void read_vm_params(MapReader& r, VmSpec& vm) {
  r.read_labels("labels", vm.labels);
  r.read_data_rate("vnic_rate", vm.vnic_rate);
  r.read_size("memory_size", vm.memory_size, Need::optional, ZeroIs::rejected);
}

// VM groups without `count` when some host sets `vms_per_host`: slot s of host h (s < its
// vms_per_host) goes to the (s mod groups)-th such group, in file order. A sweep over
// vms_per_host then grows every such group on every host.
struct HostFill {
  std::size_t groups = 0;  // count-less VM groups in the file
  std::size_t next = 0;    // the next count-less group's rank
};

// Places a count-less group's VMs host by host; false (with a diagnostic) if it gets none.
bool fill_hosts(LoadContext& ctx, MapReader& r, const Scenario& s, HostFill& fill, std::vector<std::string>& placement) {
  if (const YAML::Node* p = r.find_key_node("placement")) {
    ctx.error(*p, r.field("placement"),
              "a group without count is sized by topology.hosts vms_per_host and fills every host (expected no placement, or give count)");
    return false;
  }
  const std::size_t rank = fill.next++;
  placement.clear();
  for (const HostSpec& host : s.hosts) {
    for (uint32_t slot = 0; slot < host.vms_per_host; ++slot) {
      if (slot % fill.groups == rank) placement.push_back(host.name);
    }
  }
  if (placement.empty()) {
    ctx.error(r.node(), r.path(),
              "no VM for this group: vms_per_host is split round-robin over " + std::to_string(fill.groups) +
                  " groups without count (expected vms_per_host >= " + std::to_string(fill.groups) + ")");
    return false;
  }
  return true;
}

void read_vm_group(LoadContext& ctx, MapReader& r, const Scenario& s, const NameIndex& index, HostFill& fill,
                   std::vector<VmSpec>& vms, std::vector<VmOrigin>& origins) {
  r.check_keys({"group", "count", "labels", "placement", "vnic_rate", "memory_size"}, " for a VM group");
  VmSpec params;
  uint64_t count = 0;
  const bool named = r.read_name("group", params.group, Need::required);
  read_vm_params(r, params);
  if (fill.groups > 0 && !r.has("count")) {
    std::vector<std::string> placement;
    if (!named || !fill_hosts(ctx, r, s, fill, placement)) return;
    for (std::size_t i = 0; i < placement.size(); ++i) {
      VmSpec vm = params;
      vm.name = params.group + "-" + std::to_string(i);
      vm.host = placement[i];
      vm.line = LoadContext::line_of(r.node());
      vms.push_back(std::move(vm));
      origins.push_back({r.node(), r.path()});
    }
    return;
  }
  const bool counted = r.read_unsigned("count", count, Need::required, 1, kMaxGroupCount);
  std::vector<std::string> placement = index.host_names;
  if (const YAML::Node* p = r.find("placement")) {
    const std::string path = r.field("placement");
    if (p->IsSequence()) {
      std::vector<std::string> hosts;
      for (size_t i = 0; i < p->size(); ++i) {
        const auto host = read_scalar(ctx, (*p)[i], join_path(path, i), "a host name");
        if (host && check_reference(ctx, (*p)[i], join_path(path, i), *host, index.host_names, "host")) {
          hosts.push_back(*host);
        }
      }
      if (hosts.size() == p->size() && !hosts.empty()) placement = hosts;
      if (p->size() == 0) ctx.error(*p, path, "empty host list (expected round-robin or a list of hosts)");
    } else if (!p->IsScalar() || p->Scalar() != "round-robin") {
      ctx.error(*p, path, "invalid placement " + describe_node(*p) + " (expected round-robin or a list of host names)");
    }
  }
  if (!named || !counted || placement.empty()) return;
  for (uint64_t i = 0; i < count; ++i) {
    VmSpec vm = params;
    vm.name = params.group + "-" + std::to_string(i);
    vm.host = placement[i % placement.size()];
    vm.line = LoadContext::line_of(r.node());
    vms.push_back(std::move(vm));
    origins.push_back({r.node(), r.path()});
  }
}

void read_vm(LoadContext& ctx, MapReader& r, const NameIndex& index, std::vector<VmSpec>& vms,
             std::vector<VmOrigin>& origins) {
  r.check_keys({"name", "host", "mac", "ipv4", "ipv6", "labels", "vnic_rate", "memory_size"},
               " for a VM (a group needs 'group' and 'count')");
  VmSpec vm;
  const bool named = r.read_name("name", vm.name, Need::required);
  bool placed = r.read_string("host", vm.host, Need::required);
  if (placed) placed = check_reference(ctx, *r.find("host"), r.field("host"), vm.host, index.host_names, "host");
  r.read_string("mac", vm.mac);
  r.read_string("ipv4", vm.ipv4);
  r.read_string("ipv6", vm.ipv6);
  read_vm_params(r, vm);
  if (!named || !placed) return;
  vm.line = LoadContext::line_of(r.node());
  vms.push_back(std::move(vm));
  origins.push_back({r.node(), r.path()});
}

// Checks explicit addresses and generates the missing ones: IPv4 from vm_subnet in VM order,
// MACs 02:00:00:00:00:01 upwards (locally administered, unicast), skipping addresses in use.
void assign_addresses(LoadContext& ctx, Scenario& s, const std::vector<VmOrigin>& origins,
                      const std::optional<Ipv4Prefix>& subnet, const YAML::Node& subnet_node) {
  std::map<uint32_t, size_t> ipv4_owner;
  std::map<uint64_t, size_t> mac_owner;
  std::map<std::string, size_t> ipv6_owner;
  auto first_line = [&](size_t vm) { return std::to_string(LoadContext::line_of(origins[vm].node)); };
  auto field_node = [&](size_t vm, const char* key) {
    const YAML::Node& n = origins[vm].node;
    return n.IsMap() && n[key] ? n[key] : n;
  };
  for (size_t i = 0; i < s.vms.size(); ++i) {
    VmSpec& vm = s.vms[i];
    const std::string base = origins[i].path;
    if (!vm.ipv4.empty()) {
      const auto address = parse_ipv4(vm.ipv4);
      if (!address) {
        ctx.error(field_node(i, "ipv4"), join_path(base, "ipv4"), "invalid IPv4 address '" + vm.ipv4 + "' (expected e.g. 10.0.0.5)");
      } else if (const auto [it, inserted] = ipv4_owner.emplace(*address, i); !inserted) {
        ctx.error(field_node(i, "ipv4"), join_path(base, "ipv4"),
                  "duplicate IP address " + vm.ipv4 + " (also used by VM '" + s.vms[it->second].name + "' at line " +
                      first_line(it->second) + ")");
      }
    }
    if (!vm.mac.empty()) {
      const auto mac = parse_mac(vm.mac);
      if (!mac) {
        ctx.error(field_node(i, "mac"), join_path(base, "mac"), "invalid MAC address '" + vm.mac + "' (expected e.g. 02:00:00:00:00:01)");
      } else if ((*mac >> 40) & 1) {
        ctx.error(field_node(i, "mac"), join_path(base, "mac"), "'" + vm.mac + "' is a multicast MAC address (expected a unicast address)");
      } else if (const auto [it, inserted] = mac_owner.emplace(*mac, i); !inserted) {
        ctx.error(field_node(i, "mac"), join_path(base, "mac"),
                  "duplicate MAC address " + vm.mac + " (also used by VM '" + s.vms[it->second].name + "' at line " +
                      first_line(it->second) + ")");
      } else {
        vm.mac = format_mac(*mac);
      }
    }
    if (!vm.ipv6.empty()) {
      if (!is_valid_ipv6(vm.ipv6)) {
        ctx.error(field_node(i, "ipv6"), join_path(base, "ipv6"), "invalid IPv6 address '" + vm.ipv6 + "' (expected e.g. fd00::5)");
      } else if (const auto [it, inserted] = ipv6_owner.emplace(vm.ipv6, i); !inserted) {
        ctx.error(field_node(i, "ipv6"), join_path(base, "ipv6"),
                  "duplicate IP address " + vm.ipv6 + " (also used by VM '" + s.vms[it->second].name + "')");
      }
    }
  }
  uint64_t next_mac = 1;
  uint64_t next_offset = 1;  // skip the network address
  const uint64_t subnet_size = subnet ? (uint64_t{1} << (32 - subnet->length)) : 0;
  bool reported_full = false;
  for (VmSpec& vm : s.vms) {
    if (vm.mac.empty()) {
      while (mac_owner.count(0x020000000000ULL + next_mac)) ++next_mac;
      vm.mac = format_mac(0x020000000000ULL + next_mac++);
    }
    if (!vm.ipv4.empty() || !subnet) continue;
    while (next_offset + 1 < subnet_size && ipv4_owner.count(subnet->network + static_cast<uint32_t>(next_offset))) ++next_offset;
    // The last address of the subnet is its broadcast address.
    if (next_offset + 1 >= subnet_size) {
      if (!reported_full) {
        ctx.error(subnet_node, "topology.vm_subnet",
                  s.vm_subnet + " has no free address left for VM '" + vm.name + "' (expected a subnet with room for all " +
                      std::to_string(s.vms.size()) + " VMs)");
        reported_full = true;
      }
      continue;
    }
    vm.ipv4 = format_ipv4(subnet->network + static_cast<uint32_t>(next_offset++));
  }
}

void read_vms(LoadContext& ctx, const YAML::Node& node, Scenario& s, NameIndex& index,
              const std::optional<Ipv4Prefix>& subnet, const YAML::Node& subnet_node) {
  std::vector<VmOrigin> origins;
  if (!node.IsSequence()) {
    ctx.error(node, "topology.vms", "expected a list of VMs and VM groups, got " + describe_node(node));
    return;
  }
  std::map<std::string, YAML::Node> groups;
  HostFill fill;
  const bool hosts_fill = std::any_of(s.hosts.begin(), s.hosts.end(), [](const HostSpec& h) { return h.vms_per_host > 0; });
  for (const YAML::Node& entry : node) {
    if (hosts_fill && entry.IsMap() && entry["group"] && !entry["count"]) ++fill.groups;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = join_path("topology.vms", i);
    MapReader r(ctx, node[i], path, "a VM {name, host, ...} or a group {group, count, ...}");
    if (!r.is_map()) continue;
    if (!r.has("group")) {
      read_vm(ctx, r, index, s.vms, origins);
      continue;
    }
    std::string group;
    if (r.find("group")->IsScalar()) group = r.find("group")->Scalar();
    if (const auto [it, inserted] = groups.emplace(group, node[i]); !inserted) {
      ctx.error(*r.find("group"), r.field("group"),
                "duplicate VM group '" + group + "' (first defined at line " + std::to_string(LoadContext::line_of(it->second)) + ")");
      continue;
    }
    read_vm_group(ctx, r, s, index, fill, s.vms, origins);
  }
  for (size_t i = 0; i < s.vms.size(); ++i) {
    const auto [it, inserted] = index.vm_by_name.emplace(s.vms[i].name, i);
    if (!inserted) {
      ctx.error(origins[i].node, join_path(origins[i].path, "name"),
                "duplicate VM name '" + s.vms[i].name + "' (first defined at line " +
                    std::to_string(LoadContext::line_of(origins[it->second].node)) + ")");
      continue;
    }
    index.vm_names.push_back(s.vms[i].name);
  }
  assign_addresses(ctx, s, origins, subnet, subnet_node);
}

void check_fabric_fits(LoadContext& ctx, const YAML::Node& topology, const Scenario& s, NameIndex& index) {
  const FabricSpec& f = s.fabric;
  if (f.kind == "leaf-spine" && s.hosts.size() > uint64_t{f.leaves} * f.hosts_per_leaf) {
    ctx.error(topology["hosts"], "topology.hosts",
              std::to_string(s.hosts.size()) + " hosts do not fit the fabric (expected at most leaves x hosts_per_leaf = " +
                  std::to_string(uint64_t{f.leaves} * f.hosts_per_leaf) + ")");
  }
  index.layout = layout_fabric(f, s.hosts);
  std::set<std::string> switch_names;
  for (const std::string& sw : index.layout.switches) {
    if (index.host_by_name.count(sw)) {
      ctx.error(topology["hosts"], "topology.hosts", "host name '" + sw + "' is also the name of a switch of the fabric");
    }
    if (!switch_names.insert(sw).second) {
      ctx.error(topology["fabric"], "topology.fabric.switches", "duplicate switch name '" + sw + "'");
    }
  }
  std::vector<std::string> nodes = index.host_names;
  nodes.insert(nodes.end(), index.layout.switches.begin(), index.layout.switches.end());
  std::set<std::string> seen_links;
  // Links with errors of their own were not kept; then indices no longer match the file.
  const YAML::Node fabric_node = topology["fabric"];
  const YAML::Node links_node = fabric_node && fabric_node.IsMap() ? fabric_node["links"] : YAML::Node();
  const bool links_complete = f.kind == "graph" && links_node && links_node.IsSequence() && links_node.size() == f.links.size();
  for (size_t i = 0; links_complete && i < f.links.size(); ++i) {
    const YAML::Node link_node = links_node[i];
    const std::string path = join_path("topology.fabric.links", i);
    check_reference(ctx, link_node["a"], join_path(path, "a"), f.links[i].a, nodes, "host or switch");
    check_reference(ctx, link_node["b"], join_path(path, "b"), f.links[i].b, nodes, "host or switch");
    if (f.links[i].a == f.links[i].b) ctx.error(link_node, path, "a link must join two different nodes");
    const std::string forward = link_name(f.links[i].a, f.links[i].b);
    const std::string backward = link_name(f.links[i].b, f.links[i].a);
    if (seen_links.count(forward) || seen_links.count(backward)) {
      ctx.error(link_node, path, "duplicate link " + forward);
    }
    seen_links.insert(forward);
  }
  if (f.kind == "graph") {
    std::set<std::string> connected;
    for (const FabricLink& link : index.layout.links) connected.insert({link.a, link.b});
    for (const std::string& host : index.host_names) {
      if (!connected.count(host)) {
        ctx.error(topology["fabric"], "topology.fabric.links", "host '" + host + "' has no link (expected every host to be connected)");
      }
    }
  }
  for (const FabricLink& link : index.layout.links) index.link_names.push_back(link.name);
}

}  // namespace

bool check_reference(LoadContext& ctx, const YAML::Node& node, std::string_view path, const std::string& name,
                     const std::vector<std::string>& candidates, std::string_view kind) {
  for (const std::string& c : candidates) {
    if (c == name) return true;
  }
  ctx.error(node, path, "unknown " + std::string(kind) + " '" + name + "'" + suggestion_suffix(name, candidates));
  return false;
}

void read_topology(LoadContext& ctx, const YAML::Node& node, Scenario& s, NameIndex& index) {
  MapReader r(ctx, node, "topology", "a map with fabric, hosts and vms");
  if (!r.is_map()) return;
  r.check_keys({"vm_subnet", "segment_size", "fabric", "hosts", "vms"});
  std::optional<Ipv4Prefix> subnet;
  YAML::Node subnet_node = node;
  // reset(), not assignment: assigning to a YAML::Node overwrites the node it refers to.
  if (r.read_string("vm_subnet", s.vm_subnet)) subnet_node.reset(*r.find("vm_subnet"));
  std::string subnet_error;
  subnet = parse_ipv4_prefix(s.vm_subnet, &subnet_error);
  if (!subnet) ctx.error(subnet_node, "topology.vm_subnet", subnet_error);
  r.read_size("segment_size", s.segment_size, Need::optional, ZeroIs::rejected);
  if (const YAML::Node* fabric = r.find("fabric")) read_fabric(ctx, *fabric, s.fabric);
  if (const YAML::Node* hosts = r.require("hosts", "a list of hosts or a group {count: 4, prefix: h}")) {
    read_hosts(ctx, *hosts, s, index);
  }
  check_fabric_fits(ctx, node, s, index);
  if (const YAML::Node* vms = r.require("vms", "a list of VMs and VM groups")) {
    read_vms(ctx, *vms, s, index, subnet, subnet_node);
  }
}

}  // namespace scenarios::detail
