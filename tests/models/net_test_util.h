#pragma once
// Helpers shared by the models/net tests: a receiver that records arrivals, packet factories.

#include <cstdint>
#include <vector>

#include "models/link.h"
#include "models/packet.h"
#include "sim/kernel.h"

namespace models::testing {

// Records every arrival (time, port, wire size, flags) and returns the packet to the pool.
class RecordingReceiver final : public LinkReceiver {
 public:
  struct Arrival {
    int64_t time_ns;
    uint32_t port;
    uint32_t wire_size;
    bool ecn_marked;
    uint64_t flow_hash;
  };
  RecordingReceiver(sim::Kernel& kernel, PacketPool& pool) : kernel_(kernel), pool_(pool) {}
  void receive_from_link(Packet* packet, uint32_t port) override {
    arrivals.push_back({kernel_.now().ns(), port, packet->wire_size, packet->ecn_marked,
                        packet->flow_hash});
    pool_.release(packet);
  }
  std::vector<Arrival> arrivals;

 private:
  sim::Kernel& kernel_;
  PacketPool& pool_;
};

inline Packet* make_packet(PacketPool& pool, uint32_t wire_size, uint64_t flow_hash = 0,
                           VmIndex destination = kNoVm) {
  Packet* p = pool.allocate();
  p->header_size = 0;
  p->wire_size = wire_size;
  p->segment_count = 1;
  p->flow_hash = flow_hash;
  p->destination_vm = destination;
  p->ecn_marked = false;
  return p;
}

}  // namespace models::testing
