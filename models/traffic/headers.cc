// Frame builders and parser; see models/headers.h for the exact conventions.
#include "models/headers.h"

#include <bit>
#include <cstring>

namespace models {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeVlan = 0x8100;

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// 8 bytes read big-endian.
uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

// The address as the two big-endian words of its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so both
// families hash through one path; built directly in registers (this runs for every packet built).
void hash_words(const IpAddress& a, uint64_t& high, uint64_t& low) {
  if (a.is_v6) {
    high = load64(a.bytes.data());
    low = load64(a.bytes.data() + 8);
    return;
  }
  high = 0;
  low = 0x0000FFFF00000000ULL | get32(a.bytes.data());
}

// Writes Ethernet + IP headers for an L4 segment of `l4_size` bytes; returns the L4 offset.
uint32_t write_l2_l3(uint8_t* h, const L2Addresses& l2, const FiveTuple& t, uint32_t l4_size) {
  std::memcpy(h, l2.destination.data(), 6);
  std::memcpy(h + 6, l2.source.data(), 6);
  if (!t.source.is_v6) {
    put16(h + 12, kEtherTypeIpv4);
    uint8_t* ip = h + kEthernetHeaderSize;
    ip[0] = 0x45;  // version 4, IHL 5
    ip[1] = 0;     // DSCP 0, not ECN-capable
    put16(ip + 2, static_cast<uint16_t>(kIpv4HeaderSize + l4_size));
    put16(ip + 4, 0);       // identification: 0 is what Linux uses with DF set
    put16(ip + 6, 0x4000);  // DF, fragment offset 0
    ip[8] = 64;             // TTL
    ip[9] = t.protocol;
    put16(ip + 10, 0);
    std::memcpy(ip + 12, t.source.bytes.data(), 4);
    std::memcpy(ip + 16, t.destination.bytes.data(), 4);
    put16(ip + 10, checksum_fold(checksum_add(0, ip, kIpv4HeaderSize)));
    return kEthernetHeaderSize + kIpv4HeaderSize;
  }
  put16(h + 12, kEtherTypeIpv6);
  uint8_t* ip = h + kEthernetHeaderSize;
  put32(ip, 0x60000000);  // version 6, traffic class 0, flow label 0
  put16(ip + 4, static_cast<uint16_t>(l4_size));
  ip[6] = t.protocol;
  ip[7] = 64;  // hop limit
  std::memcpy(ip + 8, t.source.bytes.data(), 16);
  std::memcpy(ip + 24, t.destination.bytes.data(), 16);
  return kEthernetHeaderSize + kIpv6HeaderSize;
}

// The pseudo-header sum (RFC 793 / RFC 8200 section 8.1).
uint32_t pseudo_header_sum(const FiveTuple& t, uint32_t l4_size) {
  const std::size_t address_size = t.source.is_v6 ? 16 : 4;
  uint32_t sum = checksum_add(0, t.source.bytes.data(), address_size);
  sum = checksum_add(sum, t.destination.bytes.data(), address_size);
  sum += t.protocol;
  sum += l4_size >> 16;
  sum += l4_size & 0xFFFF;
  return sum;
}


// Fills segment_count and wire_size for `payload_size` bytes in segments of `segment_payload`.
void set_wire_size(Packet& packet, uint32_t frame_header_size, uint32_t payload_size,
                   uint32_t segment_payload) {
  auto frame = [&](uint32_t payload) {
    const uint32_t size = frame_header_size + payload;
    return size < kEthernetMinimumFrameSize ? kEthernetMinimumFrameSize : size;
  };
  if (segment_payload == 0 || payload_size <= segment_payload) {
    packet.segment_count = 1;
    packet.wire_size = frame(payload_size);
    return;
  }
  const uint32_t full = payload_size / segment_payload;
  const uint32_t tail = payload_size % segment_payload;
  packet.segment_count = static_cast<uint16_t>(full + (tail ? 1 : 0));
  packet.wire_size = full * frame(segment_payload) + (tail ? frame(tail) : 0);
}

bool families_match(const FiveTuple& t) { return t.source.is_v6 == t.destination.is_v6; }

}  // namespace

