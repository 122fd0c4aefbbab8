#pragma once
// Address syntax for scenario files: IPv4, IPv4 CIDR, IPv6, MAC. Strict: dotted-quad decimal
// only for IPv4, colon-separated hex pairs for MACs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scenarios {

struct Ipv4Prefix {
  uint32_t network = 0;  // host byte order, host bits zero
  uint32_t length = 0;   // prefix length 0..32
};

std::optional<uint32_t> parse_ipv4(std::string_view text);
// "10.0.0.0/16"; rejects host bits set ("10.0.0.1/16") so that typos do not go unnoticed.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, std::string* error);
// Any IPv4 or IPv6 CIDR (for policy ip_lists); a bare address counts as a /32 or /128.
bool is_valid_cidr(std::string_view text);
bool is_valid_ipv6(std::string_view text);
std::optional<uint64_t> parse_mac(std::string_view text);  // 48-bit value

std::string format_ipv4(uint32_t address);
std::string format_mac(uint64_t mac);

}  // namespace scenarios
