#include "conntrack/tcp_tracker.h"

namespace dfw {
namespace {

// Table columns, in Linux's order.
enum Col : uint8_t { sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2, kColCount };
// Table values: a column, or one of these.
constexpr uint8_t sIV = 100;  // invalid
constexpr uint8_t sIG = 101;  // ignore

enum FlagClass : uint8_t { kSyn, kSynAck, kFin, kAck, kRst, kNone, kFlagClassCount };

// clang-format off
constexpr uint8_t kTransitions[2][kFlagClassCount][kColCount] = {
  {  // original direction
    //            sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
    /* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
    /* synack */ {sIV, sIV, sIG, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
    /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
    /* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
    /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
    /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
  },
  {  // reply direction
    //            sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
    /* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sS2},
    /* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
    /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
    /* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
    /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
    /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
  },
};
// clang-format on

constexpr ConnState kColToState[kColCount] = {
    ConnState::kFree,        ConnState::kTcpSynSent,   ConnState::kTcpSynRecv,
    ConnState::kTcpEstablished, ConnState::kTcpFinWait, ConnState::kTcpCloseWait,
    ConnState::kTcpLastAck,  ConnState::kTcpTimeWait,  ConnState::kTcpClose,
    ConnState::kTcpSynSent2};

uint8_t state_col(ConnState s) {
  switch (s) {
    case ConnState::kTcpSynSent: return sSS;
    case ConnState::kTcpSynRecv: return sSR;
    case ConnState::kTcpEstablished: return sES;
    case ConnState::kTcpFinWait: return sFW;
    case ConnState::kTcpCloseWait: return sCW;
    case ConnState::kTcpLastAck: return sLA;
    case ConnState::kTcpTimeWait: return sTW;
    case ConnState::kTcpClose: return sCL;
    case ConnState::kTcpSynSent2: return sS2;
    default: return sNO;
  }
}

FlagClass flag_class(uint8_t flags) {
  if (flags & kTcpRst) return kRst;
  if (flags & kTcpSyn) return (flags & kTcpAck) ? kSynAck : kSyn;
  if (flags & kTcpFin) return kFin;
  if (flags & kTcpAck) return kAck;
  return kNone;
}

// Serial-number arithmetic (RFC 1982) on 32-bit sequence numbers.
inline bool before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline bool after(uint32_t a, uint32_t b) { return before(b, a); }

uint32_t segment_end(const ParsedPacket& p) {
  return p.tcp.seq + p.l4_payload_size + ((p.tcp.flags & kTcpSyn) ? 1 : 0) +
         ((p.tcp.flags & kTcpFin) ? 1 : 0);
}

void init_sender_from_syn(Conn& c, int d, const ParsedPacket& p) {
  c.td_end[d] = c.td_maxend[d] = segment_end(p);
  c.td_maxwin[d] = p.tcp.window == 0 ? 1 : p.tcp.window;
  c.td_flags[d] = 0;
  c.td_scale[d] = 0;
  if (p.tcp.window_scale >= 0) {
    c.td_flags[d] |= kTcpTrackWindowScale;
    c.td_scale[d] = static_cast<uint8_t>(p.tcp.window_scale);
  }
  if (p.tcp.sack_permitted) c.td_flags[d] |= kTcpTrackSackPermitted;
}

// tcp_in_window(): does the segment fall inside what the receiver may accept, and does its ACK
// acknowledge something the receiver has sent? Updates the windows when it does.
bool in_window(Conn& c, int s, const ParsedPacket& p, ConnState state) {
  const int r = 1 - s;
  const TcpInfo& t = p.tcp;
  uint32_t seq = t.seq;
  uint32_t ack = t.ack;
  uint32_t end = segment_end(p);
  uint32_t win = t.window;

  if (c.td_maxwin[s] == 0) {
    if (t.flags & kTcpSyn) {  // the responder's SYN/ACK (or a simultaneous-open SYN)
      init_sender_from_syn(c, s, p);
      // RFC 7323: scaling is in effect only if both SYNs carried the option.
      if (!((c.td_flags[s] & kTcpTrackWindowScale) && (c.td_flags[r] & kTcpTrackWindowScale)))
        c.td_scale[s] = c.td_scale[r] = 0;
      if (!(t.flags & kTcpAck)) return true;
    } else {  // first packet of this direction seen mid-stream
      c.td_end[s] = end;
      const uint32_t swin = win << c.td_scale[s];
      c.td_maxwin[s] = swin == 0 ? 1 : swin;
      c.td_maxend[s] = end + c.td_maxwin[s];
      if (c.td_maxwin[r] == 0) c.td_end[r] = c.td_maxend[r] = ack;
    }
  } else if ((t.flags & kTcpSyn) &&
             ((state == ConnState::kTcpSynSent && s == 0) ||
              (state == ConnState::kTcpSynRecv && s == 1)) &&
             after(end, c.td_end[s])) {
    // A SYN retransmitted with a new initial sequence number: start this direction over.
    init_sender_from_syn(c, s, p);
  }

  if (!(t.flags & kTcpAck)) {
    ack = c.td_end[r];
  } else if ((t.flags & kTcpRst) && ack == 0) {
    ack = c.td_end[r];
  }
  if ((t.flags & kTcpRst) && seq == 0 && state == ConnState::kTcpSynSent) seq = end = c.td_end[s];

  const uint32_t max_ack_window = c.td_maxwin[s] > 66000 ? c.td_maxwin[s] : 66000;
  const bool ok = before(seq, c.td_maxend[s] + 1) &&
                  after(end, c.td_end[s] - c.td_maxwin[r] - 1) &&
                  !after(ack, c.td_end[r]) &&
                  after(ack, c.td_end[r] - max_ack_window - 1);
  if (!ok) return false;

  if (!(t.flags & kTcpSyn)) win <<= c.td_scale[s];
  if (c.td_maxwin[s] < win) c.td_maxwin[s] = win;
  if (after(end, c.td_end[s])) c.td_end[s] = end;
  if (c.td_maxwin[r] != 0 && after(end, c.td_maxend[s])) c.td_maxwin[r] += end - c.td_maxend[s];
  if (t.flags & kTcpAck) {
    if (after(ack + win, c.td_maxend[r] - 1)) {
      c.td_maxend[r] = ack + win;
      if (win == 0) ++c.td_maxend[r];
    }
  }
  return true;
}

}  // namespace

bool tcp_flags_valid(uint8_t flags) {
  const uint8_t f = flags & (kTcpFin | kTcpSyn | kTcpRst | kTcpAck | kTcpUrg);
  switch (f & ~kTcpUrg) {
    case kTcpSyn:
    case kTcpSyn | kTcpAck:
    case kTcpFin | kTcpAck:
    case kTcpAck:
      return true;
    case kTcpRst:
    case kTcpRst | kTcpAck:
      return !(f & kTcpUrg);
    default:
      return false;
  }
}

bool tcp_may_create(const TcpInfo& tcp, bool loose) {
  const uint8_t f = tcp.flags;
  if ((f & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn) return true;
  // Linux classifies FIN before ACK (get_conntrack_index) and a FIN with no connection is
  // invalid (tcp_conntracks[0][FIN][NONE]), so FIN|ACK is never picked up.
  return loose && (f & kTcpAck) && !(f & (kTcpSyn | kTcpRst | kTcpFin));
}

void tcp_init(Conn& c, const ParsedPacket& p) {
  for (int d = 0; d < 2; ++d) {
    c.td_end[d] = c.td_maxend[d] = c.td_maxwin[d] = 0;
    c.td_scale[d] = 0;
    c.td_flags[d] = 0;
  }
  if (p.tcp.flags & kTcpSyn) {
    c.state = ConnState::kTcpSynSent;
    init_sender_from_syn(c, 0, p);
    return;
  }
  // Mid-stream pickup (tcp_loose): history is lost, so the window check stays liberal for this
  // connection, as Linux does with IP_CT_TCP_FLAG_BE_LIBERAL.
  c.state = ConnState::kTcpEstablished;
  c.flags |= kConnLoosePickup;
  const uint32_t end = segment_end(p);
  c.td_end[0] = end;
  c.td_maxwin[0] = p.tcp.window == 0 ? 1 : p.tcp.window;
  c.td_maxend[0] = end + c.td_maxwin[0];
}

TcpOutcome tcp_track(Conn& c, bool reply, const ParsedPacket& p) {
  const int s = reply ? 1 : 0;
  const uint8_t col = state_col(c.state);
  const uint8_t next = kTransitions[s][flag_class(p.tcp.flags)][col];
  if (next == sIV) return TcpOutcome::kInvalid;
  if (next == sIG) return TcpOutcome::kIgnore;
  if (!reply && next == sSS && (col == sTW || col == sCL)) return TcpOutcome::kReopen;
  if (!(c.flags & kConnLoosePickup) && !in_window(c, s, p, c.state))
    return TcpOutcome::kOutOfWindow;
  c.state = kColToState[next];
  return TcpOutcome::kAccept;
}

int64_t tcp_timeout(ConnState state, const Timeouts& t) {
  switch (state) {
    case ConnState::kTcpSynSent:
    case ConnState::kTcpSynSent2: return t.tcp_syn_sent;
    case ConnState::kTcpSynRecv: return t.tcp_syn_recv;
    case ConnState::kTcpEstablished: return t.tcp_established;
    case ConnState::kTcpFinWait: return t.tcp_fin_wait;
    case ConnState::kTcpCloseWait: return t.tcp_close_wait;
    case ConnState::kTcpLastAck: return t.tcp_last_ack;
    case ConnState::kTcpTimeWait: return t.tcp_time_wait;
    default: return t.tcp_close;
  }
}

}  // namespace dfw
