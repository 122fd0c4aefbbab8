#pragma once
// The policy controller's computation: from a label-based Policy and the current workloads, the
// dfw rule set of every workload's port.
//
// For each rule, every workload in its `from` scope gets an egress rule (direction out,
// destination = the `to` scope's IP set) and every workload in its `to` scope an ingress rule
// (direction in, source = the `from` scope's IP set), in the policy's priority order (category,
// then file order). A packet between two workloads is therefore decided by the same policy rule at
// the source port's egress and at the destination port's ingress, which is what the policy
// intends (tests/controller/brute_force_test.cc checks it on random policies and packets).
//
// Peer scopes resolve to IP sets interned by content: identical sets have one name
// ("ipset-<hash>") and one stored copy, shared by every port that uses them.
//
// Changes are incremental: a workload added, removed, relabelled, readdressed or moved recomputes
// only the scopes whose membership changes (found through an index label -> scopes) and the ports
// whose rules use them, and reports exactly the ports whose spec changed, each with a new
// version. (One conservative corner: a port whose only use of a changed IP set is a rule left out
// because the two sides share no address family, e.g. an ICMP rule towards an IPv6-only set, is
// reported although its spec is unchanged.) The controller
// keeps a compact form of every port; port_spec() materializes one port's dfw::RuleSetSpec on
// demand, so memory stays proportional to rules and set sizes, not to ports x set sizes.
//
// Not thread-safe; every output is in a deterministic order (ports by id, names sorted).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/policy.h"
#include "dfw/rules.h"

namespace controller {

// What one change did. Ports are sorted by id; IP set names sorted.
struct ChangeSet {
  uint64_t generation = 0;                // the controller's generation after the change
  std::vector<WorkloadId> changed_ports;  // new or changed rules; fetch them with port_spec()
  std::vector<WorkloadId> removed_ports;
  struct Move {
    WorkloadId port = 0;
    std::string from_host;
    std::string to_host;
  };
  std::vector<Move> moved_ports;  // host changed (rules may be unchanged)
  std::vector<std::string> added_ip_sets;
  std::vector<std::string> removed_ip_sets;
  std::size_t scopes_changed = 0;  // scopes whose IP set or process targets changed
  bool empty() const {
    return changed_ports.empty() && removed_ports.empty() && moved_ports.empty() &&
           added_ip_sets.empty() && removed_ip_sets.empty();
  }
};

struct ControllerStats {
  std::size_t ports = 0;
  std::size_t scopes = 0;        // distinct scopes over all rules
  std::size_t ip_sets = 0;       // distinct interned IP sets
  std::size_t ip_set_prefixes = 0;  // prefixes stored over all IP sets
  std::size_t port_entries = 0;  // (policy rule, direction) pairs over all ports
};

// What a controller keeps on durable storage so that a restarted one never reuses a port version
// (docs/control-plane.md, "Controller restart"): its generation high-water mark and, for every
// port, the version it last gave it and a fingerprint of that version's content (rules and IP
// set contents, the version aside). A real controller writes it before sending a change's
// deltas (write-ahead); it is a few words per port.
struct DurableVersions {
  uint64_t generation = 0;
  struct Port {
    uint64_t version = 0;
    uint64_t fingerprint = 0;
  };
  std::map<WorkloadId, Port> ports;
};

class ControllerState;

class Controller {
 public:
  // Validates the policy and the workloads (unique ids, known label keys, see
  // validate_workload) and computes every port. On error returns nullptr and sets `error`.
  static std::unique_ptr<Controller> create(Policy policy, std::vector<Workload> workloads,
                                            Status& error);
  // A restarted controller: computes at generation `previous.generation + 1`; a port whose
  // content equals what `previous` recorded for it keeps that version (its agent enforces it
  // already), every other port gets the new generation, above every version ever given.
  static std::unique_ptr<Controller> resume(Policy policy, std::vector<Workload> workloads,
                                            const DurableVersions& previous, Status& error);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Incremental changes. On error (unknown or duplicate id, invalid workload) nothing changes,
  // `error` is set and the returned ChangeSet is empty.
  ChangeSet add_workload(Workload workload, Status& error);
  ChangeSet remove_workload(WorkloadId id, Status& error);
  // Replaces a workload's labels, addresses, host and processes (the id selects it).
  ChangeSet update_workload(Workload workload, Status& error);
  ChangeSet set_labels(WorkloadId id, Labels labels, Status& error);
  ChangeSet move_workload(WorkloadId id, std::string host, Status& error);
  // Replaces the policy and recomputes everything; reports the ports whose rules differ.
  ChangeSet set_policy(Policy policy, Status& error);

  uint64_t generation() const;
  // What to persist for resume() (the current generation, every port's version and fingerprint).
  DurableVersions durable_versions() const;
  const Policy& policy() const;
  std::vector<WorkloadId> port_ids() const;  // sorted
  bool has_port(WorkloadId id) const;
  const Workload* workload(WorkloadId id) const;  // nullptr if unknown
  uint64_t port_version(WorkloadId id) const;     // 0 if unknown

  // The dfw rule set of one port: one section per non-empty category (named after it), the
  // port's rules in priority order, the IP sets they name, the policy's default action, the
  // port's version. An unknown id yields an empty spec with version 0.
  dfw::RuleSetSpec port_spec(WorkloadId id) const;
  // Number of dfw rules port_spec(id) would hold, without materializing it.
  std::size_t port_rule_count(WorkloadId id) const;

  std::vector<std::string> ip_set_names() const;  // sorted
  // The prefixes of an interned IP set, nullptr if no set has that name.
  const std::vector<dfw::IpPrefix>* ip_set(const std::string& name) const;

  ControllerStats stats() const;

 private:
  explicit Controller(std::unique_ptr<ControllerState> state);
  std::unique_ptr<ControllerState> state_;
};

}  // namespace controller
