#pragma once
// Invariant 1, "allowed_by_enforced_version" (docs/failures.md "Invariants"): every packet a port
// allowed was allowed by the policy version that port was enforcing at that moment.
//
// Checked on every packet dfw allowed (models::Host::VerdictObserver), by kind:
//  - a packet dfw decided by its rules (one that created a connection, or an ICMP message allowed
//    one by one): the port's rule table version is looked up at the control plane
//    (ControlPlaneLink::computed_spec) and the packet, read from its header bytes by an
//    independent parser, is walked through that RuleSetSpec first-match (invariant_rules.h);
//    allowed there = checked; denied there, a version the controller never computed for the port,
//    or a port that is not where the VM runs = violation;
//  - a packet of an existing connection (and an ICMP error related to one) is allowed by
//    connection state: correct by construction, since the connection's first packet was checked
//    when it was created (or on the source host before a live migration carried it), and dfw
//    keeps established connections across rule changes (docs/dfw.md "Rule changes");
//  - ARP, other EtherTypes, IPv6 neighbour discovery and later fragments are not decided by the
//    rules (dfw's ARP/non-IP switches, the first fragment's verdict).
// A packet allowed under a version the controller has since replaced is stale exposure
// (invariant 4), not a violation: the check is against the version the port enforces.

#include <memory>

#include "extension.h"

namespace scenarios {

std::unique_ptr<RunExtension> create_allowed_invariant(RunContext& context);

}  // namespace scenarios