IpAddress IpAddress::v4(uint32_t host_order) {
  IpAddress a;
  put32(a.bytes.data(), host_order);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& network_order) {
  IpAddress a;
  a.bytes = network_order;
  a.is_v6 = true;
  return a;
}

uint32_t IpAddress::v4_host_order() const { return get32(bytes.data()); }

uint64_t flow_hash(const FiveTuple& t) {
  uint64_t s_high, s_low, d_high, d_low;
  hash_words(t.source, s_high, s_low);
  hash_words(t.destination, d_high, d_low);
  uint64_t h = 0x5EC5111F10ULL;
  h = mix(h, s_high);
  h = mix(h, s_low);
  h = mix(h, d_high);
  h = mix(h, d_low);
  h = mix(h, (uint64_t{t.source_port} << 24) | (uint64_t{t.destination_port} << 8) | t.protocol);
  return h;
}

uint32_t max_super_packet_payload(bool ipv6, uint32_t l4_header_size) {
  return ipv6 ? kMaxIpv6PayloadLength - l4_header_size
              : kMaxIpv4TotalLength - kIpv4HeaderSize - l4_header_size;
}

uint32_t checksum_add(uint32_t sum, const uint8_t* data, std::size_t size) {
  std::size_t i = 0;
  for (; i + 1 < size; i += 2) sum += get16(data + i);
  if (i < size) sum += uint32_t{data[i]} << 8;
  return sum;
}

uint16_t checksum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool build_tcp_frame(Packet& packet, const L2Addresses& l2, const FiveTuple& tuple,
                     const TcpFields& tcp, uint32_t payload_size, uint32_t segment_payload_size) {
  if (!families_match(tuple)) return false;
  uint8_t options[8];
  uint32_t options_size = 0;
  if (tcp.mss_option != 0) {
    options[0] = 2;  // kind MSS
    options[1] = 4;
    put16(options + 2, tcp.mss_option);
    options_size = 4;
  }
  if (tcp.window_scale_option >= 0) {
    options[options_size++] = 1;  // NOP keeps the header 32-bit aligned
    options[options_size++] = 3;  // kind window scale
    options[options_size++] = 3;
    options[options_size++] = static_cast<uint8_t>(tcp.window_scale_option);
  }
  const uint32_t tcp_header_size = kTcpHeaderSize + options_size;
  if (payload_size > max_super_packet_payload(tuple.source.is_v6, tcp_header_size)) return false;
  const uint32_t l4_size = tcp_header_size + payload_size;

  uint8_t* h = packet.header.data();
  const uint32_t l4 = write_l2_l3(h, l2, tuple, l4_size);
  uint8_t* t = h + l4;
  put16(t, tuple.source_port);
  put16(t + 2, tuple.destination_port);
  put32(t + 4, tcp.seq);
  put32(t + 8, tcp.ack);
  t[12] = static_cast<uint8_t>((tcp_header_size / 4) << 4);
  t[13] = tcp.flags;
  put16(t + 14, tcp.window);
  put16(t + 16, 0);
  put16(t + 18, 0);  // urgent pointer
  std::memcpy(t + kTcpHeaderSize, options, options_size);
  const uint32_t sum = checksum_add(pseudo_header_sum(tuple, l4_size), t, tcp_header_size);
  put16(t + 16, checksum_fold(sum));

  packet.header_size = static_cast<uint16_t>(l4 + tcp_header_size);
  packet.payload_size = payload_size;
  set_wire_size(packet, packet.header_size, payload_size, segment_payload_size);
  packet.flow_hash = flow_hash(tuple);
  return true;
}

bool build_udp_frame(Packet& packet, const L2Addresses& l2, const FiveTuple& tuple,
                     uint32_t payload_size) {
  if (!families_match(tuple)) return false;
  if (payload_size > max_super_packet_payload(tuple.source.is_v6, kUdpHeaderSize)) return false;
  const uint32_t l4_size = kUdpHeaderSize + payload_size;
  uint8_t* h = packet.header.data();
  const uint32_t l4 = write_l2_l3(h, l2, tuple, l4_size);
  uint8_t* u = h + l4;
  put16(u, tuple.source_port);
  put16(u + 2, tuple.destination_port);
  put16(u + 4, static_cast<uint16_t>(l4_size));
  put16(u + 6, 0);
  uint16_t checksum = checksum_fold(checksum_add(pseudo_header_sum(tuple, l4_size), u, kUdpHeaderSize));
  if (checksum == 0) checksum = 0xFFFF;  // RFC 768: zero means "no checksum"
  put16(u + 6, checksum);

  packet.header_size = static_cast<uint16_t>(l4 + kUdpHeaderSize);
  packet.payload_size = payload_size;
  set_wire_size(packet, packet.header_size, payload_size, 0);
  packet.flow_hash = flow_hash(tuple);
  return true;
}

