// TCP: connection slots, active/passive open, segment output, retransmission and TIME_WAIT timers.
#include "tcp_engine.h"

#include <algorithm>

#include "connection_map.h"

namespace models::traffic {
namespace {

ConnectionKey key_of(const TcpConnection& c) {
  ConnectionKey k;
  k.remote_address = c.tuple.destination.bytes;
  k.remote_port = c.tuple.destination_port;
  k.local_port = c.tuple.source_port;
  k.protocol = kProtocolTcp;
  k.is_v6 = c.tuple.destination.is_v6 ? 1 : 0;
  return k;
}

// The smallest shift that lets a 16-bit field express `window` (RFC 7323 caps it at 14).
uint8_t window_shift_for(uint64_t window) {
  uint8_t shift = 0;
  while (shift < 14 && (window >> shift) > 0xFFFF) ++shift;
  return shift;
}

}  // namespace

TcpEngine::TcpEngine(TransportStack& stack) : stack_(stack) {}

TcpEngine::~TcpEngine() {
  for (TcpConnection& c : connections_) {
    if (!c.live) continue;
    stack_.kernel_.cancel(c.rto_timer);
    stack_.kernel_.cancel(c.delack_timer);
  }
}

uint32_t TcpEngine::allocate() {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(connections_.size());
    connections_.emplace_back();
  }
  TcpConnection& c = connections_[index];
  const uint32_t generation = c.generation;
  c = TcpConnection{};
  c.generation = generation;
  c.live = true;
  c.rto = stack_.params_.tcp.initial_rto.ns();
  ++live_;
  ++stack_.stats_.connections_opened;
  return index;
}

void TcpEngine::release(uint32_t index) {
  TcpConnection& c = connections_[index];
  stack_.kernel_.cancel(c.rto_timer);
  stack_.kernel_.cancel(c.delack_timer);
  stack_.map_->erase(key_of(c));
  c.live = false;
  ++c.generation;
  free_.push_back(index);
  --live_;
  ++stack_.stats_.connections_closed;
}

void TcpEngine::fail(uint32_t index, FlowOutcome outcome, FlowReason reason) {
  TcpConnection& c = connections_[index];
  if (c.is_client && c.flow != kNoFlow)
    stack_.records_.finish(c.flow, outcome, reason, stack_.kernel_.now());
  release(index);
}

std::size_t TcpEngine::abort_all(FlowReason reason) {
  std::size_t aborted = 0;
  for (uint32_t index = 0; index < connections_.size(); ++index) {
    if (!connections_[index].live) continue;
    fail(index, FlowOutcome::kFailedAborted, reason);
    ++aborted;
  }
  return aborted;
}

void TcpEngine::open(uint32_t flow, VmIndex peer, const FiveTuple& tuple, const L2Addresses& l2,
                     uint64_t size) {
  const uint32_t index = allocate();
  TcpConnection& c = connections_[index];
  const TcpParams& p = stack_.params_.tcp;
  c.tuple = tuple;
  c.l2 = l2;
  c.peer = peer;
  c.flow = flow;
  c.is_client = true;
  c.state = TcpState::kSynSent;
  c.iss = static_cast<uint32_t>(stack_.rng_.next_u64());
  c.data_size = size;
  c.close_requested = true;  // the application writes `size` bytes, then closes
  c.rcv_wscale = window_shift_for(p.receive_buffer.count());
  stack_.map_->insert(key_of(c), index);
  emit(c, tcp_flags::kSyn, 0, 0);
  c.snd_nxt = c.snd_max = 1;
  c.rtt_timing = true;
  c.rtt_end = 1;
  c.rtt_start = stack_.kernel_.now();
  arm_rto(index);
}

