#include "daemons/probe.h"

#include "controller/address.h"

namespace daemons {
namespace {

constexpr std::size_t kEthernetSize = 14;
constexpr std::size_t kIpv4Size = 20;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool parse_number(const std::string& text, uint64_t max, uint64_t& out) {
  if (text.empty() || text.size() > 10) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return out <= max;
}

bool parse_ipv4(const std::string& text, uint8_t out[4]) {
  dfw::IpPrefix p;
  if (!controller::parse_address(text, p) || !p.is_v4) return false;
  for (int i = 0; i < 4; ++i) out[i] = p.address[12 + i];
  return true;
}

void put16(std::vector<uint8_t>& f, std::size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

}  // namespace

bool parse_probe(const std::string& text, Probe& out, std::string& error) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    error = "\"" + text + "\": expected NAME=PORT:DIRECTION:PROTOCOL:SOURCE:DESTINATION:DESTINATION_PORT";
    return false;
  }
  out = Probe{};
  out.name = text.substr(0, equals);
  const std::vector<std::string> parts = split(text.substr(equals + 1), ':');
  if (parts.size() != 6) {
    error = "\"" + text + "\": expected 6 fields after '=' (PORT:DIRECTION:PROTOCOL:SOURCE:DESTINATION:DESTINATION_PORT), got " +
            std::to_string(parts.size());
    return false;
  }
  uint64_t port = 0, dport = 0;
  if (!parse_number(parts[0], UINT32_MAX, port)) {
    error = "\"" + text + "\": port \"" + parts[0] + "\" is not a dfw port id";
    return false;
  }
  out.port = static_cast<dfw::PortId>(port);
  if (parts[1] == "egress") {
    out.direction = dfw::Direction::kEgress;
  } else if (parts[1] == "ingress") {
    out.direction = dfw::Direction::kIngress;
  } else {
    error = "\"" + text + "\": direction \"" + parts[1] + "\" is neither egress nor ingress";
    return false;
  }
  if (parts[2] != "tcp" && parts[2] != "udp") {
    error = "\"" + text + "\": protocol \"" + parts[2] + "\" is neither tcp nor udp";
    return false;
  }
  const bool tcp = parts[2] == "tcp";
  uint8_t src[4], dst[4];
  if (!parse_ipv4(parts[3], src) || !parse_ipv4(parts[4], dst)) {
    error = "\"" + text + "\": source and destination must be IPv4 addresses";
    return false;
  }
  if (!parse_number(parts[5], 65535, dport)) {
    error = "\"" + text + "\": destination port \"" + parts[5] + "\" is not in 0..65535";
    return false;
  }
  const std::size_t l4_size = tcp ? 20 : 8;
  std::vector<uint8_t>& f = out.frame;
  f.assign(kEthernetSize + kIpv4Size + l4_size, 0);
  f[0] = 0x02;  // locally administered MACs; dfw does not look at them
  f[6] = 0x02;
  f[11] = 0x01;
  put16(f, 12, 0x0800);
  uint8_t* ip = &f[kEthernetSize];
  ip[0] = 0x45;
  put16(f, kEthernetSize + 2, static_cast<uint16_t>(kIpv4Size + l4_size));
  ip[6] = 0x40;  // don't fragment
  ip[8] = 64;
  ip[9] = tcp ? dfw::kProtoTcp : dfw::kProtoUdp;
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = src[i];
    ip[16 + i] = dst[i];
  }
  const std::size_t l4 = kEthernetSize + kIpv4Size;
  put16(f, l4 + 2, static_cast<uint16_t>(dport));
  if (tcp) {
    f[l4 + 12] = 5 << 4;  // data offset: 20 bytes
    f[l4 + 13] = 0x02;    // SYN
    put16(f, l4 + 14, 65535);
  } else {
    put16(f, l4 + 4, 8);
  }
  return true;
}

std::string run_probe(Probe& probe, dfw::DatapathDriver& driver, uint16_t source_port) {
  put16(probe.frame, kEthernetSize + kIpv4Size, source_port);
  if (!driver.datapath().has_port(probe.port)) return "unknown_port";
  const dfw::PacketView view{probe.frame.data(), static_cast<uint32_t>(probe.frame.size()),
                             static_cast<uint32_t>(probe.frame.size()), 1};
  const dfw::Result result = driver.process(probe.port, probe.direction, view);
  return result.verdict == dfw::Verdict::kAllow ? "allow" : "drop";
}

}  // namespace daemons
