#pragma once
// TCP connection tracking in the spirit of Linux nf_conntrack_proto_tcp: a state transition
// table indexed by (direction, flag class, state) and the sequence-window check of
// tcp_in_window() (td_end / td_maxend / td_maxwin per direction, window scaling from the SYN
// options). Intended differences from Linux are listed in docs/dfw.md.

#include <cstdint>

#include "conntrack/conn.h"
#include "dfw/datapath.h"
#include "parse/parsed_packet.h"

namespace dfw {

enum class TcpOutcome : uint8_t {
  kAccept,       // valid; state and windows updated
  kIgnore,       // passes but changes nothing (e.g. a SYN/ACK retransmission in ESTABLISHED)
  kInvalid,      // not valid in this state (kInvalidState)
  kOutOfWindow,  // sequence or acknowledgement outside the window (kOutOfWindow)
  kReopen,       // a new SYN on a closed/TIME_WAIT connection: delete it and start over
};

// RFC 793 flag combinations a real stack sends (PSH, ECE, CWR ignored): SYN, SYN|ACK, RST,
// RST|ACK, FIN|ACK, ACK, each optionally with URG. Everything else (NULL, SYN|FIN, Xmas, FIN
// without ACK, ...) is invalid.
bool tcp_flags_valid(uint8_t flags);

// Whether the first packet of an untracked flow may create a connection: a SYN without ACK, or
// (with `loose`) any ACK without RST/SYN/FIN, picked up mid-stream like nf_conntrack_tcp_loose.
bool tcp_may_create(const TcpInfo& tcp, bool loose);

// Initializes the tracking data of a new connection from its first packet (original direction).
void tcp_init(Conn& conn, const ParsedPacket& packet);

// Tracks one packet of an existing connection. `reply` is the packet's direction relative to the
// connection. On kAccept/kIgnore, conn.state may have changed.
TcpOutcome tcp_track(Conn& conn, bool reply, const ParsedPacket& packet);

int64_t tcp_timeout(ConnState state, const Timeouts& timeouts);

}  // namespace dfw
