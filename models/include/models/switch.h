#pragma once
// An output-queued Ethernet switch of the packet-level fabric.
//
// Forwarding is by destination VM: the VM directory (shared, owned by the fabric) names the host
// a VM runs on, and the switch's table names the equal-cost output ports toward each host (the
// builder installs them from shortest paths). Together they are the switch's MAC table with
// every entry resolved; a migration updates the directory (Fabric::move_vm) the way a gratuitous
// ARP updates every switch's table. Among equal-cost ports the switch picks one by ECMP over
// Packet::flow_hash mixed with a per-switch salt, so a flow keeps its path and different layers
// of switches do not make correlated choices (hash polarization).
//
// The switch adds no delay of its own: store and forward is modelled by the links (a packet is
// forwarded once its last bit has arrived), and each output port's queue is the link's.

#include <cstdint>
#include <string>
#include <vector>

#include "models/link.h"
#include "models/packet.h"

namespace models {

inline constexpr uint32_t kNoHost = UINT32_MAX;
inline constexpr uint32_t kNoPort = UINT32_MAX;

class Switch final : public LinkReceiver {
 public:
  // `vm_hosts[vm]` is the host VM `vm` runs on (kNoHost: nowhere); it outlives the switch.
  Switch(std::string name, PacketPool& pool, const std::vector<uint32_t>& vm_hosts);
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  const std::string& name() const { return name_; }

  // Adds an output port feeding `link` (owned by the fabric); returns the port's index.
  uint32_t add_port(Link& link);
  std::size_t port_count() const { return ports_.size(); }
  Link& port_link(uint32_t port) { return *ports_[port]; }
  const Link& port_link(uint32_t port) const { return *ports_[port]; }

  // Installs the forwarding table: ports_by_host[h] are the equal-cost ports toward host h
  // (empty: unreachable). Replaces the previous table.
  void set_routes(const std::vector<std::vector<uint32_t>>& ports_by_host);
  // The equal-cost ports toward `host`.
  std::vector<uint32_t> routes_to(uint32_t host) const;

  // The output port this switch would pick for `packet`, or kNoPort if it has no route.
  uint32_t select_port(const Packet& packet) const;

  void receive_from_link(Packet* packet, uint32_t in_port) override;

  uint64_t no_route_drops() const { return no_route_drops_; }     // packets
  uint64_t forwarded_packets() const { return forwarded_packets_; }  // packets
  // Routed onto a port whose link is down (routes not reconverged yet; switched_fabric.h).
  uint64_t stale_route_drops() const { return stale_route_drops_; }  // packets

  // Told of every packet this switch drops (fabric_drop_observer.h); nullptr: nobody.
  void set_drop_observer(FabricDropObserver* observer) { drop_observer_ = observer; }

 private:
  std::string name_;
  PacketPool& pool_;
  const std::vector<uint32_t>& vm_hosts_;
  uint64_t ecmp_salt_;
  std::vector<Link*> ports_;
  // Flat table: the ports toward host h are route_ports_[route_offsets_[h] .. route_offsets_[h+1]).
  std::vector<uint32_t> route_offsets_;
  std::vector<uint32_t> route_ports_;
  uint64_t no_route_drops_ = 0;
  uint64_t forwarded_packets_ = 0;
  uint64_t stale_route_drops_ = 0;
  FabricDropObserver* drop_observer_ = nullptr;
};

// ECMP choice among `count` equal-cost next hops: a full-avalanche mix of the flow hash and a
// per-switch salt, reduced without modulo bias. Exposed for the hosts' uplink choice and tests.
uint32_t ecmp_select(uint64_t flow_hash, uint64_t salt, uint32_t count);

}  // namespace models
