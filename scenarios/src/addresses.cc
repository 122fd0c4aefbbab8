#include "addresses.h"

#include <arpa/inet.h>

#include <cstdio>

namespace scenarios {

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  // inet_pton(AF_INET) accepts exactly four decimal octets; no octal, hex or short forms.
  const std::string s(text);
  in_addr addr{};
  if (inet_pton(AF_INET, s.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

bool is_valid_ipv6(std::string_view text) {
  const std::string s(text);
  in6_addr addr{};
  return inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

namespace {
std::optional<uint32_t> parse_prefix_length(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}
}  // namespace

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, std::string* error) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    if (error) *error = "'" + std::string(text) + "' is not a CIDR prefix (expected e.g. 10.0.0.0/16)";
    return std::nullopt;
  }
  const auto address = parse_ipv4(text.substr(0, slash));
  const auto length = parse_prefix_length(text.substr(slash + 1), 32);
  if (!address || !length) {
    if (error) *error = "'" + std::string(text) + "' is not an IPv4 CIDR prefix (expected e.g. 10.0.0.0/16)";
    return std::nullopt;
  }
  const uint32_t mask = *length == 0 ? 0 : ~uint32_t{0} << (32 - *length);
  if ((*address & ~mask) != 0) {
    if (error) {
      *error = "'" + std::string(text) + "' has host bits set (expected the network address " +
               format_ipv4(*address & mask) + "/" + std::to_string(*length) + ")";
    }
    return std::nullopt;
  }
  return Ipv4Prefix{*address, *length};
}

bool is_valid_cidr(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  const std::string_view length = slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
  if (parse_ipv4(address)) {
    return slash == std::string_view::npos || parse_prefix_length(length, 32).has_value();
  }
  if (is_valid_ipv6(address)) {
    return slash == std::string_view::npos || parse_prefix_length(length, 128).has_value();
  }
  return false;
}

std::optional<uint64_t> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 0; i < 17; ++i) {
    const char c = text[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
      continue;
    }
    uint64_t nibble;
    if (c >= '0' && c <= '9') nibble = static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f') nibble = static_cast<uint64_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') nibble = static_cast<uint64_t>(c - 'A' + 10);
    else return std::nullopt;
    value = (value << 4) | nibble;
  }
  return value;
}

std::string format_ipv4(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
  return buf;
}

std::string format_mac(uint64_t mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", static_cast<unsigned>((mac >> 40) & 0xff),
                static_cast<unsigned>((mac >> 32) & 0xff), static_cast<unsigned>((mac >> 24) & 0xff),
                static_cast<unsigned>((mac >> 16) & 0xff), static_cast<unsigned>((mac >> 8) & 0xff),
                static_cast<unsigned>(mac & 0xff));
  return buf;
}

}  // namespace scenarios
