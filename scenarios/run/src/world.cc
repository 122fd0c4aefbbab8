#include "world.h"

#include <arpa/inet.h>

#include <cstdio>
#include <map>

#include "direct_control_plane.h"
#include "policy_bridge.h"

namespace scenarios {
namespace {

// How many VMs a run may add with add_vm (each costs 4 bytes of fabric directory).
constexpr std::size_t kRuntimeVmSlots = 4096;

models::LinkParams to_link(const LinkSpec& s) {
  models::LinkParams p;
  p.rate = s.rate;
  p.delay = s.delay;
  p.queue_size = s.queue_size;
  p.ecn_threshold = s.ecn_threshold;
  return p;
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

bool build_vms(const Scenario& s, models::VmTable& vms, std::string& error) {
  std::map<std::string, uint32_t> host_index;
  for (std::size_t i = 0; i < s.hosts.size(); ++i) host_index[s.hosts[i].name] = static_cast<uint32_t>(i);
  for (const VmSpec& spec : s.vms) {
    models::Vm vm;
    vm.name = spec.name;
    if (!parse_mac(spec.mac, vm.mac)) {
      error = "vm " + spec.name + ": bad MAC '" + spec.mac + "'";
      return false;
    }
    in_addr v4{};
    if (inet_pton(AF_INET, spec.ipv4.c_str(), &v4) != 1) {
      error = "vm " + spec.name + ": bad IPv4 address '" + spec.ipv4 + "'";
      return false;
    }
    vm.ipv4 = ntohl(v4.s_addr);
    if (!spec.ipv6.empty()) {
      if (inet_pton(AF_INET6, spec.ipv6.c_str(), vm.ipv6.data()) != 1) {
        error = "vm " + spec.name + ": bad IPv6 address '" + spec.ipv6 + "'";
        return false;
      }
      vm.has_ipv6 = true;
    }
    vm.labels = spec.labels;
    vm.vnic_rate = spec.vnic_rate;
    auto it = host_index.find(spec.host);
    if (it == host_index.end()) {
      error = "vm " + spec.name + ": unknown host '" + spec.host + "'";
      return false;
    }
    vm.host = it->second;
    vms.add(std::move(vm));
  }
  return true;
}

std::unique_ptr<models::SwitchedFabric> build_fabric(const Scenario& s, sim::Kernel& kernel,
                                                     models::PacketPool& pool, std::string& error) {
  std::vector<std::string> host_names;
  for (const HostSpec& h : s.hosts) host_names.push_back(h.name);
  const FabricSpec& f = s.fabric;
  models::FabricGraph graph;
  if (f.kind == "leaf-spine") {
    models::LeafSpineParams p;
    p.leaves = f.leaves;
    p.spines = f.spines;
    p.hosts_per_leaf = f.hosts_per_leaf;
    p.uplinks_per_host = f.uplinks_per_host;
    p.host_link = to_link(f.host_link);
    p.fabric_link = to_link(f.fabric_link);
    if (!models::leaf_spine_graph(p, host_names, graph, error)) return nullptr;
  } else if (f.kind == "star") {
    models::StarParams p;
    p.uplinks_per_host = f.uplinks_per_host;
    p.host_link = to_link(f.host_link);
    if (!models::star_graph(p, host_names, graph, error)) return nullptr;
  } else if (f.kind == "graph") {
    graph.switch_names = f.switches;
    graph.host_names = host_names;
    for (const FabricSpec::GraphLink& l : f.links) graph.edges.push_back({l.a, l.b, to_link(l.link)});
  } else {
    error = "topology.fabric.kind: unknown kind '" + f.kind + "'";
    return nullptr;
  }
  return models::build_switched_fabric(graph, kernel, pool, error);
}

// Flow logs carry no TCP handshakes: their TCP packets are mid-stream segments, which the hosts'
// conntrack picks up as Linux does with nf_conntrack_tcp_loose=1 (its default).
bool replays_flow_logs(const Scenario& s) {
  for (const TrafficSpec& t : s.traffic)
    if (t.kind == "flowlog") return true;
  return false;
}

models::HostParams to_host_params(const HostSpec& h, bool tcp_loose) {
  models::HostParams p;
  p.datapath.tcp_loose = tcp_loose;
  p.cores = h.cores;
  p.clock_hz = h.clock_hz;
  p.rx_queue_count = h.rx_queue_count;
  p.core_queue_packets = h.core_queue_packets;
  p.datapath.connection_limit = h.connection_limit;
  return p;
}

bool build_replay(const Scenario& s, std::size_t index, World& w, std::string& error) {
  const TrafficSpec& t = s.traffic[index];
  if (!w.replay_flows) {
    w.replay_flows = std::make_unique<models::traffic::ReplayFlows>(w.vms, w.pool, w.flows);
    w.replay_flows->attach_receivers();
  }
  models::traffic::ReplayParams p;
  p.entity_name = "replay/" + std::to_string(index);
  p.file = t.file;
  p.mapping = t.mapping == "table"         ? models::traffic::ReplayMapping::kTable
              : t.mapping == "round-robin" ? models::traffic::ReplayMapping::kRoundRobin
                                           : models::traffic::ReplayMapping::kHash;
  p.address_table = t.address_table;
  p.speed = t.speed;
  p.loops = t.loops;
  p.coalesce = t.coalesce;
  p.segment_size = s.segment_size;
  p.skip_bad_records = t.skip_bad_records;
  p.start = t.start;
  p.stop = t.stop.value_or(sim::Time::max());
  auto replay = t.kind == "pcap"
                    ? models::traffic::create_pcap_replay(w.kernel, w.vms, w.pool, *w.replay_flows, p, error)
                    : models::traffic::create_flow_log_replay(w.kernel, w.vms, w.pool, *w.replay_flows, p, error);
  if (!replay) {
    error = "traffic." + std::to_string(index) + ".file: " + error;
    return false;
  }
  w.replays.push_back(std::move(replay));
  w.replay_traffic_index.push_back(index);
  return true;
}

}  // namespace

models::traffic::TransportParams transport_params(const Scenario& s) {
  models::traffic::TransportParams transport;
  transport.tcp.segment_size = s.segment_size;
  transport.tcp.mss = s.transport.mss;
  transport.tcp.initial_rto = s.transport.initial_rto;
  transport.tcp.min_rto = s.transport.min_rto;
  transport.tcp.max_rto = s.transport.max_rto;
  transport.tcp.syn_retries = s.transport.syn_retries;
  transport.tcp.data_retries = s.transport.data_retries;
  transport.tcp.time_wait = s.transport.time_wait;
  transport.tcp.delayed_ack = s.transport.delayed_ack;
  transport.tcp.small_queue_limit = s.transport.small_queue_limit;
  return transport;
}

namespace {

bool build_traffic(const Scenario& s, World& w, std::string& error) {
  const models::traffic::TransportParams transport = transport_params(s);
  std::vector<models::traffic::TransportStack*> stacks;
  for (models::VmIndex v = 0; v < w.vms.size(); ++v) {
    w.stacks.push_back(std::make_unique<models::traffic::TransportStack>(w.kernel, w.vms, v, w.pool, w.flows,
                                                                         transport));
    stacks.push_back(w.stacks.back().get());
  }
  for (std::size_t i = 0; i < s.traffic.size(); ++i) {
    const TrafficSpec& t = s.traffic[i];
    const std::string where = "traffic." + std::to_string(i);
    if (t.kind != "synthetic") {
      if (!build_replay(s, i, w, error)) return false;
      continue;
    }
    std::vector<models::traffic::FlowSizeCdf::Point> points;
    for (const CdfPoint& p : t.flow_size_cdf_points)
      points.push_back({static_cast<double>(p.size_bytes), p.cumulative});
    models::traffic::FlowSizeCdf cdf;
    if (!models::traffic::FlowSizeCdf::from_points(std::move(points), cdf, error)) {
      error = where + ".flow_size_cdf: " + t.flow_size_cdf + ": " + error;
      return false;
    }
    models::traffic::FlowGeneratorParams p;
    p.name = "synthetic" + std::to_string(i);
    if (t.pattern == "all-to-all") {
      p.pattern = models::traffic::CommunicationPattern::kAllToAll;
    } else if (t.pattern == "tiers") {
      p.pattern = models::traffic::CommunicationPattern::kTiers;
    } else {
      p.pattern = models::traffic::CommunicationPattern::kMatrix;
    }
    p.tier_label = t.tier_label;
    p.tiers = t.tiers;
    p.matrix = t.matrix;
    p.load = t.load;
    p.load_reference = models::traffic::LoadReference::kHostLink;
    p.host_link_rate = s.fabric.host_link.rate;
    if (t.load_per_vm) {
      p.load = 1.0;
      p.load_reference = models::traffic::LoadReference::kSourceRate;
      p.source_rate = *t.load_per_vm;
    }
    p.protocol = t.protocol == "udp" ? models::traffic::TransportProtocol::kUdp
                                     : models::traffic::TransportProtocol::kTcp;
    p.destination_port = t.destination_port;
    p.start = t.start;
    p.stop = t.stop.value_or(sim::Time::max());
    auto generator = models::traffic::FlowGenerator::create(w.kernel, w.vms, stacks, cdf, p, error);
    if (!generator) {
      error = where + ": " + error;
      return false;
    }
    w.generators.push_back(std::move(generator));
  }
  return true;
}

}  // namespace

std::unique_ptr<World> build_world(const Scenario& s, const std::string& calibration_path,
                                   std::string& error, int& exit_code) {
  exit_code = 2;
  auto w = std::make_unique<World>(s.seed);
  w->calibration_path = calibration_path.empty() ? models::default_calibration_path() : calibration_path;
  if (!models::load_calibration(w->calibration_path, w->calibration, error)) {
    exit_code = calibration_path.empty() ? 1 : 2;
    return nullptr;
  }
  w->cost = models::CostModel(w->calibration.coefficients);

  if (!build_vms(s, w->vms, error)) return nullptr;
  w->vm_capacity = static_cast<models::VmIndex>(w->vms.size() + kRuntimeVmSlots);
  w->fabric = build_fabric(s, w->kernel, w->pool, error);
  if (!w->fabric) {
    error = "topology.fabric: " + error;
    return nullptr;
  }
  for (std::size_t i = 0; i < w->fabric->link_count(); ++i) w->link_names.push_back(w->fabric->link(i).name());

  for (std::size_t i = 0; i < s.hosts.size(); ++i) {
    w->hosts.push_back(std::make_unique<models::Host>(s.hosts[i].name, static_cast<uint32_t>(i),
                                                      to_host_params(s.hosts[i], replays_flow_logs(s)), w->kernel, w->pool,
                                                      w->vms, *w->fabric, w->cost));
  }

  w->controller = make_controller(s, error);
  if (!w->controller) return nullptr;
  RuleTableCache tables;
  for (models::VmIndex v = 0; v < w->vms.size(); ++v) {
    dfw::RuleTablePtr rules = tables.compile(w->controller->port_spec(v), error);
    if (!rules) {
      error = "policy: rules of vm " + w->vms[v].name + ": " + error;
      return nullptr;
    }
    dfw::Status st = w->hosts[w->vms[v].host]->add_vm(v, std::move(rules));
    if (!st) {
      error = "vm " + w->vms[v].name + ": " + st.message();
      return nullptr;
    }
  }
  w->distinct_rule_tables = tables.size();
  w->control_plane = std::make_unique<DirectControlPlane>(*w);

  if (!build_traffic(s, *w, error)) return nullptr;
  exit_code = 0;
  return w;
}

}  // namespace scenarios
