#include "models/switched_fabric.h"

#include <deque>
#include <map>
#include <unordered_map>

#include "sim/rng.h"

namespace models {

// Receives on a switch-to-host link and hands the packet to the host, naming the uplink.
class SwitchedFabric::HostAttachment final : public LinkReceiver {
 public:
  HostAttachment(HostPort& port, uint32_t uplink) : port_(port), uplink_(uplink) {}
  void receive_from_link(Packet* packet, uint32_t /*port*/) override {
    port_.receive_from_fabric(packet, uplink_);
  }

 private:
  HostPort& port_;
  uint32_t uplink_;
};

SwitchedFabric::SwitchedFabric(sim::Kernel& kernel, PacketPool& pool)
    : kernel_(kernel), pool_(pool) {}

SwitchedFabric::~SwitchedFabric() = default;

std::size_t SwitchedFabric::find_switch(const std::string& name) const {
  for (std::size_t i = 0; i < switch_names_.size(); ++i)
    if (switch_names_[i] == name) return i;
  return SIZE_MAX;
}

void SwitchedFabric::attach_host(uint32_t host, HostPort& port, sim::EntityId entity) {
  const auto& downlinks = host_downlinks_[host];
  for (uint32_t u = 0; u < downlinks.size(); ++u) {
    attachments_.push_back(std::make_unique<HostAttachment>(port, u));
    downlinks[u]->connect(*attachments_.back(), entity, u);
  }
}

uint32_t SwitchedFabric::choose_uplink(uint32_t host, uint64_t flow_hash) const {
  const auto& uplinks = host_uplinks_[host];
  if (uplinks.size() < 2) return 0;
  // Bonding hashes with the host's index as salt, independent of any switch's choice; a bond
  // whose chosen member is down fails over to the other.
  const uint32_t u = ecmp_select(flow_hash, 0x9E3779B97F4A7C15ULL * (host + 1),
                                 static_cast<uint32_t>(uplinks.size()));
  return uplinks[u]->up() || !uplinks[1 - u]->up() ? u : 1 - u;
}

void SwitchedFabric::send_from_host(uint32_t host, Packet* packet) {
  const auto& uplinks = host_uplinks_[host];
  if (uplinks.empty()) {
    ++host_no_route_drops_;
    if (drop_observer_ != nullptr) drop_observer_->fabric_dropped("fabric", "no_route", host_names_[host], *packet);
    pool_.release(packet);
    return;
  }
  uplinks[choose_uplink(host, packet->flow_hash)]->send(packet);
}

void SwitchedFabric::set_vm_host(VmIndex vm, uint32_t host) {
  if (vm >= vm_hosts_.size()) vm_hosts_.resize(static_cast<std::size_t>(vm) + 1, kNoHost);
  vm_hosts_[vm] = host;
}

void SwitchedFabric::set_drop_observer(FabricDropObserver* observer) {
  drop_observer_ = observer;
  for (auto& link : links_) link->set_drop_observer(observer);
  for (auto& s : switches_) s->set_drop_observer(observer);
}

uint64_t SwitchedFabric::no_route_drops() const {
  uint64_t total = host_no_route_drops_;
  for (const auto& s : switches_) total += s->no_route_drops();
  return total;
}

std::vector<std::string> SwitchedFabric::trace_route(uint32_t source_host, VmIndex destination_vm,
                                                     uint64_t flow_hash) const {
  std::unordered_map<const Link*, LinkEnd> far_end;
  for (std::size_t i = 0; i < links_.size(); ++i) far_end[links_[i].get()] = link_far_end_[i];
  Packet probe;
  probe.destination_vm = destination_vm;
  probe.flow_hash = flow_hash;
  const auto& uplinks = host_uplinks_[source_host];
  if (uplinks.empty()) return {};
  std::vector<std::string> path;
  const Link* link = uplinks[choose_uplink(source_host, flow_hash)];
  for (int hop = 0; hop < 64; ++hop) {
    path.push_back(link->name());
    if (!link->up()) return {};
    const LinkEnd end = far_end.at(link);
    if (end.switch_index == kNoPort) return path;  // reached a host
    const Switch& sw = *switches_[end.switch_index];
    const uint32_t port = sw.select_port(probe);
    if (port == kNoPort) return {};
    link = &sw.port_link(port);
  }
  return {};
}

std::unique_ptr<SwitchedFabric> build_switched_fabric(const FabricGraph& graph,
                                                      sim::Kernel& kernel, PacketPool& pool,
                                                      std::string& error) {
  std::unique_ptr<SwitchedFabric> fabric(new SwitchedFabric(kernel, pool));
  const uint32_t switch_count = static_cast<uint32_t>(graph.switch_names.size());
  const uint32_t host_count = static_cast<uint32_t>(graph.host_names.size());
  const uint32_t node_count = switch_count + host_count;
  auto is_host = [&](uint32_t node) { return node >= switch_count; };

  std::map<std::string, uint32_t> node_by_name;
  for (uint32_t i = 0; i < node_count; ++i) {
    const std::string& name =
        i < switch_count ? graph.switch_names[i] : graph.host_names[i - switch_count];
    if (!node_by_name.emplace(name, i).second) {
      error = "fabric: duplicate node name '" + name + "'";
      return nullptr;
    }
  }

  // Validate everything before creating anything (entities are registered with the kernel).
  std::vector<uint32_t> host_link_counts(host_count, 0);
  for (std::size_t e = 0; e < graph.edges.size(); ++e) {
    const FabricGraph::Edge& edge = graph.edges[e];
    const auto a = node_by_name.find(edge.a);
    const auto b = node_by_name.find(edge.b);
    const std::string where = "fabric.links[" + std::to_string(e) + "]: ";
    if (a == node_by_name.end() || b == node_by_name.end()) {
      error = where + "unknown node '" + (a == node_by_name.end() ? edge.a : edge.b) + "'";
      return nullptr;
    }
    if (is_host(a->second) && is_host(b->second)) {
      error = where + "links two hosts ('" + edge.a + "', '" + edge.b + "'); hosts never forward";
      return nullptr;
    }
    if (a->second == b->second) {
      error = where + "links '" + edge.a + "' to itself";
      return nullptr;
    }
    if (edge.params.rate.bits_per_second() == 0 || edge.params.delay < sim::Time::zero()) {
      error = where + "needs a positive rate and a delay >= 0";
      return nullptr;
    }
    for (uint32_t node : {a->second, b->second})
      if (is_host(node)) ++host_link_counts[node - switch_count];
  }
  for (uint32_t h = 0; h < host_count; ++h) {
    const uint32_t links = host_link_counts[h];
    if (links == 0 && host_count > 1) {
      error = "fabric: host '" + graph.host_names[h] + "' has no link";
      return nullptr;
    }
    if (links > 2) {
      error = "fabric: host '" + graph.host_names[h] + "' has " + std::to_string(links) +
              " links; at most 2 uplinks per host";
      return nullptr;
    }
  }

  std::vector<sim::EntityId> switch_entities;
  for (uint32_t s = 0; s < switch_count; ++s) {
    fabric->switches_.push_back(
        std::make_unique<Switch>(graph.switch_names[s], pool, fabric->vm_hosts_));
    fabric->switch_names_.push_back(graph.switch_names[s]);
    switch_entities.push_back(kernel.add_entity("switch/" + graph.switch_names[s]));
  }
  fabric->host_uplinks_.resize(host_count);
  fabric->host_downlinks_.resize(host_count);

  fabric->switch_count_ = switch_count;
  fabric->host_names_ = graph.host_names;
  fabric->neighbors_.assign(node_count, {});
  fabric->edge_up_.assign(graph.edges.size(), true);
  fabric->edge_own_up_.assign(graph.edges.size(), true);
  fabric->switch_up_.assign(switch_count, true);
  std::map<std::string, int> name_uses;
  auto add_link = [&](uint32_t from, uint32_t to, const LinkParams& params, uint32_t edge) {
    const std::string& from_name = from < switch_count ? graph.switch_names[from]
                                                       : graph.host_names[from - switch_count];
    const std::string& to_name =
        to < switch_count ? graph.switch_names[to] : graph.host_names[to - switch_count];
    std::string name = from_name + "->" + to_name;
    const int uses = name_uses[name]++;
    if (uses > 0) {
      name += '#';
      name += std::to_string(uses);
    }
    fabric->links_.push_back(std::make_unique<Link>(name, params, kernel, pool));
    Link& link = *fabric->links_.back();
    uint32_t port = kNoPort;
    if (is_host(from)) {
      fabric->host_uplinks_[from - switch_count].push_back(&link);
    } else {
      port = fabric->switches_[from]->add_port(link);
    }
    if (is_host(to)) {
      fabric->host_downlinks_[to - switch_count].push_back(&link);
      fabric->link_far_end_.push_back({kNoPort, to - switch_count});
    } else {
      link.connect(*fabric->switches_[to], switch_entities[to], 0);
      fabric->link_far_end_.push_back({to, kNoHost});
    }
    fabric->neighbors_[from].push_back({to, port, edge});
    fabric->edge_links_.push_back(&link);
  };

  for (uint32_t e = 0; e < graph.edges.size(); ++e) {
    const FabricGraph::Edge& edge = graph.edges[e];
    const uint32_t a = node_by_name.at(edge.a);
    const uint32_t b = node_by_name.at(edge.b);
    add_link(a, b, edge.params, e);
    add_link(b, a, edge.params, e);
    fabric->edge_nodes_.emplace_back(a, b);
  }
  if (!fabric->compute_routes(fabric->edge_up_, &error)) return nullptr;
  return fabric;
}

void SwitchedFabric::set_edge_up(std::size_t edge, bool up) {
  edge_own_up_[edge] = up;
  apply_edge_states();
}

void SwitchedFabric::set_switch_up(std::size_t index, bool up) {
  switch_up_[index] = up;
  apply_edge_states();
}

void SwitchedFabric::apply_edge_states() {
  auto node_up = [&](uint32_t node) { return node >= switch_count_ || switch_up_[node]; };
  for (std::size_t e = 0; e < edge_up_.size(); ++e) {
    const bool up = edge_own_up_[e] && node_up(edge_nodes_[e].first) && node_up(edge_nodes_[e].second);
    edge_up_[e] = up;
    edge_links_[2 * e]->set_up(up);
    edge_links_[2 * e + 1]->set_up(up);
  }
  if (reconvergence_delay_ <= sim::Time::zero()) {
    compute_routes(edge_up_, nullptr);
    return;
  }
  // Failures are rare: a copy of the edge states per change is fine.
  pending_routing_.push_back(edge_up_);
  kernel_.schedule(reconvergence_delay_, sim::kWorld, [this] { converge_next(); });
}

void SwitchedFabric::converge_next() {
  // Every change waits the same delay, so they converge in the order they happened.
  compute_routes(pending_routing_.front(), nullptr);
  pending_routing_.pop_front();
}

uint64_t SwitchedFabric::stale_route_drops() const {
  uint64_t total = 0;
  for (const auto& s : switches_) total += s->stale_route_drops();
  return total;
}

std::size_t SwitchedFabric::find_edge(const std::string& a, const std::string& b) const {
  auto name_of = [&](uint32_t node) -> const std::string& {
    return node < switch_count_ ? switch_names_[node] : host_names_[node - switch_count_];
  };
  for (std::size_t e = 0; e < edge_nodes_.size(); ++e) {
    const std::string& x = name_of(edge_nodes_[e].first);
    const std::string& y = name_of(edge_nodes_[e].second);
    if ((x == a && y == b) || (x == b && y == a)) return e;
  }
  return SIZE_MAX;
}

std::vector<std::size_t> SwitchedFabric::switch_edges(std::size_t index) const {
  std::vector<std::size_t> out;
  for (std::size_t e = 0; e < edge_nodes_.size(); ++e)
    if (edge_nodes_[e].first == index || edge_nodes_[e].second == index) out.push_back(e);
  return out;
}

// Shortest paths by hop count toward each host over the edges that are up; hosts are never
// transit nodes. With `unreachable` set, a host pair without a path is an error (build time);
// otherwise such pairs just get no route (their packets are dropped as no_route).
bool SwitchedFabric::compute_routes(const std::vector<bool>& up, std::string* unreachable) {
  const uint32_t host_count = static_cast<uint32_t>(host_names_.size());
  const auto node_count = static_cast<uint32_t>(neighbors_.size());
  auto is_host = [&](uint32_t node) { return node >= switch_count_; };
  std::vector<std::vector<std::vector<uint32_t>>> routes(
      switch_count_, std::vector<std::vector<uint32_t>>(host_count));
  std::vector<int> dist(node_count);
  std::deque<uint32_t> frontier;
  for (uint32_t h = 0; h < host_count; ++h) {
    const uint32_t target = switch_count_ + h;
    std::fill(dist.begin(), dist.end(), -1);
    dist[target] = 0;
    frontier.assign(1, target);
    while (!frontier.empty()) {
      const uint32_t u = frontier.front();
      frontier.pop_front();
      for (const Adjacent& n : neighbors_[u]) {
        if (!up[n.edge] || is_host(n.node) || dist[n.node] >= 0) continue;
        dist[n.node] = dist[u] + 1;
        frontier.push_back(n.node);
      }
    }
    for (uint32_t s = 0; s < switch_count_; ++s) {
      if (dist[s] < 0) continue;
      for (const Adjacent& n : neighbors_[s])
        if (up[n.edge] && dist[n.node] == dist[s] - 1) routes[s][h].push_back(n.port);
    }
    if (unreachable == nullptr) continue;
    for (uint32_t g = 0; g < host_count; ++g) {
      if (g == h) continue;
      for (const Adjacent& n : neighbors_[switch_count_ + g]) {
        if (dist[n.node] < 0) {
          *unreachable = "fabric: no path from host '" + host_names_[g] + "' (via '" +
                         switch_names_[n.node] + "') to host '" + host_names_[h] + "'";
          return false;
        }
      }
    }
  }
  for (uint32_t s = 0; s < switch_count_; ++s) switches_[s]->set_routes(routes[s]);
  return true;
}

}  // namespace models
