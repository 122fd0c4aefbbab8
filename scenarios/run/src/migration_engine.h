#pragma once
// Live migrations of a run: the pre-copy rounds over the fabric, the switchover (stop, firewall
// state export, stop-and-copy, import, resume, gratuitous ARP, the controller told), and what
// each one cost (docs/migration.md). One MigrationEngine per run, driven by the `migrate`
// timeline action (migration_extension.cc) and by tests.
//
// Connections broken by a migration (the definition used for /migrations and invariant 3):
// the migrating VM's tracked connections are its flows (either end; synthetic and replayed
// traffic's flow records) whose dfw connection is live at the VM's port on the source host when
// the VM stops, in state established for TCP (any state for UDP). A tracked connection is broken
// if, after the VM resumes, a packet of it is dropped by dfw at any host (for any reason:
// invalid_state without state, default_drop without rules, ...) or — synthetic flows only,
// whose TCP reacts — its flow ends failed (reset, ICMP unreachable, retries exhausted) — until
// the VM migrates again or the run ends. A replayed flow has no transport: packets it lost
// during the downtime are switchover drops, not a broken connection.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/host.h"
#include "models/host_stats.h"
#include "models/migration/migration_network.h"
#include "models/migration/precopy.h"
#include "scenarios/annotations.h"
#include "world.h"

namespace scenarios {

struct MigrationRequest {
  models::VmIndex vm = models::kNoVm;
  uint32_t to = 0;                 // destination host index
  bool move_state = true;          // state: move (export/import dfw state) | drop (fresh port)
  bool policy_before = true;       // policy: before (prepared at start) | after (via workload_moved)
  models::migration::PrecopyParams precopy;
};

// One migration, as written to /migrations (docs/results.md).
struct MigrationRecord {
  // kAborted: a host of the migration failed under it (the VM died or has nowhere to go).
  enum class Phase : uint8_t { kPrecopy, kStopped, kDone, kAborted };
  std::string vm, from_host, to_host;
  models::VmIndex vm_index = models::kNoVm;
  uint32_t from = 0, to = 0;
  bool move_state = true, policy_before = true;
  Phase phase = Phase::kPrecopy;
  int64_t start_ns = 0;
  int64_t stop_ns = -1;          // VM stopped (end of pre-copy)
  int64_t resume_ns = -1;        // VM running at the destination (-1: not finished in the run)
  int64_t policy_ns = -1;        // the destination port enforces the VM's desired rules
  uint32_t rounds = 0;
  uint64_t memory_bytes = 0;
  uint64_t bytes_copied = 0;     // memory bytes: pre-copy rounds + stop-and-copy
  uint64_t stop_copy_bytes = 0;  // memory bytes copied while stopped
  uint64_t wire_bytes = 0;       // migration stream bytes on the wire (retransmissions included)
  uint64_t retransmitted_bytes = 0;
  uint64_t state_blob_bytes = 0;
  uint64_t connections_moved = 0;      // connections the destination port holds after import
  uint64_t connections_tracked = 0;    // see the definition above
  uint64_t connections_lost_at_import = 0;  // tracked ones missing at the destination (move)
  uint64_t connections_broken = 0;
  uint64_t policy_gap_drops = 0;       // dfw drops at the new port before its policy arrived
  // Invariant 3 applies only without fabric loss: packets lost to injected faults anywhere
  // (fault_losses()) from the migration's start until the VM migrates again or the run ends.
  uint64_t fault_losses_at_start = 0;
  uint64_t fabric_loss_packets = 0;    // set by finish()
  std::array<uint64_t, models::kHostDropReasonCount> switchover_drops{};  // by host reason
  int64_t abort_ns = -1;               // kAborted: when
  std::string abort_reason;            // source_host_failed | destination_host_failed | vm_gone
  std::vector<uint8_t> blob;           // the exported port while in flight
  uint64_t switchover_drop_total() const;
  int64_t downtime_ns() const { return resume_ns < 0 ? -1 : resume_ns - stop_ns; }
  int64_t precopy_ns() const { return stop_ns < 0 ? -1 : stop_ns - start_ns; }
  int64_t policy_gap_ns() const;
};

class MigrationEngine {
 public:
  MigrationEngine(World& world, Annotations& annotations);
  ~MigrationEngine();
  MigrationEngine(const MigrationEngine&) = delete;
  MigrationEngine& operator=(const MigrationEngine&) = delete;

  // Starts a migration now. False with `error` for a request that cannot be carried out: an
  // unknown VM or host, the VM already there, already migrating, or not running.
  bool start(const MigrationRequest& request, std::string& error);

  // After the run: settles connections_broken from the flows' outcomes and counts invariant 3
  // ("migration_keeps_connections") for every state: move migration without fabric loss in its
  // window; one with loss is reported as not checked (reason fabric_loss), not judged.
  void finish();
  // Packets lost so far to injected faults (docs/failures.md "Invariants"): link loss and
  // corruption, links and switches down, no route, hosts down. Queue drops (congestion) are not
  // faults: TCP recovers from them and invariant 3 still applies.
  uint64_t fault_losses() const;

  // A host crashed (failures_hosts.cc): every migration under way from or to it is aborted at
  // once (docs/migration.md, "A host fails mid-migration").
  void host_failed(uint32_t host);

  const std::vector<MigrationRecord>& records() const { return records_; }

  // Deliberately broken variant for tests of invariant 3: flush the imported connections while
  // still claiming state: move.
  bool fault_flush_after_import = false;

 private:
  class Observer;
  struct Tracked {
    uint32_t migration;
    bool broken = false;
  };
  MigrationRecord& record(uint32_t index) { return records_[index]; }
  void run_round(uint32_t index, models::migration::PrecopyModel& model, sim::Time round_start);
  void stop_and_copy(uint32_t index, uint64_t memory_bytes);
  void switchover(uint32_t index);
  void policy_arrived(uint32_t index);
  // False (and the migration aborted) if the source no longer runs the VM or a host is down.
  bool still_possible(uint32_t index);
  // Ends migration `index` as aborted now with `reason`; decides the VM's fate (see host_failed).
  void abort(uint32_t index, const char* reason);
  void track_connections(uint32_t index);
  bool connection_live(const dfw::Datapath& datapath, models::VmIndex vm, uint32_t flow) const;
  void host_dropped(uint32_t host, const models::Packet& packet, models::HostDropReason reason);
  void dfw_dropped(uint32_t host, const models::Packet& packet, models::VmIndex port, dfw::DropReason reason);
  void mark_broken(uint32_t flow);
  void emit_start(const MigrationRecord& r);
  void emit_done(const MigrationRecord& r);

  World& world_;
  Annotations& annotations_;
  std::unique_ptr<models::migration::MigrationNetwork> network_;
  std::vector<std::unique_ptr<Observer>> observers_;
  std::vector<MigrationRecord> records_;
  std::vector<std::unique_ptr<models::migration::PrecopyModel>> models_;   // by migration
  std::vector<models::migration::MigrationNetwork::Stream*> streams_;      // by migration
  std::size_t crash_listener_ = 0;   // our entry in World::host_crash_listeners
  std::vector<int32_t> last_by_vm_;  // the VM's latest migration, -1 if none
  std::unordered_map<uint32_t, Tracked> tracked_;  // by flow id
};

}  // namespace scenarios
