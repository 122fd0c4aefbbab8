#pragma once
// Best-effort field path for a YAML syntax error (internal). A document that does not parse has
// no tree to take the path from, so this follows block-style keys and list items by indentation
// up to the error's line, giving e.g. "topology.vms" or "traffic.1.load". Flow collections
// ({...}, [...]) are not entered. Returns "" when no key precedes the line.

#include <string>
#include <string_view>

namespace scenarios::detail {

std::string field_near_line(std::string_view text, int line);  // line is 1-based

}  // namespace scenarios::detail
