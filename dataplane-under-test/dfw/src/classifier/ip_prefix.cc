// IpPrefix text forms: "a.b.c.d[/len]" (IPv4, stored as ::ffff:a.b.c.d/96+len) and IPv6
// "x:x::x[/len]", as accepted by inet_pton. Host bits beyond the length are cleared.

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "dfw/rules.h"

namespace dfw {

namespace {

void clear_host_bits(std::array<uint8_t, 16>& address, uint32_t length) {
  for (uint32_t byte = 0; byte < 16; ++byte) {
    const uint32_t bit = byte * 8;
    if (length >= bit + 8) continue;
    address[byte] = length <= bit ? 0 : static_cast<uint8_t>(address[byte] & (0xff00u >> (length - bit)));
  }
}

}  // namespace

bool IpPrefix::parse(const std::string& text, IpPrefix& out) {
  const std::size_t slash = text.find('/');
  const std::string address_text = text.substr(0, slash);
  if (address_text.empty() || address_text.size() >= INET6_ADDRSTRLEN) return false;
  IpPrefix result;
  uint32_t max_length = 0;
  in_addr v4{};
  in6_addr v6{};
  if (address_text.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, address_text.c_str(), &v4) != 1) return false;
    result.is_v4 = true;
    result.address[10] = result.address[11] = 0xff;
    std::memcpy(result.address.data() + 12, &v4, 4);
    max_length = 32;
  } else {
    if (inet_pton(AF_INET6, address_text.c_str(), &v6) != 1) return false;
    std::memcpy(result.address.data(), &v6, 16);
    max_length = 128;
  }
  uint32_t length = max_length;
  if (slash != std::string::npos) {
    const char* first = text.data() + slash + 1;
    const char* last = text.data() + text.size();
    if (first == last || last - first > 3) return false;
    auto [end, ec] = std::from_chars(first, last, length);
    if (ec != std::errc() || end != last || length > max_length) return false;
  }
  result.length = static_cast<uint8_t>(result.is_v4 ? 96 + length : length);
  clear_host_bits(result.address, result.length);
  out = result;
  return true;
}

std::string IpPrefix::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (is_v4) {
    inet_ntop(AF_INET, address.data() + 12, buffer, sizeof(buffer));
    return std::string(buffer) + "/" + std::to_string(length >= 96 ? length - 96 : 0);
  }
  inet_ntop(AF_INET6, address.data(), buffer, sizeof(buffer));
  return std::string(buffer) + "/" + std::to_string(length);
}

}  // namespace dfw
