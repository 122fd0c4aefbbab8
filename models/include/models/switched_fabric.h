#pragma once
// The packet-level fabric: switches and links built from a topology graph, routed by shortest
// paths (hop count) with ECMP over every equal-cost next hop.
//
// Topologies. Every builder produces a FabricGraph (named switches, hosts, and bidirectional
// edges with link parameters) and build_switched_fabric() turns it into switches and links:
//  - leaf_spine_graph: `leaves` leaf switches, each with `hosts_per_leaf` hosts, fully meshed to
//    `spines` spine switches. With uplinks_per_host = 2 a host is dual-homed: one link to its
//    leaf and one to the partner leaf (index xor 1; leaves must be even), an active/active bond
//    (MLAG-style); the host picks one per flow by flow hash, and spines reach it via either leaf.
//  - star_graph: one switch, every host on it.
//  - any FabricGraph written by hand (the scenario's `graph` kind).
// Hosts never forward: a route never transits a host. Each edge becomes two links (one per
// direction), each with the output queue of the port that feeds it.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "models/fabric.h"
#include "models/link.h"
#include "models/switch.h"

namespace models {

struct FabricGraph {
  struct Edge {
    std::string a;  // node names: a switch or a host
    std::string b;
    LinkParams params;
  };
  std::vector<std::string> switch_names;
  std::vector<std::string> host_names;  // index in this list = host index
  std::vector<Edge> edges;
};

struct LeafSpineParams {
  uint32_t leaves = 2;            // count of leaf (top-of-rack) switches
  uint32_t spines = 2;            // count of spine switches
  uint32_t hosts_per_leaf = 2;    // count
  uint32_t uplinks_per_host = 1;  // count, 1 or 2 (active/active to the host's leaf and its partner)
  LinkParams host_link;           // host <-> leaf
  LinkParams fabric_link{sim::DataRate::gbps(40), sim::Micros(1), sim::Bytes{1024 * 1024}, {}};

  // Host-facing capacity over spine-facing capacity of one leaf (1.0: non-blocking).
  double oversubscription() const;
};

struct StarParams {
  uint32_t uplinks_per_host = 1;  // count, 1 or 2
  LinkParams host_link;
};

// `host_names` gives the hosts in host-index order; a leaf-spine needs leaves x hosts_per_leaf of
// them (host i sits on leaf i / hosts_per_leaf). On a parameter error returns false with `error`.
bool leaf_spine_graph(const LeafSpineParams& params, const std::vector<std::string>& host_names,
                      FabricGraph& out, std::string& error);
bool star_graph(const StarParams& params, const std::vector<std::string>& host_names,
                FabricGraph& out, std::string& error);

class SwitchedFabric final : public Fabric {
 public:
  ~SwitchedFabric() override;

  uint32_t host_count() const override { return static_cast<uint32_t>(host_uplinks_.size()); }
  void attach_host(uint32_t host, HostPort& port, sim::EntityId entity) override;
  void send_from_host(uint32_t host, Packet* packet) override;
  void set_vm_host(VmIndex vm, uint32_t host) override;
  std::size_t link_count() const override { return links_.size(); }
  Link& link(std::size_t index) override { return *links_[index]; }
  uint64_t no_route_drops() const override;

  // Installs `observer` (nullptr: none) on every link and switch, and for hosts without an
  // uplink: it hears of every packet the fabric drops (fabric_drop_observer.h).
  void set_drop_observer(FabricDropObserver* observer);

  std::size_t switch_count() const { return switches_.size(); }
  Switch& switch_at(std::size_t index) { return *switches_[index]; }
  // The index of the named switch, or SIZE_MAX.
  std::size_t find_switch(const std::string& name) const;
  // The host's uplinks (host -> switch links), in edge order.
  const std::vector<Link*>& uplinks(uint32_t host) const { return host_uplinks_[host]; }
  uint32_t vm_host(VmIndex vm) const { return vm < vm_hosts_.size() ? vm_hosts_[vm] : kNoHost; }

  // Edges (cables) in FabricGraph::edges order. Taking one down downs both its links (losing
  // what they carried, link.h) and recomputes every switch's routes around it (as a routing
  // protocol would converge, at once): ECMP then spreads over the live next hops only, and
  // bonded hosts fail over to their other uplink. Host pairs left without a path get no route
  // (a host whose only uplink is down is cut off). edge_up() is the effective state: the edge's
  // own (set_edge_up) and both its ends' (set_switch_up).
  std::size_t edge_count() const { return edge_up_.size(); }
  bool edge_up(std::size_t edge) const { return edge_up_[edge]; }
  void set_edge_up(std::size_t edge, bool up);
  // The edge joining nodes `a` and `b` (switch or host names, either order), or SIZE_MAX.
  std::size_t find_edge(const std::string& a, const std::string& b) const;
  // The two links of an edge: direction 0 is a->b as written in the graph, 1 is b->a.
  Link& edge_link(std::size_t edge, int direction) { return *edge_links_[2 * edge + direction]; }

