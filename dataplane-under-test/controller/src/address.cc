#include "controller/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace controller {
namespace {

constexpr unsigned kV4MappedBits = 96;

bool parse_length(std::string_view text, unsigned max_value, unsigned& out) {
  if (text.empty() || text.size() > 3) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max_value;
}

bool host_bits_clear(const dfw::IpPrefix& p) {
  for (unsigned bit = p.length; bit < 128; ++bit) {
    if (p.address[bit / 8] & (0x80u >> (bit % 8))) return false;
  }
  return true;
}

}  // namespace

bool parse_prefix(std::string_view text, dfw::IpPrefix& out) {
  std::string_view address_text = text;
  std::string_view length_text;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    address_text = text.substr(0, slash);
    length_text = text.substr(slash + 1);
    if (length_text.empty()) return false;
  }
  if (address_text.empty() || address_text.size() >= INET6_ADDRSTRLEN) return false;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, address_text.data(), address_text.size());
  buffer[address_text.size()] = '\0';

  dfw::IpPrefix p;
  unsigned length = 0;
  uint8_t v4[4];
  if (inet_pton(AF_INET, buffer, v4) == 1) {
    if (length_text.empty()) {
      length = 32;
    } else if (!parse_length(length_text, 32, length)) {
      return false;
    }
    p.address[10] = 0xff;
    p.address[11] = 0xff;
    std::memcpy(p.address.data() + 12, v4, 4);
    p.length = static_cast<uint8_t>(kV4MappedBits + length);
    p.is_v4 = true;
  } else if (inet_pton(AF_INET6, buffer, p.address.data()) == 1) {
    if (length_text.empty()) {
      length = 128;
    } else if (!parse_length(length_text, 128, length)) {
      return false;
    }
    p.length = static_cast<uint8_t>(length);
    p.is_v4 = false;
  } else {
    return false;
  }
  if (!host_bits_clear(p)) return false;
  out = p;
  return true;
}

bool parse_address(std::string_view text, dfw::IpPrefix& out) {
  if (text.find('/') != std::string_view::npos) return false;
  return parse_prefix(text, out);
}

std::string format_prefix(const dfw::IpPrefix& prefix) {
  char buffer[INET6_ADDRSTRLEN];
  unsigned length = prefix.length;
  if (prefix.is_v4) {
    inet_ntop(AF_INET, prefix.address.data() + 12, buffer, sizeof buffer);
    length -= kV4MappedBits;
  } else {
    inet_ntop(AF_INET6, prefix.address.data(), buffer, sizeof buffer);
  }
  return std::string(buffer) + "/" + std::to_string(length);
}

bool is_host_prefix(const dfw::IpPrefix& prefix) { return prefix.length == 128; }

bool prefix_contains(const dfw::IpPrefix& prefix, const dfw::IpPrefix& address) {
  if (prefix.is_v4 != address.is_v4) return false;
  unsigned full_bytes = prefix.length / 8;
  if (std::memcmp(prefix.address.data(), address.address.data(), full_bytes) != 0) return false;
  unsigned rest = prefix.length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (prefix.address[full_bytes] & mask) == (address.address[full_bytes] & mask);
}

bool prefix_less(const dfw::IpPrefix& a, const dfw::IpPrefix& b) {
  if (int c = std::memcmp(a.address.data(), b.address.data(), 16); c != 0) return c < 0;
  if (a.length != b.length) return a.length < b.length;
  return a.is_v4 < b.is_v4;
}

bool prefix_equal(const dfw::IpPrefix& a, const dfw::IpPrefix& b) {
  return a.address == b.address && a.length == b.length && a.is_v4 == b.is_v4;
}

}  // namespace controller