bool build_icmp_frame(Packet& packet, const L2Addresses& l2, const FiveTuple& tuple,
                      const IcmpFields& icmp, uint32_t payload_size) {
  if (!families_match(tuple)) return false;
  FiveTuple t = tuple;
  t.protocol = tuple.source.is_v6 ? kProtocolIcmpv6 : kProtocolIcmp;
  t.source_port = 0;
  t.destination_port = 0;
  if (payload_size > max_super_packet_payload(t.source.is_v6, kIcmpHeaderSize)) return false;
  const uint32_t l4_size = kIcmpHeaderSize + payload_size;
  uint8_t* h = packet.header.data();
  const uint32_t l4 = write_l2_l3(h, l2, t, l4_size);
  uint8_t* c = h + l4;
  c[0] = icmp.type;
  c[1] = icmp.code;
  put16(c + 2, 0);
  put16(c + 4, icmp.identifier);
  put16(c + 6, icmp.sequence);
  // ICMPv4 sums only the message; ICMPv6 adds the pseudo-header.
  const uint32_t start = t.source.is_v6 ? pseudo_header_sum(t, l4_size) : 0;
  put16(c + 2, checksum_fold(checksum_add(start, c, kIcmpHeaderSize)));

  packet.header_size = static_cast<uint16_t>(l4 + kIcmpHeaderSize);
  packet.payload_size = payload_size;
  set_wire_size(packet, packet.header_size, payload_size, 0);
  packet.flow_hash = flow_hash(t);
  return true;
}

namespace {

// Parses an IP header at `p` (size bytes available). Fills addresses/protocol and the L4 size
// the length field names. Returns the IP header size, or 0 on error (status set).
uint32_t parse_ip(const uint8_t* p, std::size_t size, bool v6, FiveTuple& t, uint8_t& ttl,
                  uint32_t& l4_size, ParseStatus& status) {
  if (!v6) {
    if (size < kIpv4HeaderSize) { status = ParseStatus::kTruncated; return 0; }
    const uint32_t ihl = (p[0] & 0x0F) * 4u;
    if ((p[0] >> 4) != 4 || ihl < kIpv4HeaderSize) { status = ParseStatus::kMalformed; return 0; }
    if (size < ihl) { status = ParseStatus::kTruncated; return 0; }
    const uint32_t total = get16(p + 2);
    if (total < ihl) { status = ParseStatus::kMalformed; return 0; }
    t.source = IpAddress::v4(get32(p + 12));
    t.destination = IpAddress::v4(get32(p + 16));
    t.protocol = p[9];
    ttl = p[8];
    l4_size = total - ihl;
    return ihl;
  }
  if (size < kIpv6HeaderSize) { status = ParseStatus::kTruncated; return 0; }
  if ((p[0] >> 4) != 6) { status = ParseStatus::kMalformed; return 0; }
  std::array<uint8_t, 16> a;
  std::memcpy(a.data(), p + 8, 16);
  t.source = IpAddress::v6(a);
  std::memcpy(a.data(), p + 24, 16);
  t.destination = IpAddress::v6(a);
  t.protocol = p[6];
  ttl = p[7];
  l4_size = get16(p + 4);
  return kIpv6HeaderSize;
}

void parse_tcp_options(const uint8_t* o, uint32_t size, TcpFields& tcp) {
  uint32_t i = 0;
  while (i < size) {
    const uint8_t kind = o[i];
    if (kind == 0) return;  // end of options
    if (kind == 1) { ++i; continue; }
    if (i + 1 >= size || o[i + 1] < 2 || i + o[i + 1] > size) return;
    const uint8_t length = o[i + 1];
    if (kind == 2 && length == 4) tcp.mss_option = get16(o + i + 2);
    if (kind == 3 && length == 3) tcp.window_scale_option = static_cast<int8_t>(o[i + 2]);
    i += length;
  }
}

}  // namespace

