#pragma once
// A VM's transport stack: TCP (NewReno) and open-loop UDP over real header bytes.
//
// One TransportStack per VM. It is the VM's PacketReceiver (constructing it sets
// Vm::receiver) and sends through Vm::transmitter (set by the VM's host). It is a kernel entity
// named "transport/<vm name>": its timers run as that entity, and flows must be started from an
// event targeted at entity() (the flow generators do this) or before the run.
//
// TCP model (docs/traffic.md has the details and the differences from Linux):
//   - Three-way handshake with MSS and window-scale options; SYN retries with exponential backoff
//     from initial_rto, then the flow fails (failed_timeout); a RST (or ICMP unreachable) during
//     the handshake fails it at once (failed_rejected).
//   - Reno/NewReno congestion control, cwnd in bytes, initial window 10 MSS, byte-counting slow
//     start, congestion avoidance of one MSS per cwnd acknowledged, fast retransmit on three
//     duplicate ACKs with NewReno fast recovery (RFC 6582), RTO per RFC 6298 (min/max RTO are
//     parameters) with exponential backoff and go-back-N after a timeout.
//   - Segmentation offload: data leaves as super-packets of up to segment_size payload bytes
//     (rounded down to whole MSS, and so that the IP length field fits), segment_count =
//     ceil(payload / MSS). The receiver acknowledges each arriving (super-)packet; an
//     out-of-order arrival is answered with one duplicate-ACK packet whose segment_count is the
//     number of segments it carried, and the sender counts that many duplicate ACKs (what a
//     receiver without GRO would have sent, one ACK per segment).
//   - The receiver reads instantly, so the advertised window is always receive_buffer (scaled);
//     out-of-order data inside that window is kept as up to kMaxOutOfOrderRanges ranges (a
//     segment that would need more is dropped).
//   - Close: the client sends FIN after its last data byte; the server answers with FIN|ACK at
//     once (it has nothing to send), the client ACKs and stays in TIME_WAIT for `time_wait`.
//   - Flows are one-way: the active opener (client) sends `size` bytes to the passive opener.
//     Every stack accepts connections on every port.
//   - TCP small queues: a connection sends no new data while small_queue_limit bytes of its data
//     wait in the vNIC queue; the stack is its VM's Vm::transmit_listener and resumes the
//     connection when the host reports them gone (so TCP does not overrun the vNIC queue).
//
// Allocation: packets come from the PacketPool; connections and UDP flows live in indexed slot
// vectors with free lists, found through a flat hash map; timers are kernel events with 16-byte
// closures. Nothing allocates per packet once the tables have grown to the working set.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/headers.h"
#include "models/packet.h"
#include "models/traffic/flow_records.h"
#include "models/vm.h"
#include "sim/kernel.h"
#include "sim/units.h"

namespace models::traffic {

struct TcpParams {
  uint32_t mss = 1460;                         // payload bytes per wire segment (1500-byte MTU)
  uint32_t initial_window_segments = 10;       // RFC 6928
  sim::Bytes segment_size{64 * 1024};          // largest super-packet payload (offload)
  sim::Bytes receive_buffer{4 * 1024 * 1024};  // advertised receive window
  sim::Time initial_rto = sim::Seconds(1);     // RFC 6298 (also the SYN timeout)
  sim::Time min_rto = sim::Millis(200);        // Linux default; datacenters often use 1ms-10ms
  sim::Time max_rto = sim::Seconds(120);       // Linux TCP_RTO_MAX
  uint32_t syn_retries = 6;                    // Linux tcp_syn_retries
  uint32_t synack_retries = 5;                 // Linux tcp_synack_retries
  uint32_t data_retries = 15;                  // Linux tcp_retries2
  bool delayed_ack = false;                    // ACK every packet, or every 2nd full segment
  sim::Time delayed_ack_timeout = sim::Millis(40);
  sim::Time time_wait = sim::Seconds(1);       // Linux holds 60s; shorter keeps memory bounded
  // TCP small queues (Linux tcp_limit_output_bytes): a connection stops sending new data while
  // this many wire bytes of its packets wait in the VM's vNIC queue, and resumes when they leave.
  // Two 64 KiB super-packets by default; 0 turns the limit off.
  sim::Bytes small_queue_limit{128 * 1024};
};

struct UdpParams {
  uint32_t payload_size = 1472;                   // per datagram: 1500-byte IPv4 packets
  sim::DataRate rate = sim::DataRate::gbps(1);    // per flow, counting wire bytes
  bool poisson = false;                           // exponential gaps instead of constant ones
};

struct TransportParams {
  TcpParams tcp;
  UdpParams udp;
  uint16_t first_ephemeral_port = 49152;
  uint16_t last_ephemeral_port = 65535;
};

// Checks the parameters a runner got from a scenario; on error names the field. A stack given
// invalid parameters clamps them into range instead (it never fails at run time).
bool validate_transport_params(const TransportParams& params, std::string& error);

// Counters of one stack, in packets (not segments) unless named otherwise.
struct TransportStats {
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
  uint64_t packets_not_sent_no_vnic = 0;   // Vm::transmitter was null
  uint64_t packets_unparsable = 0;
  uint64_t packets_unmatched = 0;          // no connection (answered with RST for TCP)
  uint64_t resets_sent = 0;
  uint64_t connections_opened = 0;         // active and passive
  uint64_t connections_closed = 0;
  uint64_t segments_retransmitted = 0;
  uint64_t timeouts = 0;                   // RTO expiries (SYN included)
  uint64_t fast_retransmits = 0;
  uint64_t flows_aborted = 0;              // open flows ended by abort_all (both protocols)
  uint64_t packets_while_down = 0;         // arrived between abort_all and restart (discarded)
};

class ConnectionMap;
class TcpEngine;

class TransportStack final : public PacketReceiver, public TransmitListener {
 public:
  static constexpr uint32_t kMaxOutOfOrderRanges = 8;

