#pragma once
// The frame parser: Ethernet, 802.1Q/802.1ad (QinQ), ARP, IPv4 (options, fragments), IPv6 with
// extension headers, TCP, UDP, ICMP, ICMPv6.
//
// Contract. Reads only data[0, header_size); never allocates. Returns DropReason::kNone and a
// filled ParsedPacket, or the reason the frame is dropped (kTruncated when the header bytes end
// before a field the parser needs; kMalformed* when a field is invalid). Policy (ARP allowed or
// not) is the caller's business: the parser only reports what it saw.
//
// Lengths. header_size bytes are real; the payload may be absent (wire_size > header_size).
// For an ordinary packet (segment_count == 1) the IP length fields must fit in wire_size and
// decide the L4 payload size (Ethernet padding is ignored). For a segmentation-offload
// super-packet (segment_count > 1) the IP length fields describe one segment or nothing and are
// not checked; the payload is wire_size minus the headers.
//
// Checksums are not verified: a hypervisor sees frames before checksum offload completes them
// (CHECKSUM_PARTIAL), so a wrong checksum is normal there; the receiver verifies. See docs/dfw.md.

#include "dfw/types.h"
#include "parse/parsed_packet.h"

namespace dfw {

DropReason parse_packet(const PacketView& packet, Direction direction, ParsedPacket& out);

}  // namespace dfw
