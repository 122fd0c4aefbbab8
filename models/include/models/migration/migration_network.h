#pragma once
// Live-migration streams between hosts: the vMotion traffic of each migration, as real packets
// on the simulated fabric, competing with the VMs' traffic in the same link queues.
//
// Each host gets a vmkernel interface: a fabric directory address past the VMs (first_address +
// host index) whose packets the host hands to this network instead of its vSwitch
// (Host::set_host_stack). A Stream carries bytes from one host to another as one TCP flow
// (port 8000, as vMotion; one flow hash, so one ECMP path), in super-packets of up to 44 MSS:
//  - paced at the stream's rate limit (the configured migration bandwidth), and
//  - under congestion control, as the real stream's TCP: a congestion window (slow start from
//    two super-packets, then one super-packet per window delivered), halved at most once per
//    window when an arrival carries an ECN mark (a queue above its ECN threshold), back to one
//    super-packet after a timeout; never more than `window` bytes in flight. So streams that
//    share a link share it instead of overflowing its queue.
// Acknowledgements are not modelled as packets (they are ~1/40 of the data): an arrival
// acknowledges its bytes at once. A super-packet the fabric drops is noticed when nothing has
// arrived for `retransmit_timeout`; everything in flight is then sent again (go-back-N), and a
// late arrival of the older copy is ignored. Every transfer therefore completes unless the path
// stays broken.
//
// Threading: sender events run as the kernel entity "migration"; arrivals run as the destination
// host's entity and update the sender directly (the sequential kernel allows it; a partitioned
// kernel would carry the acknowledgement as an event).

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "models/fabric.h"
#include "models/host.h"
#include "models/packet.h"
#include "sim/kernel.h"
#include "sim/units.h"

namespace models::migration {

struct StreamParams {
  sim::DataRate rate = sim::DataRate::gbps(10);       // bits/s of wire bytes, pacing limit
  sim::Bytes window{4 * 1024 * 1024};                 // bytes of payload in flight at most (cap of cwnd)
  sim::Time retransmit_timeout = sim::Millis(10);     // ns without progress before resending
};

struct StreamStats {
  uint64_t payload_bytes = 0;        // bytes delivered (what was asked for)
  uint64_t wire_bytes = 0;           // bytes put on the wire, retransmissions included
  uint64_t packets = 0;              // super-packets sent
  uint64_t retransmitted_bytes = 0;  // payload bytes sent again after a timeout
  uint64_t timeouts = 0;
  uint64_t ecn_reductions = 0;       // congestion window halvings on ECN marks
};

class MigrationNetwork {
 public:
  class Stream;
  // Gives every host of `hosts` (index = host index) its vmkernel address and receive hook.
  MigrationNetwork(sim::Kernel& kernel, PacketPool& pool, Fabric& fabric, std::vector<Host*> hosts,
                   VmIndex first_address);
  ~MigrationNetwork();
  MigrationNetwork(const MigrationNetwork&) = delete;
  MigrationNetwork& operator=(const MigrationNetwork&) = delete;

  VmIndex address(uint32_t host) const { return first_address_ + host; }
  // A stream from host `from` to host `to`; lives as long as the network.
  Stream& open(uint32_t from, uint32_t to, const StreamParams& params);

 private:
  class Endpoint;
  void arrived(Packet* packet);
  uint64_t tag(const Packet& packet) const;
  void set_tag(const Packet& packet, uint64_t tag);

  sim::Kernel& kernel_;
  PacketPool& pool_;
  Fabric& fabric_;
  std::vector<Host*> hosts_;
  VmIndex first_address_;
  sim::EntityId entity_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::vector<std::unique_ptr<Stream>> streams_;
  // Which stream and epoch each in-flight descriptor belongs to, by PacketPool index: the
  // descriptor carries nothing of ours, and a dropped one is simply overwritten when reused.
  std::vector<uint64_t> tags_;
};

class MigrationNetwork::Stream {
 public:
  // Sends `bytes` of payload; `done` runs (as an event) once all of them have arrived. One
  // transfer at a time: a transfer started while another is under way is a programming error.
  void transfer(uint64_t bytes, std::function<void()> done);
  bool busy() const { return target_ > delivered_; }
  // Abandons the current transfer (a host of the migration failed): its continuation never runs
  // (unless already scheduled: callers check their own state), nothing more is sent, copies in
  // flight are ignored; pending pacing and timeout events find nothing to do.
  void cancel();
  const StreamStats& stats() const { return stats_; }

 private:
  friend class MigrationNetwork;
  Stream(MigrationNetwork& network, uint32_t id, uint32_t from, uint32_t to, const StreamParams& params);
  void pump();
  void send_one(uint64_t payload);
  void arrived(uint32_t epoch, uint64_t payload, bool ecn_marked);
  void arm_timeout();
  void on_timeout();
  void finish();

  MigrationNetwork& net_;
  uint32_t id_;
  uint32_t from_;
  uint32_t to_;
  StreamParams params_;
  uint64_t target_ = 0;     // payload bytes of the current transfer
  uint64_t delivered_ = 0;
  uint64_t unsent_ = 0;     // still to put on the wire (new or to resend)
  uint64_t in_flight_ = 0;
  uint32_t epoch_ = 0;      // bumps at each timeout: older copies no longer count
  uint64_t cwnd_ = 0;       // congestion window, payload bytes
  uint64_t ssthresh_ = 0;
  uint64_t total_delivered_ = 0;  // over all transfers
  uint64_t reduce_guard_ = 0;     // no further ECN halving before total_delivered_ passes it
  sim::Time next_send_;     // pacing: when the wire is free for the next super-packet
  sim::Time last_progress_;
  bool pump_scheduled_ = false;
  bool timeout_armed_ = false;
  std::function<void()> done_;
  StreamStats stats_;
};

}  // namespace models::migration