ParseStatus parse_frame(const uint8_t* data, std::size_t size, ParsedFrame& out) {
  out = ParsedFrame{};
  if (size < kEthernetHeaderSize) return ParseStatus::kTruncated;
  uint32_t offset = 12;
  uint16_t ether_type = get16(data + offset);
  if (ether_type == kEtherTypeVlan) {
    if (size < kEthernetHeaderSize + 4) return ParseStatus::kTruncated;
    offset += 4;
    ether_type = get16(data + offset);
  }
  offset += 2;
  if (ether_type != kEtherTypeIpv4 && ether_type != kEtherTypeIpv6) return ParseStatus::kNotIp;
  ParseStatus status = ParseStatus::kOk;
  uint32_t l4_size = 0;
  const uint32_t ip_size = parse_ip(data + offset, size - offset, ether_type == kEtherTypeIpv6,
                                    out.tuple, out.ttl, l4_size, status);
  if (ip_size == 0) return status;
  out.l3_offset = offset;
  out.l4_offset = offset + ip_size;
  const uint8_t* l4 = data + out.l4_offset;
  const std::size_t available = size - out.l4_offset;

  switch (out.tuple.protocol) {
    case kProtocolTcp: {
      if (available < kTcpHeaderSize) return ParseStatus::kTruncated;
      const uint32_t header = (l4[12] >> 4) * 4u;
      if (header < kTcpHeaderSize || header > l4_size) return ParseStatus::kMalformed;
      if (available < header) return ParseStatus::kTruncated;
      out.tuple.source_port = get16(l4);
      out.tuple.destination_port = get16(l4 + 2);
      out.tcp.seq = get32(l4 + 4);
      out.tcp.ack = get32(l4 + 8);
      out.tcp.flags = l4[13];
      out.tcp.window = get16(l4 + 14);
      parse_tcp_options(l4 + kTcpHeaderSize, header - kTcpHeaderSize, out.tcp);
      out.l4_header_size = header;
      break;
    }
    case kProtocolUdp:
      if (available < kUdpHeaderSize) return ParseStatus::kTruncated;
      if (l4_size < kUdpHeaderSize) return ParseStatus::kMalformed;
      out.tuple.source_port = get16(l4);
      out.tuple.destination_port = get16(l4 + 2);
      out.l4_header_size = kUdpHeaderSize;
      break;
    case kProtocolIcmp:
    case kProtocolIcmpv6: {
      if (available < kIcmpHeaderSize) return ParseStatus::kTruncated;
      if (l4_size < kIcmpHeaderSize) return ParseStatus::kMalformed;
      out.icmp.type = l4[0];
      out.icmp.code = l4[1];
      out.icmp.identifier = get16(l4 + 4);
      out.icmp.sequence = get16(l4 + 6);
      out.l4_header_size = kIcmpHeaderSize;
      // Errors (v4: 3 unreachable, 11 time exceeded; v6: types below 128) quote the offending
      // packet from its IP header on; its ports are the first four bytes after that header.
      const bool v6 = out.tuple.protocol == kProtocolIcmpv6;
      const bool is_error = v6 ? out.icmp.type < 128 : (out.icmp.type == 3 || out.icmp.type == 11);
      if (is_error) {
        const uint8_t* inner = l4 + kIcmpHeaderSize;
        const std::size_t inner_available = available - kIcmpHeaderSize;
        uint8_t inner_ttl = 0;
        uint32_t inner_l4_size = 0;
        ParseStatus inner_status = ParseStatus::kOk;
        const uint32_t inner_ip = parse_ip(inner, inner_available, v6, out.inner, inner_ttl,
                                           inner_l4_size, inner_status);
        if (inner_ip != 0 && inner_available >= inner_ip + 4) {
          out.inner.source_port = get16(inner + inner_ip);
          out.inner.destination_port = get16(inner + inner_ip + 2);
          out.has_inner = true;
        }
      }
      break;
    }
    default:
      break;
  }
  out.l4_payload_size = l4_size > out.l4_header_size ? l4_size - out.l4_header_size : 0;
  return ParseStatus::kOk;
}

}  // namespace models