void TcpEngine::accept(Packet* syn, const ParsedFrame& frame) {
  const uint32_t index = allocate();
  TcpConnection& c = connections_[index];
  const TcpParams& p = stack_.params_.tcp;
  const Vm& self = stack_.vms_[stack_.vm_];
  c.tuple.source = frame.tuple.destination;
  c.tuple.destination = frame.tuple.source;
  c.tuple.source_port = frame.tuple.destination_port;
  c.tuple.destination_port = frame.tuple.source_port;
  c.tuple.protocol = kProtocolTcp;
  c.l2.source = self.mac;
  std::copy_n(syn->header.begin() + 6, 6, c.l2.destination.begin());
  c.peer = syn->source_vm;
  c.flow = (syn->flow != kNoFlow && syn->flow < stack_.records_.size() &&
            stack_.records_.destination_vm[syn->flow] == stack_.vm_)
               ? syn->flow
               : kNoFlow;
  c.is_client = false;
  c.state = TcpState::kSynReceived;
  c.iss = static_cast<uint32_t>(stack_.rng_.next_u64());
  c.irs = frame.tcp.seq;
  c.rcv_nxt = 1;
  // Window scaling is used only if both SYNs carry the option (RFC 7323 section 2.2).
  if (frame.tcp.window_scale_option >= 0) {
    c.peer_offered_wscale = true;
    c.snd_wscale = static_cast<uint8_t>(std::min<int>(frame.tcp.window_scale_option, 14));
    c.rcv_wscale = window_shift_for(p.receive_buffer.count());
  }
  c.mss = std::min<uint32_t>(p.mss, frame.tcp.mss_option ? frame.tcp.mss_option : 536);
  c.peer_window = frame.tcp.window;  // a SYN's window is never scaled
  stack_.map_->insert(key_of(c), index);
  emit(c, tcp_flags::kSyn | tcp_flags::kAck, 0, 0);
  c.snd_nxt = c.snd_max = 1;
  c.rtt_timing = true;
  c.rtt_end = 1;
  c.rtt_start = stack_.kernel_.now();
  arm_rto(index);
}

uint64_t TcpEngine::advertised_window(const TcpConnection&) const {
  // The application reads at once and out-of-order data is held within the same window, so the
  // right edge moves with rcv_nxt and never shrinks (RFC 7323 section 2.4).
  return stack_.params_.tcp.receive_buffer.count();
}

uint32_t TcpEngine::max_burst_payload(const TcpConnection& c) const {
  const uint64_t limit =
      std::min<uint64_t>(stack_.params_.tcp.segment_size.count(),
                         max_super_packet_payload(c.tuple.source.is_v6, kTcpHeaderSize));
  const uint64_t whole = limit / c.mss * c.mss;
  return static_cast<uint32_t>(std::max<uint64_t>(whole, c.mss));
}

void TcpEngine::emit(TcpConnection& c, uint8_t flags, uint64_t offset, uint32_t payload,
                     uint16_t ack_count) {
  TcpFields f;
  f.seq = c.iss + static_cast<uint32_t>(offset);
  f.flags = flags;
  const bool syn = flags & tcp_flags::kSyn;
  if (flags & tcp_flags::kAck) f.ack = c.irs + static_cast<uint32_t>(c.rcv_nxt);
  const uint64_t window = advertised_window(c);
  if (syn) {
    f.window = static_cast<uint16_t>(std::min<uint64_t>(window, 0xFFFF));
    f.mss_option = static_cast<uint16_t>(stack_.params_.tcp.mss);
    // A SYN-ACK carries the option only if the SYN did (RFC 7323 section 1.3).
    if (c.is_client || c.peer_offered_wscale)
      f.window_scale_option = static_cast<int8_t>(c.rcv_wscale);
  } else {
    f.window = static_cast<uint16_t>(std::min<uint64_t>(window >> c.rcv_wscale, 0xFFFF));
  }
  Packet* p = stack_.pool_.allocate();
  build_tcp_frame(*p, c.l2, c.tuple, f, payload, c.mss);
  if (payload == 0 && ack_count > 1) {
    // One packet standing for `ack_count` identical ACKs (see transport_stack.h).
    p->segment_count = ack_count;
    p->wire_size *= ack_count;
  }
  p->flow = c.flow;
  p->destination_vm = c.peer;
  const uint16_t segments = p->segment_count;
  const bool occupies_sequence = payload > 0 || (flags & (tcp_flags::kSyn | tcp_flags::kFin));
  const bool retransmission = occupies_sequence && offset < c.snd_max;
  if (c.flow != kNoFlow && c.is_client) {
    stack_.records_.packets_sent[c.flow] += segments;
    if (retransmission) stack_.records_.retransmissions[c.flow] += segments;
  }
  if (retransmission) stack_.stats_.segments_retransmitted += segments;
  if (flags & tcp_flags::kAck) {
    c.segments_unacked = 0;
    stack_.kernel_.cancel(c.delack_timer);
  }
  if (payload > 0 && stack_.params_.tcp.small_queue_limit.count() > 0) {
    // TCP small queues: count the bytes below the socket until the vNIC reports them gone.
    p->sender_socket = static_cast<uint32_t>(&c - connections_.data());
    p->sender_socket_generation = c.generation;
    c.bytes_below += p->wire_size;
  }
  emitting_ = true;
  stack_.transmit(p);
  emitting_ = false;
}

