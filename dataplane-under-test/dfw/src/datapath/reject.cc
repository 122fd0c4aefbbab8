#include "datapath/reject.h"

#include <algorithm>
#include <cstring>

#include "util/bytes.h"
#include "util/checksum.h"

namespace dfw {
namespace {

constexpr uint8_t kDefaultTtl = 64;

// Ethernet + VLAN tags of the original with the MAC addresses swapped.
uint32_t write_l2(const PacketView& packet, const ParsedPacket& parsed, uint8_t* out) {
  std::memcpy(out, packet.data + 6, 6);
  std::memcpy(out + 6, packet.data, 6);
  std::memcpy(out + 12, packet.data + 12, parsed.l2_size - 12u);
  return parsed.l2_size;
}

// An IP header from the original's destination back to its source; returns its size.
uint32_t write_ip(const PacketView& packet, const ParsedPacket& parsed, uint8_t protocol,
                  uint32_t l4_size, uint8_t* ip) {
  const uint8_t* orig = packet.data + parsed.l3_offset;
  if (parsed.key.is_v4) {
    std::memset(ip, 0, 20);
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + l4_size));
    store_be16(ip + 6, 0x4000);  // don't fragment
    ip[8] = kDefaultTtl;
    ip[9] = protocol;
    std::memcpy(ip + 12, orig + 16, 4);
    std::memcpy(ip + 16, orig + 12, 4);
    store_be16(ip + 10, checksum_fold(checksum_add(0, ip, 20)));
    return 20;
  }
  std::memset(ip, 0, 40);
  ip[0] = 0x60;
  store_be16(ip + 4, static_cast<uint16_t>(l4_size));
  ip[6] = protocol;
  ip[7] = kDefaultTtl;
  std::memcpy(ip + 8, orig + 24, 16);
  std::memcpy(ip + 24, orig + 8, 16);
  return 40;
}

uint32_t pseudo_header_sum(const uint8_t* ip, bool v4, uint8_t protocol, uint32_t l4_size) {
  uint32_t sum = v4 ? checksum_add(0, ip + 12, 8) : checksum_add(0, ip + 8, 32);
  sum += protocol;
  sum += l4_size & 0xFFFF;
  sum += l4_size >> 16;
  return sum;
}

uint32_t build_rst(const PacketView& packet, const ParsedPacket& parsed, uint8_t* out) {
  uint32_t at = write_l2(packet, parsed, out);
  uint8_t* ip = out + at;
  const uint32_t ip_size = write_ip(packet, parsed, kProtoTcp, 20, ip);
  uint8_t* tcp = ip + ip_size;
  std::memset(tcp, 0, 20);
  store_be16(tcp, parsed.key.destination_port);
  store_be16(tcp + 2, parsed.key.source_port);
  const TcpInfo& t = parsed.tcp;
  if (t.flags & kTcpAck) {
    // RFC 793: the reset takes its sequence number from the segment's acknowledgement.
    store_be32(tcp + 4, t.ack);
    tcp[13] = kTcpRst;
  } else {
    const uint32_t acked = t.seq + parsed.l4_payload_size + ((t.flags & kTcpSyn) ? 1 : 0) +
                           ((t.flags & kTcpFin) ? 1 : 0);
    store_be32(tcp + 8, acked);
    tcp[13] = kTcpRst | kTcpAck;
  }
  tcp[12] = 5 << 4;
  const uint32_t sum = pseudo_header_sum(ip, parsed.key.is_v4, kProtoTcp, 20);
  store_be16(tcp + 16, checksum_fold(checksum_add(sum, tcp, 20)));
  return at + ip_size + 20;
}

uint32_t build_unreachable(const PacketView& packet, const ParsedPacket& parsed, uint8_t* out) {
  const bool v4 = parsed.key.is_v4;
  uint32_t at = write_l2(packet, parsed, out);
  // Quote the offending IP packet: RFC 792 asks for the IP header + 8 bytes, RFC 4443 for as
  // much as fits; both bounded by what the hypervisor has and by kRejectQuoteLimit.
  const uint32_t available = packet.header_size - parsed.l3_offset;
  const uint32_t wanted = v4 ? parsed.l4_offset - parsed.l3_offset + 8u : kRejectQuoteLimit;
  const uint32_t quote = std::min({available, wanted, kRejectQuoteLimit});
  const uint32_t l4_size = 8 + quote;
  uint8_t* ip = out + at;
  const uint8_t protocol = v4 ? kProtoIcmp : kProtoIcmpv6;
  const uint32_t ip_size = write_ip(packet, parsed, protocol, l4_size, ip);
  uint8_t* icmp = ip + ip_size;
  std::memset(icmp, 0, 8);
  icmp[0] = v4 ? 3 : 1;   // destination unreachable
  icmp[1] = v4 ? 13 : 1;  // administratively prohibited
  std::memcpy(icmp + 8, packet.data + parsed.l3_offset, quote);
  const uint32_t sum = v4 ? 0 : pseudo_header_sum(ip, false, protocol, l4_size);
  store_be16(icmp + 2, checksum_fold(checksum_add(sum, icmp, l4_size)));
  return at + ip_size + l4_size;
}

}  // namespace

uint32_t build_reject_frame(const PacketView& packet, const ParsedPacket& parsed, uint8_t* out) {
  if (parsed.l3 != L3Kind::kIpv4 && parsed.l3 != L3Kind::kIpv6) return 0;
  if (parsed.fragment == FragmentKind::kLater) return 0;
  if (parsed.key.protocol == kProtoTcp) {
    if (!parsed.has_l4 || (parsed.tcp.flags & kTcpRst)) return 0;
    return build_rst(packet, parsed, out);
  }
  if (parsed.icmp_class == IcmpClass::kError) return 0;
  return build_unreachable(packet, parsed, out);
}

}  // namespace dfw
