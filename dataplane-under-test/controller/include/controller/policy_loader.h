#pragma once
// Loading a Policy from YAML: the same document shape as a scenario's `policy:` section (keys
// default_action, custom_labels, ip_lists, services, rules; see docs/policy.md), optionally
// wrapped in a top-level `policy:` key so that a section can be copied between the two files.
//
// Every problem is reported, each with file:line:column, the field path and what was expected
// (unknown keys and names come with a "did you mean" when one is close). Nothing throws.

#include <string>
#include <string_view>
#include <vector>

#include "controller/policy.h"

namespace controller {

struct LoadError {
  std::string file;
  int line = 0;    // 1-based; 0 when the error concerns the whole file
  int column = 0;  // 1-based
  std::string field;  // e.g. "policy.rules[2].from.tier"
  std::string message;
  // "file:line:column: field: message"
  std::string to_string() const;
};

struct PolicyLoadResult {
  Policy policy;                  // meaningful only when errors is empty
  std::vector<LoadError> errors;  // in document order
  bool ok() const { return errors.empty(); }
};

PolicyLoadResult load_policy_file(const std::string& path);
// `file_name` is used in messages only.
PolicyLoadResult load_policy_text(std::string_view text, const std::string& file_name);

// The compact service syntax shared by files and code: "any", "tcp", "tcp/8080",
// "tcp/8000-8099", "udp/53", "icmp", "icmp/8", "icmpv6/128". False with `why` set otherwise.
bool parse_service(std::string_view text, Service& out, std::string& why);

}  // namespace controller
