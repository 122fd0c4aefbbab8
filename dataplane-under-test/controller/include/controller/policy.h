#pragma once
// The label-based policy model: what an operator writes, before the controller compiles it into
// per-port dfw rule sets.
//
// Workloads (VMs, one dfw port each) carry labels: the four standard keys role, app, env and loc,
// plus custom keys the policy declares. Rules say which scopes may talk to which, over which
// services; a scope is a set of workloads selected by labels, plus IP lists for addresses outside
// the labelled estate, or "any". Rules are evaluated in category order (emergency,
// infrastructure, environment, application, default, as NSX does), in file order within a
// category; the first rule whose source scope, destination scope and service all match decides,
// and the policy's default action applies when none does. docs/policy.md has the YAML form.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dfw/rules.h"
#include "dfw/types.h"

namespace controller {

using dfw::Status;

// A dfw port id; one port per workload, so it is also the workload's id.
using WorkloadId = dfw::PortId;

// The label keys every policy knows. Others must be declared in Policy::custom_labels.
inline constexpr std::array<std::string_view, 4> kStandardLabelKeys = {"role", "app", "env", "loc"};
// Words of the scope syntax (`labels:`, `ip_lists:`, the scalar `any`); a custom label key may
// not be one of them.
inline constexpr std::array<std::string_view, 3> kReservedScopeKeys = {"labels", "ip_lists", "any"};

using Labels = std::map<std::string, std::string>;  // key -> value, ordered

// A process inside a workload, for process-level ("nano") segmentation. Its labels extend the
// workload's (a process may not redefine a key its workload already has). A packet is addressed to
// the process when its protocol and destination port are one of the process's listening ports; a
// scope that matches the process but not the workload therefore admits only those ports.
struct ListeningPort {
  uint8_t protocol = dfw::kProtoTcp;  // tcp or udp
  uint16_t port = 0;
};
struct Process {
  std::string name;
  Labels labels;
  std::vector<ListeningPort> listening_ports;
};

struct Workload {
  WorkloadId id = 0;  // also its dfw port id
  std::string name;
  // Host addresses (IPv4 and/or IPv6), as dfw prefixes of full length. At most kMaxAddresses.
  std::vector<dfw::IpPrefix> addresses;
  Labels labels;
  std::string host;  // where its port lives; moving a VM changes this only
  std::vector<Process> processes;
};
inline constexpr std::size_t kMaxAddresses = 8;

// Who a rule's side selects. The union of: the workloads whose labels include every given label
// (when `labels` is not empty), the addresses of the named IP lists, and everything when `any`.
// A scope with no labels, no IP lists and not `any` selects every workload of the estate (but no
// outside address); the YAML form cannot write it (`{}` is an error there, as in scenarios), code
// converting a scenario may. A workload also belongs to a scope when one of its addresses lies in one of
// the scope's IP lists (then for that address only).
struct Scope {
  Labels labels;
  std::vector<std::string> ip_lists;  // names of Policy::ip_lists
  bool any = false;
};

// A protocol with a destination port range (TCP/UDP) or an ICMP type (ICMP/ICMPv6).
struct Service {
  uint8_t protocol = dfw::kProtoAny;  // 0 any, 6 tcp, 17 udp, 1 icmp, 58 icmpv6
  uint16_t port_first = 0;
  uint16_t port_last = 65535;
  int16_t icmp_type = -1;  // -1: any
  friend bool operator==(const Service&, const Service&) = default;
};

enum class Category : uint8_t { kEmergency, kInfrastructure, kEnvironment, kApplication, kDefault };
inline constexpr std::size_t kCategoryCount = 5;
std::string_view category_name(Category c);
bool parse_category(std::string_view text, Category& out);
std::string_view action_name(dfw::Action a);
bool parse_action(std::string_view text, dfw::Action& out);

struct Rule {
  std::string name;
  Category category = Category::kApplication;
  Scope from;
  Scope to;
  std::vector<Service> services;  // empty: any
  dfw::Action action = dfw::Action::kAllow;
  bool log = false;
};
inline constexpr std::size_t kMaxServicesPerRule = 256;

struct Policy {
  std::vector<std::string> custom_labels;  // label keys allowed besides the standard four
  std::map<std::string, std::vector<dfw::IpPrefix>> ip_lists;
  std::map<std::string, Service> services;  // named services (rules hold them resolved)
  std::vector<Rule> rules;                  // file order; categories may interleave
  dfw::Action default_action = dfw::Action::kDrop;
};

// True when `key` is a standard label key or one of policy.custom_labels.
bool is_known_label_key(const Policy& policy, std::string_view key);

// Checks one service: first <= last, ports only on tcp/udp, an ICMP type only on icmp/icmpv6.
// `where` prefixes the message.
Status check_service(const Service& service, const std::string& where);

// Checks what the controller relies on: known label keys in scopes, IP list names that resolve,
// consistent services, unique rule names, at most kMaxServicesPerRule services. The error names
// the rule and field ("rules[3] \"web-to-api\".from.tier: unknown label key").
Status validate_policy(const Policy& policy);

// Checks a workload against the policy: known label keys, 1..kMaxAddresses full-length
// addresses, process labels that only add keys, listening ports on tcp/udp.
Status validate_workload(const Policy& policy, const Workload& workload);

// dfw rule ids encode the policy rule (its index in Policy::rules, plus one) and the service
// index within it, so that dfw's per-rule counters map back to the policy.
inline uint32_t dfw_rule_id(std::size_t rule_index, std::size_t piece) {
  return static_cast<uint32_t>(((rule_index + 1) << 8) | (piece & 0xff));
}
inline std::size_t policy_rule_index(uint32_t dfw_id) { return (dfw_id >> 8) - 1; }

}  // namespace controller