  // Registers the entity "transport/<vm name>" and sets vms[vm].receiver = this. The kernel, VM
  // table, pool and records must outlive the stack.
  TransportStack(sim::Kernel& kernel, VmTable& vms, VmIndex vm, PacketPool& pool,
                 FlowRecords& records, const TransportParams& params);
  ~TransportStack() override;
  TransportStack(const TransportStack&) = delete;
  TransportStack& operator=(const TransportStack&) = delete;

  sim::EntityId entity() const { return entity_; }
  VmIndex vm() const { return vm_; }

  // Opens a flow to `destination` now and returns its record id. The flow's record is finished
  // at once (no_ephemeral_port) if every ephemeral port to that destination is in use.
  FlowId start_tcp_flow(VmIndex destination, uint16_t destination_port, uint64_t size,
                        bool ipv6 = false);
  FlowId start_udp_flow(VmIndex destination, uint16_t destination_port, uint64_t size,
                        bool ipv6 = false);

  // The VM died (its host crashed): what a guest OS losing power does to its sockets. Every open
  // flow this VM started ends now as failed_aborted with `reason` (vm_crashed); every TCP
  // connection (either side, TIME_WAIT included) and UDP flow is freed with its timers
  // cancelled, so no event of the old stack fires afterwards. Flows whose client is a peer are
  // not finished here: the peer's TCP finds out the way real TCP would (docs/failures.md).
  // Until restart(), the stack discards arriving packets and new flows end at once as
  // failed_aborted/source_vm_down. Returns the number of connections and UDP flows freed.
  std::size_t abort_all(FlowReason reason);
  // The VM boots again (HA restart, reboot): the stack accepts traffic with empty tables — the
  // fresh stack of a rebooted guest (its counters and ephemeral-port cursor carry on).
  void restart();
  bool down() const { return down_; }

  // PacketReceiver: takes ownership.
  void receive(Packet* packet) override;
  // TransmitListener: a TCP data packet left the vNIC queue (TCP small queues).
  void transmit_completed(const Packet& packet) override;

  const TransportStats& stats() const { return stats_; }
  std::size_t live_tcp_connection_count() const;
  std::size_t live_udp_flow_count() const;
  const TransportParams& params() const { return params_; }

  // The TCP half (models/traffic/tcp_engine.h) shares the stack's I/O, tables and counters.
  friend class TcpEngine;

 private:
  struct UdpFlow {
    FlowId flow = 0;
    FiveTuple tuple;
    L2Addresses l2;
    VmIndex peer = kNoVm;
    uint64_t remaining = 0;      // payload bytes still to send
    uint32_t generation = 0;     // bumps when the slot is freed, so stale timers do nothing
    sim::EventId timer;
    bool live = false;
  };
  static constexpr uint32_t kUdpTag = 0x80000000u;  // map values: UDP slots have this bit set

  bool choose_ephemeral_port(const IpAddress& remote, uint16_t remote_port, uint8_t protocol,
                             uint16_t& port);
  bool fill_tuple(VmIndex destination, uint16_t destination_port, uint8_t protocol, bool ipv6,
                  FiveTuple& tuple, L2Addresses& l2) const;
  void transmit(Packet* packet);
  void receive_tcp(Packet* packet, const ParsedFrame& frame);
  void receive_udp(Packet* packet, const ParsedFrame& frame);
  void receive_icmp(const ParsedFrame& frame);
  void send_reset_for(const Packet& cause, const ParsedFrame& frame);
  void udp_send_next(uint32_t index, uint32_t generation);
  void free_udp(uint32_t index);

  sim::Kernel& kernel_;
  VmTable& vms_;
  VmIndex vm_;
  PacketPool& pool_;
  FlowRecords& records_;
  TransportParams params_;
  sim::EntityId entity_;
  sim::Rng rng_;
  std::unique_ptr<ConnectionMap> map_;
  std::unique_ptr<TcpEngine> tcp_;
  std::vector<UdpFlow> udp_flows_;
  std::vector<uint32_t> free_udp_;
  std::size_t live_udp_ = 0;
  uint16_t next_ephemeral_port_;
  bool down_ = false;  // between abort_all() and restart()
  TransportStats stats_;
};

}  // namespace models::traffic