void TcpEngine::on_transmit_completed(uint32_t index, uint32_t generation, uint32_t wire_size) {
  if (index >= connections_.size()) return;
  TcpConnection& c = connections_[index];
  if (!c.live || c.generation != generation) return;  // the connection is gone
  c.bytes_below -= std::min<uint64_t>(c.bytes_below, wire_size);
  if (c.small_queue_throttled && !emitting_ &&
      c.bytes_below < stack_.params_.tcp.small_queue_limit.count()) {
    c.small_queue_throttled = false;
    try_send(index);
  }
}

void TcpEngine::send_ack(TcpConnection& c, uint16_t ack_count) {
  // A pure ACK carries snd_nxt, the next sequence number we would send.
  emit(c, tcp_flags::kAck, c.snd_nxt, 0, ack_count);
}

void TcpEngine::try_send(uint32_t index) {
  TcpConnection& c = connections_[index];
  switch (c.state) {
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
    case TcpState::kFinWait1:
    case TcpState::kClosing:
    case TcpState::kLastAck:
      break;
    default:
      return;
  }
  const uint64_t fin_offset = c.data_size + 1;
  const uint32_t burst = max_burst_payload(c);
  while (true) {
    const uint64_t window = std::min(c.cwnd, c.peer_window);
    const uint64_t in_flight = c.snd_nxt - c.snd_una;
    if (c.snd_nxt < fin_offset) {
      const uint64_t remaining = fin_offset - c.snd_nxt;
      if (window <= in_flight) break;
      // TCP small queues (Linux tcp_small_queue_check): no new data while the bytes queued below
      // the socket reach the limit; transmit completions resume sending.
      const uint64_t small_queue_limit = stack_.params_.tcp.small_queue_limit.count();
      if (small_queue_limit > 0 && c.bytes_below >= small_queue_limit) {
        c.small_queue_throttled = true;
        break;
      }
      uint64_t length = std::min<uint64_t>({remaining, burst, window - in_flight});
      if (length < remaining) {
        // Send whole segments only; a partial one waits for ACKs unless nothing is in flight.
        if (length >= c.mss) {
          length -= length % c.mss;
        } else if (in_flight > 0) {
          break;
        }
      }
      if (!c.rtt_timing && c.snd_nxt >= c.snd_max) {
        c.rtt_timing = true;
        c.rtt_end = c.snd_nxt + length;
        c.rtt_start = stack_.kernel_.now();
      }
      emit(c, tcp_flags::kAck | (length == remaining ? tcp_flags::kPsh : 0), c.snd_nxt,
           static_cast<uint32_t>(length));
      c.snd_nxt += length;
    } else if (c.snd_nxt == fin_offset && c.close_requested) {
      emit(c, tcp_flags::kFin | tcp_flags::kAck, c.snd_nxt, 0);
      c.snd_nxt += 1;
      if (c.state == TcpState::kEstablished) c.state = TcpState::kFinWait1;
      if (c.state == TcpState::kCloseWait) c.state = TcpState::kLastAck;
    } else {
      break;
    }
    c.snd_max = std::max(c.snd_max, c.snd_nxt);
  }
  if (c.snd_nxt > c.snd_una) arm_rto(index);
}

void TcpEngine::retransmit_first(TcpConnection& c) {
  const uint64_t fin_offset = c.data_size + 1;
  if (c.snd_una >= fin_offset) {
    emit(c, tcp_flags::kFin | tcp_flags::kAck, fin_offset, 0);
    return;
  }
  const uint64_t length = std::min<uint64_t>(c.mss, fin_offset - c.snd_una);
  emit(c, tcp_flags::kAck, c.snd_una, static_cast<uint32_t>(length));
}

void TcpEngine::arm_rto(uint32_t index) {
  TcpConnection& c = connections_[index];
  if (stack_.kernel_.pending(c.rto_timer)) return;
  const uint32_t generation = c.generation;
  c.rto_timer = stack_.kernel_.schedule(sim::Nanos(c.rto), stack_.entity_,
                                        [this, index, generation] { on_rto(index, generation); });
}

