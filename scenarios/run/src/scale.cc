// Timeline actions add_vm / remove_vm (scale.h). Arguments arrive as strings: from the loader
// (already checked there, with file:line) or straight from Python's Simulation.apply(), so every
// one is validated again here with a message naming the argument.

#include "scale.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "scenarios/units_parse.h"

namespace scenarios {
namespace {


std::string ipv4_text(uint32_t address) {
  char buf[INET_ADDRSTRLEN];
  const in_addr a{htonl(address)};
  return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
}

std::string ipv6_text(const std::array<uint8_t, 16>& address) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, address.data(), buf, sizeof buf) ? buf : "";
}

bool parse_mac(const std::string& text, std::array<uint8_t, 6>& out) {
  unsigned b[6];
  char tail;
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
    return false;
  for (int i = 0; i < 6; ++i) {
    if (b[i] > 0xff) return false;
    out[i] = static_cast<uint8_t>(b[i]);
  }
  return true;
}

std::array<uint8_t, 6> mac_of(uint64_t value) {
  std::array<uint8_t, 6> mac{};
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(value >> (8 * (5 - i)));
  return mac;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

const std::string* arg(const TimelineEvent& e, const std::string& key) {
  auto it = e.args.find(key);
  return it == e.args.end() ? nullptr : &it->second;
}

// "k=v,k=v" as the loader writes a label map.
bool parse_labels(const std::string& text, std::map<std::string, std::string>& out, std::string& error) {
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      error = "labels: expected key=value pairs separated by commas, got '" + text + "'";
      return false;
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

struct Row {
  std::string change, kind;
  int64_t at_ns = 0;
  uint64_t ports = 0, hosts = 0;
};

class ScaleExtension final : public RunExtension {
 public:
  explicit ScaleExtension(RunContext& context) : context_(context), world_(context.world) {}

  void register_actions(ActionTable& actions) override {
    actions.add("add_vm", [this](const TimelineEvent& e, std::string& error) { return add_vm(e, error); });
    actions.add("remove_vm", [this](const TimelineEvent& e, std::string& error) { return remove_vm(e, error); });
  }

  bool finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) override {
    if (added_ == 0 && removed_ == 0) return true;
    summary.extra.push_back({"vms_added", "vms", added_});
    summary.extra.push_back({"vms_removed", "vms", removed_});
    summary.report_lines.push_back("scale         " + std::to_string(added_) + " VMs added, " + std::to_string(removed_) +
                                   " removed");
    // With a modelled control plane its extension writes /convergence (these changes included).
    if (context_.scenario.control_plane.enabled) return true;
    std::vector<std::string> change, kind;
    std::vector<int64_t> at, zero;
    std::vector<uint64_t> ports, hosts, none;
    for (const Row& r : rows_) {
      change.push_back(r.change);
      kind.push_back(r.kind);
      at.push_back(r.at_ns);
      zero.push_back(0);
      ports.push_back(r.ports);
      hosts.push_back(r.hosts);
      none.push_back(0);
    }
    // Without a modelled control plane every port enforces a change the moment it is made.
    return writer.write_table("/convergence",
                              {{"change", "1", std::move(change)},
                               {"kind", "1", std::move(kind)},
                               {"at_ns", "ns", at},
                               {"converged_ns", "ns", at},
                               {"convergence_ns", "ns", zero},
                               {"ports_impacted", "ports", std::move(ports)},
                               {"hosts_impacted", "hosts", std::move(hosts)},
                               {"messages", "messages", none},
                               {"bytes", "bytes", none},
                               {"compute_ns", "ns", zero},
                               {"applied_ns", "ns", at},
                               {"enforced_ns", "ns", at}},
                              error);
  }

 private:
  bool find_host(const std::string& name, uint32_t& out, std::string& error) const {
    std::string known;
    for (uint32_t h = 0; h < world_.hosts.size(); ++h) {
      if (world_.hosts[h]->name() == name) {
        out = h;
        return true;
      }
      if (h < 8) known += (known.empty() ? "" : ", ") + world_.hosts[h]->name();
    }
    error = "host: unknown host '" + name + "' (hosts: " + known + (world_.hosts.size() > 8 ? ", ..." : "") + ")";
    return false;
  }

  // The first name group-N (N = 0, 1, ...) no VM of the run has had.
  std::string auto_name(const std::string& group) const {
    for (uint64_t n = 0;; ++n) {
      std::string name = group + "-" + std::to_string(n);
      if (world_.vms.find(name) == models::kNoVm) return name;
    }
  }

  bool address_in_use(uint32_t ipv4) const {
    for (models::VmIndex v = 0; v < world_.vms.size(); ++v)
      if (world_.vms[v].ipv4 == ipv4) return true;
    return false;
  }

  // The first free address of topology.vm_subnet (network and broadcast excluded). Addresses of
  // removed VMs are not reused within a run, so that a peer's stale rules never name a new VM.
  bool allocate_ipv4(uint32_t& out, std::string& error) const {
    const std::string& subnet = context_.scenario.vm_subnet;
    const auto slash = subnet.find('/');
    in_addr network{};
    if (slash == std::string::npos || inet_pton(AF_INET, subnet.substr(0, slash).c_str(), &network) != 1) {
      error = "ipv4: topology.vm_subnet '" + subnet + "' is not an IPv4 prefix; give the VM an address";
      return false;
    }
    const int length = std::atoi(subnet.c_str() + slash + 1);
    const uint64_t size = length >= 32 ? 1 : uint64_t{1} << (32 - length);
    const uint32_t base = ntohl(network.s_addr);
    for (uint64_t offset = 1; offset + 1 < size; ++offset) {
      const uint32_t candidate = base + static_cast<uint32_t>(offset);
      if (!address_in_use(candidate)) {
        out = candidate;
        return true;
      }
    }
    error = "ipv4: topology.vm_subnet " + subnet + " has no free address left";
    return false;
  }

  std::array<uint8_t, 6> allocate_mac() const {
    std::set<std::array<uint8_t, 6>> used;
    for (models::VmIndex v = 0; v < world_.vms.size(); ++v) used.insert(world_.vms[v].mac);
    for (uint64_t n = 1;; ++n) {
      const auto mac = mac_of(0x020000000000ULL + n);
      if (!used.count(mac)) return mac;
    }
  }

  // Builds the VM from the arguments (not placed, not in the table yet).
  bool make_vm(const TimelineEvent& e, models::Vm& vm, uint32_t& host, std::string& error) const {
    const std::string* name = arg(e, "name");
    const std::string* group = arg(e, "group");
    if ((!name || name->empty()) && (!group || group->empty())) {
      error = "add_vm needs a `name` or a `group` (whose next free name group-N is used)";
      return false;
    }
    const VmSpec* defaults = nullptr;
    if (group && !group->empty()) {
      std::string groups;
      for (const VmSpec& spec : context_.scenario.vms) {
        if (spec.group == *group && !defaults) defaults = &spec;
        if (!spec.group.empty() && groups.find(spec.group) == std::string::npos)
          groups += (groups.empty() ? "" : ", ") + spec.group;
      }
      if (!defaults) {
        error = "group: unknown group '" + *group + "' (" + (groups.empty() ? "the scenario has no VM groups" : "groups: " + groups) + ")";
        return false;
      }
    }
    vm.name = name && !name->empty() ? *name : auto_name(*group);
    if (!valid_name(vm.name)) {
      error = "name: invalid VM name '" + vm.name + "' (expected letters, digits, '-', '_', '.', at most 63 characters)";
      return false;
    }
    if (world_.vms.find(vm.name) != models::kNoVm) {
      error = "name: duplicate VM name '" + vm.name + "' (a VM of this run already has it)";
      return false;
    }
    const std::string* host_name = arg(e, "host");
    if (!host_name || host_name->empty()) {
      error = "missing argument 'host'";
      return false;
    }
    if (!find_host(*host_name, host, error)) return false;
    if (world_.hosts[host]->down()) {
      error = "host: host '" + *host_name + "' is down";
      return false;
    }
    if (defaults) {
      vm.labels = defaults->labels;
      vm.vnic_rate = defaults->vnic_rate;
    }
    if (const std::string* text = arg(e, "labels")) {
      std::map<std::string, std::string> given;
      if (!parse_labels(*text, given, error)) return false;
      for (auto& [k, v] : given) vm.labels[k] = v;
    }
    const controller::Policy& policy = world_.controller->policy();
    for (const auto& [key, value] : vm.labels) {
      if (!controller::is_known_label_key(policy, key)) {
        std::string known = "role, app, env, loc";
        for (const std::string& k : policy.custom_labels) known += ", " + k;
        error = "labels: unknown label key '" + key + "' (the policy knows " + known + ")";
        return false;
      }
      if (value.empty()) {
        error = "labels: empty value for label key '" + key + "'";
        return false;
      }
    }
    if (const std::string* text = arg(e, "vnic_rate")) {
      const auto rate = parse_data_rate(*text);
      if (!rate) {
        error = "vnic_rate: " + rate.error;
        return false;
      }
      vm.vnic_rate = *rate.value;
    }
    if (const std::string* text = arg(e, "ipv4")) {
      in_addr a{};
      if (inet_pton(AF_INET, text->c_str(), &a) != 1) {
        error = "ipv4: invalid IPv4 address '" + *text + "' (expected e.g. 10.0.0.5)";
        return false;
      }
      vm.ipv4 = ntohl(a.s_addr);
      for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
        if (world_.vms[v].ipv4 == vm.ipv4) {
          error = "ipv4: duplicate IP address " + *text + " (VM '" + world_.vms[v].name + "' has it)";
          return false;
        }
      }
    } else if (!allocate_ipv4(vm.ipv4, error)) {
      return false;
    }
    if (const std::string* text = arg(e, "ipv6")) {
      if (inet_pton(AF_INET6, text->c_str(), vm.ipv6.data()) != 1) {
        error = "ipv6: invalid IPv6 address '" + *text + "' (expected e.g. fd00::5)";
        return false;
      }
      vm.has_ipv6 = true;
      for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
        if (world_.vms[v].has_ipv6 && world_.vms[v].ipv6 == vm.ipv6) {
          error = "ipv6: duplicate IP address " + *text + " (VM '" + world_.vms[v].name + "' has it)";
          return false;
        }
      }
    }
    if (const std::string* text = arg(e, "mac")) {
      if (!parse_mac(*text, vm.mac)) {
        error = "mac: invalid MAC address '" + *text + "' (expected e.g. 02:00:00:00:00:01)";
        return false;
      }
      if (vm.mac[0] & 1) {
        error = "mac: '" + *text + "' is a multicast MAC address (expected a unicast address)";
        return false;
      }
      for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
        if (world_.vms[v].mac == vm.mac) {
          error = "mac: duplicate MAC address " + *text + " (VM '" + world_.vms[v].name + "' has it)";
          return false;
        }
      }
    } else {
      vm.mac = allocate_mac();
    }
    // A tier of an IPv6 traffic pattern needs the VM's IPv6 address.
    for (const auto& g : world_.generators) {
      const models::traffic::FlowGeneratorParams& p = g->params();
      if (p.pattern != models::traffic::CommunicationPattern::kTiers || !p.ipv6 || vm.has_ipv6) continue;
      const auto it = vm.labels.find(p.tier_label);
      if (it != vm.labels.end() && std::find(p.tiers.begin(), p.tiers.end(), it->second) != p.tiers.end()) {
        error = "ipv6: VM '" + vm.name + "' joins tier " + it->second + " of IPv6 traffic '" + p.name +
                "' and needs an IPv6 address";
        return false;
      }
    }
    vm.host = host;
    return true;
  }

  bool add_vm(const TimelineEvent& e, std::string& error) {
    models::Vm vm;
    uint32_t host = 0;
    if (!make_vm(e, vm, host, error)) return false;
    if (world_.vms.size() >= world_.vm_capacity) {
      error = "add_vm: this run has no room for another VM (" + std::to_string(world_.vm_capacity) + " at most)";
      return false;
    }
    const std::string name = vm.name;
    const models::VmIndex index = world_.vms.add(std::move(vm));
    // Its transport stack (every VM has one, by VmIndex), then its port and vNIC. The port
    // enforces nothing (drops everything) until the control plane has given it its rules.
    if (world_.stacks.size() < index) world_.stacks.resize(index);
    world_.stacks.push_back(std::make_unique<models::traffic::TransportStack>(
        world_.kernel, world_.vms, index, world_.pool, world_.flows, transport_params(context_.scenario)));
    if (dfw::Status st = world_.hosts[host]->add_vm(index, nullptr); !st) {
      error = "add_vm " + name + ": " + st.message();
      return false;
    }
    // The VM joins the traffic when its rules and its peers' are in place (a load balancer adds
    // a backend once it is ready).
    const auto join = [this, index] {
      std::string err;
      for (auto& g : world_.generators) {
        if (!g->add_vm(world_.vms, index, world_.stacks[index].get(), err))
          std::fprintf(stderr, "segsim: %s\n", err.c_str());  // prevented by make_vm's checks
      }
    };
    const ControlPlaneLink::Impact impact = world_.control_plane->workload_added(index, join);
    rows_.push_back({"add_vm " + name + " on " + world_.hosts[host]->name(), "add_workload",
                     world_.kernel.now().ns(), impact.ports, impact.hosts});
    ++added_;
    return true;
  }

  bool remove_vm(const TimelineEvent& e, std::string& error) {
    const std::string* name = arg(e, "vm");
    if (!name || name->empty()) {
      error = "missing argument 'vm'";
      return false;
    }
    const models::VmIndex v = world_.vms.find(*name);
    if (v == models::kNoVm) {
      error = "vm: unknown VM '" + *name + "'";
      return false;
    }
    models::Vm& vm = world_.vms[v];
    models::Host& host = *world_.hosts[vm.host];
    if (!host.has_vm(v)) {
      error = "vm: VM '" + *name + "' runs nowhere (removed before, or its host failed)";
      return false;
    }
    if (!vm.running) {
      error = "vm: VM '" + *name + "' is stopped (a migration is switching it over)";
      return false;
    }
    for (auto& g : world_.generators) g->remove_vm(v);  // stops sending, no longer picked as a peer
    vm.running = false;
    // The guest shuts down: the flows it started end (failed_aborted, vm_removed); peers' flows
    // towards it find out as TCP does.
    if (v < world_.stacks.size() && world_.stacks[v]) world_.stacks[v]->abort_all(models::traffic::FlowReason::kVmRemoved);
    // The port goes with its connections, and the vNIC: the VM's pending sends find no vNIC,
    // packets to it are dropped where it was (the fabric still points there).
    if (dfw::Status st = host.remove_vm(v); !st) {
      error = "remove_vm " + *name + ": " + st.message();
      return false;
    }
    const ControlPlaneLink::Impact impact = world_.control_plane->workload_removed(v);
    rows_.push_back({"remove_vm " + *name, "remove_workload", world_.kernel.now().ns(), impact.ports, impact.hosts});
    ++removed_;
    return true;
  }

  RunContext& context_;
  World& world_;
  std::vector<Row> rows_;
  uint64_t added_ = 0, removed_ = 0;
};

}  // namespace

controller::Workload workload_of(const World& world, models::VmIndex vm) {
  const models::Vm& v = world.vms[vm];
  controller::Workload w;
  w.id = static_cast<controller::WorkloadId>(vm);
  w.name = v.name;
  w.host = world.hosts[v.host]->name();
  w.labels = controller::Labels(v.labels.begin(), v.labels.end());
  dfw::IpPrefix p;
  if (dfw::IpPrefix::parse(ipv4_text(v.ipv4), p)) w.addresses.push_back(p);
  if (v.has_ipv6 && dfw::IpPrefix::parse(ipv6_text(v.ipv6), p)) w.addresses.push_back(p);
  return w;
}

std::unique_ptr<RunExtension> create_scale_extension(RunContext& context) {
  return std::make_unique<ScaleExtension>(context);
}

}  // namespace scenarios