  // Routing reconvergence (docs/failures.md). Links change state at once (a dead cable carries
  // nothing), but the switches' routes follow `delay` later — failure detection (BFD, hold
  // timers) plus BGP updates. Meanwhile a switch still hashes packets onto a next hop whose link
  // is down: they are dropped there as stale_route. Each change is applied with the edge states
  // it saw (a later failure inside the window waits for its own delay). Zero (the default)
  // recomputes at once.
  void set_reconvergence_delay(sim::Time delay) { reconvergence_delay_ = delay; }
  sim::Time reconvergence_delay() const { return reconvergence_delay_; }
  uint64_t stale_route_drops() const;

  // Switch failure: every edge of the switch goes down (as above) until it recovers; edges that
  // were set down on their own stay down after the recovery.
  bool switch_up(std::size_t index) const { return switch_up_[index]; }
  void set_switch_up(std::size_t index, bool up);
  // The edges with an end on switch `index`, in edge order.
  std::vector<std::size_t> switch_edges(std::size_t index) const;

  // Follows the path a packet with these fields would take from `source_host` (first uplink
  // choice, then each switch's ECMP choice) and returns the names of the links it crosses.
  // Empty if it would be dropped. For tests and tools; no side effects.
  std::vector<std::string> trace_route(uint32_t source_host, VmIndex destination_vm,
                                       uint64_t flow_hash) const;

 private:
  friend std::unique_ptr<SwitchedFabric> build_switched_fabric(const FabricGraph&, sim::Kernel&,
                                                               PacketPool&, std::string&);
  class HostAttachment;
  struct Adjacent {
    uint32_t node;  // switches first, then hosts
    uint32_t port;  // output port on the switch at this end (unused for hosts)
    uint32_t edge;  // index in FabricGraph::edges
  };
  SwitchedFabric(sim::Kernel& kernel, PacketPool& pool);
  // Routes over the edges marked up in `up` (one entry per edge).
  bool compute_routes(const std::vector<bool>& up, std::string* unreachable);
  // The oldest pending change (set_reconvergence_delay) reaches the switches' tables.
  void converge_next();
  // Sets each edge's effective state from its own and its switches' and reroutes.
  void apply_edge_states();
  uint32_t choose_uplink(uint32_t host, uint64_t flow_hash) const;

  sim::Kernel& kernel_;
  PacketPool& pool_;
  std::vector<uint32_t> vm_hosts_;  // the VM directory switches read
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Switch>> switches_;
  std::vector<std::string> switch_names_;
  std::vector<std::vector<Link*>> host_uplinks_;
  // For each host, the switch-to-host links and the node they come from (for attach_host).
  std::vector<std::vector<Link*>> host_downlinks_;
  std::vector<std::unique_ptr<HostAttachment>> attachments_;
  // Link index -> (switch index, or kNoPort for a host; port index on that switch) for tracing.
  struct LinkEnd {
    uint32_t switch_index;
    uint32_t host_index;
  };
  std::vector<LinkEnd> link_far_end_;
  uint64_t host_no_route_drops_ = 0;
  FabricDropObserver* drop_observer_ = nullptr;
  uint32_t switch_count_ = 0;
  std::vector<std::string> host_names_;
  std::vector<std::vector<Adjacent>> neighbors_;  // per node
  std::vector<bool> edge_up_;        // effective: own state and both ends' switches up
  std::vector<bool> edge_own_up_;    // set_edge_up
  std::vector<bool> switch_up_;      // set_switch_up
  std::vector<std::pair<uint32_t, uint32_t>> edge_nodes_;  // node indices of each edge's ends
  std::vector<Link*> edge_links_;  // 2 per edge: a->b, b->a
  sim::Time reconvergence_delay_ = sim::Time::zero();
  std::deque<std::vector<bool>> pending_routing_;  // edge states of changes not yet converged
};

// Builds switches, links and routes. Every switch gets a kernel entity "switch/<name>". Returns
// nullptr with `error` on an unknown node name, a duplicate name, a host with more than two
// links, a link between two hosts, or a pair of hosts with no path between them.
std::unique_ptr<SwitchedFabric> build_switched_fabric(const FabricGraph& graph,
                                                      sim::Kernel& kernel, PacketPool& pool,
                                                      std::string& error);

}  // namespace models
