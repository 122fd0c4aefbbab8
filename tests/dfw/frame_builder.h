#pragma once
// Test helper: builds real frames byte by byte (Ethernet, VLAN, ARP, IPv4 with options and
// fragments, IPv6 with extension headers, TCP, UDP, ICMP, ICMPv6). Lengths are computed;
// checksums are left zero because dfw does not verify them (see docs/dfw.md).

#include <cstdint>
#include <string>
#include <vector>

#include "dfw/types.h"

namespace dfw::testing {

using Bytes = std::vector<uint8_t>;

Bytes operator+(Bytes a, const Bytes& b);

inline constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20;

// Layer 4.
Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq = 0, uint32_t ack = 0,
          uint16_t window = 65535, const Bytes& options = {}, uint32_t payload_size = 0);
Bytes tcp_wscale_option(uint8_t shift);  // NOP + window scale, 4 bytes
Bytes udp(uint16_t sport, uint16_t dport, uint32_t payload_size = 0);
Bytes icmp(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t sequence = 0,
           const Bytes& body = {});

// Layer 3. `l4` is everything after the IP header (extension headers included for IPv6).
struct Ipv4Options {
  Bytes options;           // padded by the caller to a multiple of 4
  uint16_t id = 1;
  uint16_t fragment_offset = 0;  // bytes, multiple of 8
  bool more_fragments = false;
  bool reserved_bit = false;
};
Bytes ipv4(const std::string& src, const std::string& dst, uint8_t protocol, const Bytes& l4,
           const Ipv4Options& o = {});
Bytes ipv6(const std::string& src, const std::string& dst, uint8_t next_header, const Bytes& rest);
// A generic extension header (hop-by-hop 0, routing 43, destination options 60) of 8*(units)
// bytes, or AH (51) of 4*(units) bytes.
Bytes ipv6_ext(uint8_t type, uint8_t next_header, uint32_t units = 1);
Bytes ipv6_fragment(uint8_t next_header, uint16_t offset, bool more, uint32_t id);

// Layer 2.
Bytes eth(uint16_t ether_type, const Bytes& payload, const std::vector<uint16_t>& vlan_tpids = {});
Bytes arp_request();

// Complete frames.
Bytes tcp4(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint8_t flags, uint32_t seq = 0, uint32_t ack = 0, uint16_t window = 65535,
           const Bytes& options = {}, uint32_t payload_size = 0);
Bytes udp4(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint32_t payload_size = 0);
Bytes tcp6(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint8_t flags, uint32_t seq = 0, uint32_t ack = 0, uint16_t window = 65535);
Bytes udp6(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint32_t payload_size = 0);

inline PacketView view(const Bytes& frame) {
  return PacketView{frame.data(), static_cast<uint32_t>(frame.size()),
                    static_cast<uint32_t>(frame.size()), 1};
}

}  // namespace dfw::testing
