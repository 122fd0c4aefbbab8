#pragma once
// Address helpers for the controller: text <-> dfw::IpPrefix in dfw's canonical form (IPv4 as
// IPv4-mapped IPv6, length over the 128-bit form), ordering and containment. Kept here rather than
// calling dfw's parser so that policy files load without the datapath.

#include <string>
#include <string_view>

#include "dfw/rules.h"

namespace controller {

// "10.0.0.0/8", "10.1.2.3" (a /32), "2001:db8::/32", "::1" (a /128). False on malformed text, a
// length beyond the family's width, or host bits set below the prefix length.
bool parse_prefix(std::string_view text, dfw::IpPrefix& out);
// A full-length prefix (host address) from "10.1.2.3" or "2001:db8::5"; false otherwise.
bool parse_address(std::string_view text, dfw::IpPrefix& out);
std::string format_prefix(const dfw::IpPrefix& prefix);

bool is_host_prefix(const dfw::IpPrefix& prefix);  // length 128 (a /32 or /128)
// True when `address` (a host prefix) lies inside `prefix`.
bool prefix_contains(const dfw::IpPrefix& prefix, const dfw::IpPrefix& address);

// Total order: by address bytes, then length. Equality ignores nothing.
bool prefix_less(const dfw::IpPrefix& a, const dfw::IpPrefix& b);
bool prefix_equal(const dfw::IpPrefix& a, const dfw::IpPrefix& b);

}  // namespace controller
