#pragma once
// The TCP half of a TransportStack: connection slots, the state machine, NewReno congestion
// control and the RFC 6298 retransmission timer. Private to models/traffic.
//
// Sequence space. Each direction is kept as 64-bit offsets from its initial sequence number: the
// SYN is offset 0, data bytes are offsets 1..size, the FIN is offset size + 1. The wire carries
// iss + offset modulo 2^32; flows are limited to kMaxFlowSize so that a 32-bit difference maps
// back to an offset unambiguously.
//
// Files: tcp_engine.cc (slots, open/accept, output, timers), tcp_input.cc (segment arrival,
// ACK processing, congestion control, reassembly).

#include <array>
#include <cstdint>
#include <vector>

#include "models/headers.h"
#include "models/traffic/transport_stack.h"
#include "sim/event_queue.h"

namespace models::traffic {

inline constexpr uint64_t kMaxFlowSize = uint64_t{1} << 31;

enum class TcpState : uint8_t {
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kClosing,
  kTimeWait,
  kCloseWait,
  kLastAck,
};

struct TcpConnection {
  // Identity.
  FiveTuple tuple;  // local endpoint as source
  L2Addresses l2;
  VmIndex peer = kNoVm;
  uint32_t flow = kNoFlow;  // record to update; kNoFlow for a foreign passive connection
  uint32_t generation = 0;
  bool live = false;
  bool is_client = false;
  TcpState state = TcpState::kSynSent;

  // Send side, in offsets from iss.
  uint32_t iss = 0;
  uint64_t data_size = 0;        // bytes this side sends (servers: 0)
  uint64_t snd_una = 0;
  uint64_t snd_nxt = 0;
  uint64_t snd_max = 0;          // highest offset ever sent + 1
  bool close_requested = false;  // send FIN after the data
  bool completed = false;        // every data byte acknowledged (recorded once)
  uint32_t mss = 0;              // effective: min(ours, peer's)
  uint64_t cwnd = 0;
  uint64_t ssthresh = 0;
  uint64_t bytes_acked_in_ca = 0;
  uint64_t peer_window = 0;      // bytes, already scaled
  uint32_t dupacks = 0;
  bool in_recovery = false;
  uint64_t recover = 0;          // NewReno: snd_max when loss recovery began
  uint64_t bytes_below = 0;      // TCP small queues: wire bytes of our data still in the vNIC
  bool small_queue_throttled = false;  // try_send stopped at the limit; a completion resumes it
  uint8_t snd_wscale = 0;        // shift applied to windows the peer advertises
  uint8_t rcv_wscale = 0;        // shift applied to windows we advertise
  bool peer_offered_wscale = false;  // the peer's SYN carried the option (passive side)
  bool syn_retransmitted = false;

  // Retransmission timer (RFC 6298), nanoseconds.
  int64_t srtt = 0;
  int64_t rttvar = 0;
  int64_t rto = 0;
  bool have_rtt = false;
  bool rtt_timing = false;
  uint64_t rtt_end = 0;          // the sample completes when snd_una reaches this offset
  sim::Time rtt_start;
  uint32_t backoff = 0;          // consecutive timeouts
  sim::EventId rto_timer;        // also the TIME_WAIT timer
  sim::EventId delack_timer;

  // Receive side, in offsets from irs.
  uint32_t irs = 0;
  uint64_t rcv_nxt = 0;
  uint32_t segments_unacked = 0;  // for delayed ACKs
  struct Range {
    uint64_t begin, end;
  };
  std::array<Range, TransportStack::kMaxOutOfOrderRanges> out_of_order{};
  uint8_t out_of_order_count = 0;
};

class TcpEngine {
 public:
  explicit TcpEngine(TransportStack& stack);
  TcpEngine(const TcpEngine&) = delete;
  TcpEngine& operator=(const TcpEngine&) = delete;
  ~TcpEngine();

  // Active open; the tuple's source port is already chosen and the record exists.
  void open(uint32_t flow, VmIndex peer, const FiveTuple& tuple, const L2Addresses& l2,
            uint64_t size);
  // A SYN for no existing connection: passive open.
  void accept(Packet* syn, const ParsedFrame& frame);
  // A segment for connection `index`. Does not take the packet.
  void on_segment(uint32_t index, const Packet& packet, const ParsedFrame& frame);
  // An ICMP destination-unreachable quoting connection `index`.
  void on_unreachable(uint32_t index);
  // A data packet of connection `index` left the vNIC queue (or was dropped before it did).
  void on_transmit_completed(uint32_t index, uint32_t generation, uint32_t wire_size);

  // The VM died: ends every live connection (client flows as failed_aborted/`reason`), frees
  // them and cancels their timers. Returns how many there were.
  std::size_t abort_all(FlowReason reason);

  std::size_t live_count() const { return live_; }

 private:
  // tcp_engine.cc
  uint32_t allocate();
  void release(uint32_t index);
  void fail(uint32_t index, FlowOutcome outcome, FlowReason reason);
  // Sends one segment; `ack_count` > 1 makes a pure ACK stand for that many identical ACKs.
  void emit(TcpConnection& c, uint8_t flags, uint64_t offset, uint32_t payload,
            uint16_t ack_count = 1);
  void send_ack(TcpConnection& c, uint16_t ack_count);
  void try_send(uint32_t index);
  void retransmit_first(TcpConnection& c);
  void arm_rto(uint32_t index);
  void restart_rto(uint32_t index);
  void on_rto(uint32_t index, uint32_t generation);
  void on_delayed_ack(uint32_t index, uint32_t generation);
  void enter_time_wait(uint32_t index);
  // The TIME_WAIT / FIN_WAIT_2 timer (it shares rto_timer: no retransmission is pending then).
  void arm_close_timer(uint32_t index);
  void update_rtt(TcpConnection& c, sim::Time sample);
  uint64_t advertised_window(const TcpConnection& c) const;
  uint32_t max_burst_payload(const TcpConnection& c) const;
  void note_progress(TcpConnection& c);

  // tcp_input.cc
  void on_syn_ack(uint32_t index, const Packet& packet, const ParsedFrame& frame);
  void on_reset(uint32_t index, const ParsedFrame& frame);
  void process_ack(uint32_t index, const Packet& packet, const ParsedFrame& frame);
  void on_new_ack(uint32_t index, uint64_t acked_to);
  void on_duplicate_ack(uint32_t index, uint16_t count);
  void process_data(uint32_t index, const Packet& packet, const ParsedFrame& frame);
  void on_fin(uint32_t index);
  uint64_t store_out_of_order(TcpConnection& c, uint64_t begin, uint64_t end);
  void merge_out_of_order(TcpConnection& c);

  TransportStack& stack_;
  std::vector<TcpConnection> connections_;
  // Set while emit() hands a packet down: a completion arriving synchronously (the vNIC dropped
  // it at once) must not re-enter try_send() in the middle of the caller's state changes.
  bool emitting_ = false;
  std::vector<uint32_t> free_;
  std::size_t live_ = 0;
};

}  // namespace models::traffic
