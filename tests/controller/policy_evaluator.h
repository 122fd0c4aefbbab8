#pragma once
// Test oracles for the controller, written from the policy's definition (docs/policy.md) and
// dfw's rules.h, without any of the controller's internals:
//  - intended_action(): what the label policy says about one packet (first matching rule in
//    category order, else the default action);
//  - evaluate_spec(): a linear first-match evaluation of a dfw::RuleSetSpec in one direction.

#include <string>
#include <vector>

#include "controller/policy.h"
#include "dfw/rules.h"

namespace controller::testing {

struct Packet {
  dfw::IpPrefix source;       // host prefixes, same family
  dfw::IpPrefix destination;
  uint8_t protocol = dfw::kProtoTcp;
  uint16_t destination_port = 0;  // tcp/udp
  uint8_t icmp_type = 0;          // icmp/icmpv6
};

// The workload owning `address`, nullptr if none.
const Workload* owner(const std::vector<Workload>& workloads, const dfw::IpPrefix& address);

// The action of the first rule (category order, then file order) matching the packet; the
// default action when none does. `rule_index` receives that rule's index or -1.
dfw::Action intended_action(const Policy& policy, const std::vector<Workload>& workloads, const Packet& packet,
                            int* rule_index = nullptr);

// First-match evaluation of `spec` for a packet crossing a port in `direction` (kIn or kOut).
// `rule_id` receives the deciding dfw rule id or -1.
dfw::Action evaluate_spec(const dfw::RuleSetSpec& spec, dfw::RuleDirection direction, const Packet& packet,
                          int64_t* rule_id = nullptr);

// A readable dump of a spec, for failure messages.
std::string describe(const dfw::RuleSetSpec& spec);

// Structural equality of two specs, versions aside.
bool same_rules(const dfw::RuleSetSpec& a, const dfw::RuleSetSpec& b);

}  // namespace controller::testing
