#pragma once
// Frames a reject rule sends back to the packet's sender: a TCP RST for TCP (RFC 793 reset
// generation), otherwise an ICMP destination unreachable "communication administratively
// prohibited" (type 3 code 13) or ICMPv6 "administratively prohibited" (type 1 code 1), quoting
// the offending packet. Built into a caller buffer; nothing is allocated.

#include <cstdint>

#include "dfw/types.h"
#include "parse/parsed_packet.h"

namespace dfw {

inline constexpr uint32_t kRejectQuoteLimit = 512;  // bytes of the offending packet quoted
inline constexpr uint32_t kMaxRejectFrameSize = 22 + 40 + 8 + kRejectQuoteLimit;

// Writes the reject frame for `packet` into `out` (kMaxRejectFrameSize bytes) and returns its
// size, or 0 when none is due: RSTs and ICMP errors are never answered (RFC 1122 3.2.2), nor are
// later fragments.
uint32_t build_reject_frame(const PacketView& packet, const ParsedPacket& parsed, uint8_t* out);

}  // namespace dfw