void TcpEngine::restart_rto(uint32_t index) {
  stack_.kernel_.cancel(connections_[index].rto_timer);
  connections_[index].rto_timer = sim::EventId{};
  if (connections_[index].snd_nxt > connections_[index].snd_una) arm_rto(index);
}

void TcpEngine::on_rto(uint32_t index, uint32_t generation) {
  TcpConnection& c = connections_[index];
  if (!c.live || c.generation != generation) return;
  const TcpParams& p = stack_.params_.tcp;
  if (c.state == TcpState::kTimeWait || c.state == TcpState::kFinWait2) {
    release(index);
    return;
  }
  ++stack_.stats_.timeouts;
  ++c.backoff;
  c.rtt_timing = false;  // Karn: no RTT sample from retransmitted data
  c.rto = std::min<int64_t>(c.rto * 2, p.max_rto.ns());
  if (c.state == TcpState::kSynSent || c.state == TcpState::kSynReceived) {
    const uint32_t retries = c.state == TcpState::kSynSent ? p.syn_retries : p.synack_retries;
    if (c.backoff > retries) {
      fail(index, FlowOutcome::kFailedTimeout, FlowReason::kSynRetriesExhausted);
      return;
    }
    c.syn_retransmitted = true;
    emit(c, c.state == TcpState::kSynSent ? tcp_flags::kSyn : tcp_flags::kSyn | tcp_flags::kAck,
         0, 0);
    arm_rto(index);
    return;
  }
  if (c.backoff > p.data_retries) {
    fail(index, FlowOutcome::kFailedTimeout, FlowReason::kDataRetriesExhausted);
    return;
  }
  // RFC 5681 section 3.1 loss window and RFC 6582 "recover" after a timeout; go back N.
  const uint64_t in_flight = c.snd_max - c.snd_una;
  c.ssthresh = std::max<uint64_t>(in_flight / 2, 2 * uint64_t{c.mss});
  c.cwnd = c.mss;
  c.bytes_acked_in_ca = 0;
  c.in_recovery = false;
  c.dupacks = 0;
  c.recover = c.snd_max;
  c.snd_nxt = c.snd_una;
  if (c.state == TcpState::kFinWait1 && c.snd_una <= c.data_size) c.state = TcpState::kEstablished;
  if (c.state == TcpState::kLastAck) c.state = TcpState::kCloseWait;
  if (c.state == TcpState::kClosing) c.state = TcpState::kFinWait1;
  try_send(index);
  arm_rto(index);
}

void TcpEngine::on_delayed_ack(uint32_t index, uint32_t generation) {
  TcpConnection& c = connections_[index];
  if (!c.live || c.generation != generation) return;
  if (c.segments_unacked > 0) send_ack(c, 1);
}

void TcpEngine::enter_time_wait(uint32_t index) {
  connections_[index].state = TcpState::kTimeWait;
  arm_close_timer(index);
}

void TcpEngine::arm_close_timer(uint32_t index) {
  TcpConnection& c = connections_[index];
  stack_.kernel_.cancel(c.rto_timer);
  const uint32_t generation = c.generation;
  c.rto_timer = stack_.kernel_.schedule(stack_.params_.tcp.time_wait, stack_.entity_,
                                        [this, index, generation] { on_rto(index, generation); });
}

void TcpEngine::update_rtt(TcpConnection& c, sim::Time sample) {
  const TcpParams& p = stack_.params_.tcp;
  const int64_t r = sample.ns();
  if (!c.have_rtt) {
    c.srtt = r;
    c.rttvar = r / 2;
    c.have_rtt = true;
  } else {
    const int64_t delta = c.srtt > r ? c.srtt - r : r - c.srtt;
    c.rttvar = (3 * c.rttvar + delta) / 4;
    c.srtt = (7 * c.srtt + r) / 8;
  }
  c.rto = std::clamp<int64_t>(c.srtt + 4 * c.rttvar, p.min_rto.ns(), p.max_rto.ns());
}

void TcpEngine::note_progress(TcpConnection& c) {
  if (!c.is_client || c.flow == kNoFlow) return;
  const uint64_t acknowledged = c.snd_una > 0 ? std::min(c.snd_una - 1, c.data_size) : 0;
  stack_.records_.bytes_sent[c.flow] = acknowledged;
  if (!c.completed && c.snd_una > c.data_size) {
    c.completed = true;
    stack_.records_.finish(c.flow, FlowOutcome::kCompleted, FlowReason::kAllDataAcknowledged,
                           stack_.kernel_.now());
  }
}

}  // namespace models::traffic
