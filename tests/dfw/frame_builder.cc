#include "frame_builder.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <stdexcept>

namespace dfw::testing {
namespace {

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
Bytes address(int family, const std::string& text) {
  Bytes out(family == AF_INET ? 4 : 16);
  if (inet_pton(family, text.c_str(), out.data()) != 1)
    throw std::invalid_argument("bad address in test: " + text);
  return out;
}

}  // namespace

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
          uint16_t window, const Bytes& options, uint32_t payload_size) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put32(b, seq);
  put32(b, ack);
  const std::size_t header = 20 + options.size();
  b.push_back(static_cast<uint8_t>((header / 4) << 4));
  b.push_back(flags);
  put16(b, window);
  put32(b, 0);  // checksum, urgent pointer
  b = b + options;
  b.resize(b.size() + payload_size, 0xAB);
  return b;
}

Bytes tcp_wscale_option(uint8_t shift) { return Bytes{1, 3, 3, shift}; }

Bytes udp(uint16_t sport, uint16_t dport, uint32_t payload_size) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<uint16_t>(8 + payload_size));
  put16(b, 0);
  b.resize(b.size() + payload_size, 0xCD);
  return b;
}

Bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t sequence, const Bytes& body) {
  Bytes b{type, code, 0, 0};
  put16(b, id);
  put16(b, sequence);
  return b + body;
}

Bytes ipv4(const std::string& src, const std::string& dst, uint8_t protocol, const Bytes& l4,
           const Ipv4Options& o) {
  Bytes b;
  const std::size_t header = 20 + o.options.size();
  b.push_back(static_cast<uint8_t>(0x40 | (header / 4)));
  b.push_back(0);
  put16(b, static_cast<uint16_t>(header + l4.size()));
  put16(b, o.id);
  uint16_t flags = static_cast<uint16_t>(o.fragment_offset / 8);
  if (o.more_fragments) flags |= 0x2000;
  if (o.reserved_bit) flags |= 0x8000;
  put16(b, flags);
  b.push_back(64);
  b.push_back(protocol);
  put16(b, 0);
  b = b + address(AF_INET, src) + address(AF_INET, dst) + o.options;
  return b + l4;
}

Bytes ipv6(const std::string& src, const std::string& dst, uint8_t next_header,
           const Bytes& rest) {
  Bytes b{0x60, 0, 0, 0};
  put16(b, static_cast<uint16_t>(rest.size()));
  b.push_back(next_header);
  b.push_back(64);
  return b + address(AF_INET6, src) + address(AF_INET6, dst) + rest;
}

Bytes ipv6_ext(uint8_t type, uint8_t next_header, uint32_t units) {
  if (type == 51) {  // AH: length in 4-byte units minus 2
    Bytes b{next_header, static_cast<uint8_t>(units - 2)};
    b.resize(4 * units, 0);
    return b;
  }
  Bytes b{next_header, static_cast<uint8_t>(units - 1)};
  if (type == 0 || type == 60) {  // a PadN option filling the rest
    b.push_back(1);
    b.push_back(static_cast<uint8_t>(8 * units - 4));
  }
  b.resize(8 * units, 0);
  return b;
}

Bytes ipv6_fragment(uint8_t next_header, uint16_t offset, bool more, uint32_t id) {
  Bytes b{next_header, 0};
  put16(b, static_cast<uint16_t>((offset & 0xFFF8) | (more ? 1 : 0)));
  put32(b, id);
  return b;
}

Bytes eth(uint16_t ether_type, const Bytes& payload, const std::vector<uint16_t>& vlan_tpids) {
  Bytes b{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (uint16_t tpid : vlan_tpids) {
    put16(b, tpid);
    put16(b, 100);
  }
  put16(b, ether_type);
  return b + payload;
}

Bytes arp_request() {
  Bytes b;
  put16(b, 1);
  put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  put16(b, 1);
  Bytes rest(20, 0);
  b = b + rest;
  return eth(0x0806, b);
}

Bytes tcp4(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window, const Bytes& options,
           uint32_t payload_size) {
  return eth(0x0800, ipv4(src, dst, 6, tcp(sport, dport, flags, seq, ack, window, options,
                                           payload_size)));
}
Bytes udp4(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint32_t payload_size) {
  return eth(0x0800, ipv4(src, dst, 17, udp(sport, dport, payload_size)));
}
Bytes tcp6(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window) {
  return eth(0x86DD, ipv6(src, dst, 6, tcp(sport, dport, flags, seq, ack, window)));
}
Bytes udp6(const std::string& src, const std::string& dst, uint16_t sport, uint16_t dport,
           uint32_t payload_size) {
  return eth(0x86DD, ipv6(src, dst, 17, udp(sport, dport, payload_size)));
}

}  // namespace dfw::testing
