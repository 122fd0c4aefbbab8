// TCP: segment arrival, ACK processing with NewReno congestion control, reassembly and close.
#include <algorithm>

#include "tcp_engine.h"

namespace models::traffic {
namespace {

// Offset of wire sequence number `seq` in a sequence space that starts at `initial`.
uint64_t offset_of(uint32_t seq, uint32_t initial) { return static_cast<uint32_t>(seq - initial); }

constexpr uint64_t kInfiniteSsthresh = uint64_t{1} << 62;

}  // namespace

void TcpEngine::on_segment(uint32_t index, const Packet& packet, const ParsedFrame& frame) {
  TcpConnection& c = connections_[index];
  const uint8_t flags = frame.tcp.flags;
  if (flags & tcp_flags::kRst) {
    on_reset(index, frame);
    return;
  }
  switch (c.state) {
    case TcpState::kSynSent:
      if ((flags & (tcp_flags::kSyn | tcp_flags::kAck)) == (tcp_flags::kSyn | tcp_flags::kAck))
        on_syn_ack(index, packet, frame);
      return;  // a bare SYN (simultaneous open) is not modelled
    case TcpState::kSynReceived: {
      if (flags & tcp_flags::kSyn) {
        // The client did not see our SYN-ACK: answer its retransmitted SYN again.
        if (!(flags & tcp_flags::kAck) && frame.tcp.seq == c.irs)
          emit(c, tcp_flags::kSyn | tcp_flags::kAck, 0, 0);
        return;
      }
      if (!(flags & tcp_flags::kAck) || offset_of(frame.tcp.ack, c.iss) != 1) return;
      if (c.rtt_timing && !c.syn_retransmitted) update_rtt(c, stack_.kernel_.now() - c.rtt_start);
      c.rtt_timing = false;
      c.backoff = 0;
      if (!c.have_rtt) c.rto = stack_.params_.tcp.initial_rto.ns();
      c.snd_una = 1;
      c.cwnd = uint64_t{stack_.params_.tcp.initial_window_segments} * c.mss;
      c.ssthresh = kInfiniteSsthresh;
      c.peer_window = uint64_t{frame.tcp.window} << c.snd_wscale;
      c.state = TcpState::kEstablished;
      restart_rto(index);
      break;  // the ACK may carry data: fall through to the common path
    }
    case TcpState::kTimeWait:
      // A retransmitted FIN: our last ACK was lost. ACK again and restart the wait.
      if (flags & tcp_flags::kFin) {
        send_ack(c, 1);
        enter_time_wait(index);
      }
      return;
    default:
      break;
  }
  const uint32_t generation = connections_[index].generation;
  if (flags & tcp_flags::kAck) process_ack(index, packet, frame);
  if (!connections_[index].live || connections_[index].generation != generation) return;
  process_data(index, packet, frame);
}

void TcpEngine::on_syn_ack(uint32_t index, const Packet& packet, const ParsedFrame& frame) {
  (void)packet;
  TcpConnection& c = connections_[index];
  const TcpParams& p = stack_.params_.tcp;
  if (offset_of(frame.tcp.ack, c.iss) != 1) return;  // not an answer to our SYN
  c.irs = frame.tcp.seq;
  c.rcv_nxt = 1;
  if (frame.tcp.window_scale_option >= 0) {
    c.snd_wscale = static_cast<uint8_t>(std::min<int>(frame.tcp.window_scale_option, 14));
  } else {
    c.snd_wscale = 0;  // the peer does not scale, so neither side does
    c.rcv_wscale = 0;
  }
  c.mss = std::min<uint32_t>(p.mss, frame.tcp.mss_option ? frame.tcp.mss_option : 536);
  c.peer_window = frame.tcp.window;  // a SYN's window is never scaled
  c.snd_una = 1;
  if (c.rtt_timing && !c.syn_retransmitted) update_rtt(c, stack_.kernel_.now() - c.rtt_start);
  if (!c.have_rtt) c.rto = p.initial_rto.ns();  // forget the SYN backoff
  // Linux starts from one segment if the SYN needed more than one retransmission.
  c.cwnd = (c.backoff > 1 ? 1 : uint64_t{p.initial_window_segments}) * c.mss;
  c.ssthresh = kInfiniteSsthresh;
  c.rtt_timing = false;
  c.backoff = 0;
  c.state = TcpState::kEstablished;
  stack_.kernel_.cancel(c.rto_timer);
  c.rto_timer = sim::EventId{};
  send_ack(c, 1);
  try_send(index);
}

void TcpEngine::on_reset(uint32_t index, const ParsedFrame& frame) {
  TcpConnection& c = connections_[index];
  bool acceptable;
  if (c.state == TcpState::kSynSent) {
    // RFC 793: in SYN-SENT a reset is valid if it acknowledges our SYN.
    acceptable = (frame.tcp.flags & tcp_flags::kAck) && offset_of(frame.tcp.ack, c.iss) == 1;
  } else {
    const uint64_t seq = offset_of(frame.tcp.seq, c.irs);
    const uint64_t window = std::max<uint64_t>(advertised_window(c), 1);
    acceptable = seq >= c.rcv_nxt && seq < c.rcv_nxt + window;
  }
  if (!acceptable) return;
  if (c.is_client && !c.completed) {
    fail(index, FlowOutcome::kFailedRejected,
         c.state == TcpState::kSynSent ? FlowReason::kResetDuringHandshake
                                       : FlowReason::kResetEstablished);
    return;
  }
  release(index);
}

void TcpEngine::on_unreachable(uint32_t index) {
  // Linux aborts a connect() on a hard ICMP error; once established such errors are soft.
  if (connections_[index].state == TcpState::kSynSent)
    fail(index, FlowOutcome::kFailedRejected, FlowReason::kIcmpUnreachable);
}

void TcpEngine::process_ack(uint32_t index, const Packet& packet, const ParsedFrame& frame) {
  TcpConnection& c = connections_[index];
  const uint64_t ack = offset_of(frame.tcp.ack, c.iss);
  if (ack > c.snd_max) {
    send_ack(c, 1);  // acknowledges something never sent (RFC 793): answer with an ACK
    return;
  }
  if (ack < c.snd_una) return;  // an old ACK
  const uint64_t window = uint64_t{frame.tcp.window} << c.snd_wscale;
  if (ack > c.snd_una) {
    c.peer_window = window;
    on_new_ack(index, ack);
    return;
  }
  const uint8_t flags = frame.tcp.flags;
  const bool duplicate = frame.l4_payload_size == 0 &&
                         !(flags & (tcp_flags::kSyn | tcp_flags::kFin)) &&
                         window == c.peer_window && c.snd_max > c.snd_una;
  c.peer_window = window;
  if (duplicate) {
    on_duplicate_ack(index, packet.segment_count);
  } else {
    try_send(index);  // perhaps a window update
  }
}

void TcpEngine::on_new_ack(uint32_t index, uint64_t acked_to) {
  TcpConnection& c = connections_[index];
  const uint64_t acked = acked_to - c.snd_una;
  c.snd_una = acked_to;
  if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;
  c.backoff = 0;
  if (c.rtt_timing && c.snd_una >= c.rtt_end) {
    update_rtt(c, stack_.kernel_.now() - c.rtt_start);
    c.rtt_timing = false;
  }
  if (c.in_recovery) {
    if (c.snd_una >= c.recover) {
      // Full ACK (RFC 6582 section 3.2 step 3, option 1): deflate to ssthresh.
      c.in_recovery = false;
      c.dupacks = 0;
      c.cwnd = std::min<uint64_t>(c.ssthresh, (c.snd_max - c.snd_una) + c.mss);
    } else {
      // Partial ACK: the next hole is lost too. Retransmit it and deflate by what was acked.
      retransmit_first(c);
      c.cwnd = c.cwnd > acked ? c.cwnd - acked : 0;
      if (acked >= c.mss) c.cwnd += c.mss;
      c.cwnd = std::max<uint64_t>(c.cwnd, c.mss);
    }
  } else {
    c.dupacks = 0;
    if (c.cwnd < c.ssthresh) {
      c.cwnd = std::min(c.cwnd + acked, c.ssthresh);  // slow start, byte counting
    } else {
      c.bytes_acked_in_ca += acked;  // congestion avoidance: one MSS per cwnd acknowledged
      while (c.bytes_acked_in_ca >= c.cwnd) {
        c.bytes_acked_in_ca -= c.cwnd;
        c.cwnd += c.mss;
      }
    }
  }
  restart_rto(index);
  note_progress(c);

  const uint64_t fin_offset = c.data_size + 1;
  if (c.snd_una > fin_offset) {  // our FIN is acknowledged
    switch (c.state) {
      case TcpState::kFinWait1:
        c.state = TcpState::kFinWait2;
        arm_close_timer(index);  // bounds FIN_WAIT_2 as Linux's tcp_fin_timeout does
        return;
      case TcpState::kClosing:
        enter_time_wait(index);
        return;
      case TcpState::kLastAck:
        release(index);
        return;
      default:
        break;
    }
  }
  try_send(index);
}

void TcpEngine::on_duplicate_ack(uint32_t index, uint16_t count) {
  TcpConnection& c = connections_[index];
  c.dupacks += count;
  if (c.in_recovery) {
    c.cwnd += uint64_t{c.mss} * count;  // each duplicate ACK: a segment has left the network
    try_send(index);
    return;
  }
  if (c.dupacks < 3 || c.snd_una <= c.recover) return;
  // Fast retransmit, then NewReno fast recovery (RFC 6582).
  ++stack_.stats_.fast_retransmits;
  const uint64_t in_flight = c.snd_max - c.snd_una;
  c.ssthresh = std::max<uint64_t>(in_flight / 2, 2 * uint64_t{c.mss});
  c.recover = c.snd_max;
  c.in_recovery = true;
  c.rtt_timing = false;
  retransmit_first(c);
  c.cwnd = c.ssthresh + uint64_t{c.dupacks} * c.mss;
  try_send(index);
}

void TcpEngine::process_data(uint32_t index, const Packet& packet, const ParsedFrame& frame) {
  TcpConnection& c = connections_[index];
  const uint64_t payload = frame.l4_payload_size;
  const bool fin = frame.tcp.flags & tcp_flags::kFin;
  if (payload == 0 && !fin) return;
  const uint64_t begin = offset_of(frame.tcp.seq, c.irs);
  const uint64_t end = begin + payload;
  const uint64_t window = advertised_window(c);
  if (end < c.rcv_nxt || (end == c.rcv_nxt && !fin)) {
    send_ack(c, 1);  // entirely old (a retransmission we already have): re-acknowledge
    return;
  }
  if (begin > c.rcv_nxt) {
    if (begin < c.rcv_nxt + window)
      store_out_of_order(c, begin, std::min(end, c.rcv_nxt + window));
    // One duplicate ACK per segment the out-of-order packet carried.
    send_ack(c, packet.segment_count);
    return;
  }
  const bool had_holes = c.out_of_order_count > 0;
  c.rcv_nxt = std::max(c.rcv_nxt, std::min(end, c.rcv_nxt + window));
  merge_out_of_order(c);
  if (c.flow != kNoFlow && !c.is_client) {
    stack_.records_.bytes_received[c.flow] =
        std::min(c.rcv_nxt - 1, stack_.records_.size_bytes[c.flow]);
  }
  if (fin && c.rcv_nxt == end) {
    on_fin(index);
    return;
  }
  const TcpParams& p = stack_.params_.tcp;
  if (had_holes || !p.delayed_ack) {
    send_ack(c, 1);
    return;
  }
  c.segments_unacked += packet.segment_count;
  if (c.segments_unacked >= 2) {
    send_ack(c, 1);
    return;
  }
  if (!stack_.kernel_.pending(c.delack_timer)) {
    const uint32_t generation = c.generation;
    c.delack_timer = stack_.kernel_.schedule(
        p.delayed_ack_timeout, stack_.entity_,
        [this, index, generation] { on_delayed_ack(index, generation); });
  }
}

void TcpEngine::on_fin(uint32_t index) {
  TcpConnection& c = connections_[index];
  c.rcv_nxt += 1;
  switch (c.state) {
    case TcpState::kEstablished:
      // The passive side has nothing more to send: it closes at once, FIN|ACK in one segment.
      c.state = TcpState::kCloseWait;
      c.close_requested = true;
      try_send(index);
      return;
    case TcpState::kFinWait1:
      c.state = TcpState::kClosing;
      send_ack(c, 1);
      return;
    case TcpState::kFinWait2:
      send_ack(c, 1);
      enter_time_wait(index);
      return;
    default:
      send_ack(c, 1);
      return;
  }
}

uint64_t TcpEngine::store_out_of_order(TcpConnection& c, uint64_t begin, uint64_t end) {
  // Keep the ranges sorted and disjoint; merge what overlaps or touches the new one.
  std::array<TcpConnection::Range, TransportStack::kMaxOutOfOrderRanges + 1> merged{};
  uint32_t n = 0;
  bool placed = false;
  TcpConnection::Range incoming{begin, end};
  for (uint8_t i = 0; i < c.out_of_order_count; ++i) {
    const TcpConnection::Range r = c.out_of_order[i];
    if (r.end < incoming.begin) {
      merged[n++] = r;
    } else if (incoming.end < r.begin) {
      if (!placed) {
        merged[n++] = incoming;
        placed = true;
      }
      merged[n++] = r;
    } else {
      incoming.begin = std::min(incoming.begin, r.begin);
      incoming.end = std::max(incoming.end, r.end);
    }
  }
  if (!placed) merged[n++] = incoming;
  if (n > TransportStack::kMaxOutOfOrderRanges) return 0;  // no room: drop the segment
  std::copy_n(merged.begin(), n, c.out_of_order.begin());
  c.out_of_order_count = static_cast<uint8_t>(n);
  return end - begin;
}

void TcpEngine::merge_out_of_order(TcpConnection& c) {
  uint8_t consumed = 0;
  while (consumed < c.out_of_order_count && c.out_of_order[consumed].begin <= c.rcv_nxt) {
    c.rcv_nxt = std::max(c.rcv_nxt, c.out_of_order[consumed].end);
    ++consumed;
  }
  if (consumed == 0) return;
  std::copy(c.out_of_order.begin() + consumed, c.out_of_order.begin() + c.out_of_order_count,
            c.out_of_order.begin());
  c.out_of_order_count = static_cast<uint8_t>(c.out_of_order_count - consumed);
}

}  // namespace models::traffic
