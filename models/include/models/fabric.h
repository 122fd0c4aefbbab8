#pragma once
// The datacenter fabric as hosts see it: one interface, several providers (the packet-level
// SwitchedFabric here; an ns-3 fabric later). A host hands packets to send_from_host(); the
// fabric delivers them, as an event of the destination host's entity, to
// HostPort::receive_from_fabric(). Routing is by Packet::destination_vm: the fabric keeps the
// directory of which host each VM runs on (the switches' MAC tables, installed by the builder)
// and move_vm() updates it as a gratuitous ARP after a migration would.
//
// Lifecycle: build (a builder in switched_fabric.h), attach every host, run, sample.

#include <cstdint>
#include <string>

#include "models/link.h"
#include "models/packet.h"
#include "sim/kernel.h"

namespace models {

// What a host offers the fabric: the receive side of its NIC.
class HostPort {
 public:
  virtual ~HostPort() = default;
  // Takes ownership of `packet`, which arrived from the host's uplink `uplink`.
  virtual void receive_from_fabric(Packet* packet, uint32_t uplink) = 0;
};

class Fabric {
 public:
  virtual ~Fabric() = default;

  virtual uint32_t host_count() const = 0;
  // Connects host `host` (its entity receives the deliveries). Every host must be attached
  // before the first packet is sent.
  virtual void attach_host(uint32_t host, HostPort& port, sim::EntityId entity) = 0;

  // Takes ownership of `packet` from host `host` and carries it toward the host of
  // packet->destination_vm; the host's uplink is chosen by Packet::flow_hash (active/active).
  // Drops (queue full, no route, link down) are counted by the fabric and release the packet.
  virtual void send_from_host(uint32_t host, Packet* packet) = 0;

  // The VM directory: where each VM runs. move_vm models a gratuitous ARP flooded at once.
  virtual void set_vm_host(VmIndex vm, uint32_t host) = 0;
  void move_vm(VmIndex vm, uint32_t host) { set_vm_host(vm, host); }

  // Links, for sampling and failure injection. Indices are dense and stable.
  virtual std::size_t link_count() const = 0;
  virtual Link& link(std::size_t index) = 0;
  // Packets dropped by switches for lack of a route (unknown VM, unreachable host).
  virtual uint64_t no_route_drops() const = 0;
};

}  // namespace models
