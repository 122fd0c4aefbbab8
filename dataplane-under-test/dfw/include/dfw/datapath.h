#pragma once
// dfw: a stateful distributed-firewall datapath, one instance per hypervisor host, one logical
// port per VM (vNIC).
//
// Overview. process() parses a frame's real header bytes (Ethernet, 802.1Q, ARP, IPv4 with options
// and fragments, IPv6 with extension headers, TCP, UDP, ICMP, ICMPv6), looks the flow up in the
// host's connection table (keyed by port + 5-tuple, both directions), and for a new flow
// classifies it against the port's rule table (first match) and creates a connection. TCP runs a
// state machine with sequence-window checks in the spirit of Linux nf_conntrack_proto_tcp; UDP and
// ICMP have pseudo-states. Every drop has a named reason. Every call reports its work counters.
//
// Pure core. The datapath never reads a clock and never arms a timer: every call takes `now`, and
// expire(now) returns the next deadline. DatapathDriver (driver.h) binds it to a platform::Env.
//
// Hot path. process() allocates nothing and never throws. Configuration calls (ports, rules,
// export/import) may allocate.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "dfw/rules.h"
#include "dfw/types.h"
#include "platform/platform.h"

namespace dfw {

struct Timeouts {  // nanoseconds; defaults follow Linux conntrack
  int64_t tcp_syn_sent = 120'000'000'000;
  int64_t tcp_syn_recv = 60'000'000'000;
  int64_t tcp_established = 432'000'000'000'000;  // 5 days
  int64_t tcp_fin_wait = 120'000'000'000;
  int64_t tcp_close_wait = 60'000'000'000;
  int64_t tcp_last_ack = 30'000'000'000;
  int64_t tcp_time_wait = 120'000'000'000;
  int64_t tcp_close = 10'000'000'000;
  int64_t udp_unreplied = 30'000'000'000;
  int64_t udp_replied = 120'000'000'000;
  int64_t icmp = 30'000'000'000;
  int64_t fragment = 30'000'000'000;
};

struct DatapathConfig {
  uint32_t connection_limit = 2'000'000;  // per host, as NSX
  uint32_t fragment_limit = 4096;         // tracked first fragments per host
  bool allow_arp = true;
  bool allow_non_ip = false;              // other EtherTypes (LLDP, ...)
  bool tcp_loose = false;                 // pick up mid-stream connections (nf_conntrack_tcp_loose)
  uint64_t hash_seed = 0x5EED5EED5EED5EEDull;  // connection/fragment hashing; vary per host
  Timeouts timeouts;
};

// Per-port counters; exported and imported with the port.
struct PortCounters {
  uint64_t packets[2] = {0, 0};  // by Direction
  uint64_t bytes[2] = {0, 0};
  uint64_t allowed = 0;
  uint64_t dropped = 0;
  uint64_t drops_by_reason[kDropReasonCount] = {};
};

// What the connection table holds for one flow (Datapath::lookup_connection): for visibility
// tools ("which rule let this flow in?") and tests.
struct ConnectionInfo {
  std::string_view state;  // "syn_sent", "established", "time_wait", "unreplied", "replied", ...
  int64_t deadline = 0;    // ns; when it expires unless traffic refreshes it
  int32_t rule_id = -1;    // the rule that allowed it; -1: the default action
  Direction origin = Direction::kEgress;  // direction of its first packet
  bool reply = false;      // the looked-up packet travels in the reply direction
};

struct DatapathStats {
  uint64_t live_connections = 0;
  uint64_t connections_created = 0;
  uint64_t connections_expired = 0;
  uint64_t live_fragments = 0;
  uint64_t drops_by_reason[kDropReasonCount] = {};
  std::size_t connection_table_size = 0;  // bytes
};

class Datapath {
 public:
  explicit Datapath(const DatapathConfig& config);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  // Ports. A new port enforces `rules` at once (nullptr: its default-action-only table, drop).
  Status add_port(PortId port, RuleTablePtr rules);
  Status remove_port(PortId port);  // flushes the port's connections
  bool has_port(PortId port) const;
  // Atomically replaces the port's rule table; see RuleSetSpec::reevaluate_connections.
  Status install_rules(PortId port, RuleTablePtr rules, int64_t now);
  const RuleTable* rules(PortId port) const;

  // Where reject rules send the frames they generate (TCP RST, ICMP unreachable), synchronously
  // from process(). `port` is the packet's port; toward_vm is true for a packet the VM sent
  // (egress), so the answer goes back to the VM. Not owned; nullptr (the default) discards them
  // (Result::work.frames_generated still counts them). DatapathDriver sets Env::frames.
  void set_frame_sink(platform::FrameSink* sink);

  // The hot path. `port` is the VM's port; `direction` as seen from the VM.
  Result process(PortId port, Direction direction, const PacketView& packet, int64_t now);
  // A batch: results[i] for packets[i]. Same semantics as calling process() in order.
  void process_batch(PortId port, Direction direction, std::span<const PacketView> packets,
                     int64_t now, std::span<Result> results);

  // Expires connections and fragments whose deadline is <= now. Returns the next deadline
  // (INT64_MAX if nothing is pending).
  int64_t expire(int64_t now);

  // State migration. export_port serializes the port's rule table version, connections (with
  // states, windows and remaining timeouts relative to `now`) and counters into a versioned,
  // checksummed blob. import_port creates the port on this datapath from such a blob, with the
  // given rules; a corrupt, truncated or version-mismatched blob is rejected and nothing is
  // imported. A port imported into a full table is rejected likewise.
  Status export_port(PortId port, int64_t now, std::vector<uint8_t>& blob) const;
  Status import_port(PortId port, std::span<const uint8_t> blob, RuleTablePtr rules, int64_t now);

  // Drops every connection of one port (agent restart with flush) or of all ports.
  void flush_connections(PortId port);
  void flush_all_connections();

  const PortCounters* port_counters(PortId port) const;
  // Hits and bytes per rule id of the port's current table, in table order (rule_ids[i] ↔ hits[i]).
  void rule_hits(PortId port, std::vector<uint32_t>& rule_ids, std::vector<uint64_t>& hits,
                 std::vector<uint64_t>& bytes) const;
  DatapathStats stats() const;
  // The connection `packet` (as seen at `port` in `direction`) belongs to, if any is live at
  // `now`. Read-only: no counters, no state change. Not for the hot path.
  bool lookup_connection(PortId port, Direction direction, const PacketView& packet, int64_t now,
                         ConnectionInfo& info) const;
  // Connections of the port in the table, including any past their deadline that expire() has
  // not swept yet (packets and export_port already treat those as gone).
  std::size_t connection_count(PortId port) const;
  const DatapathConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dfw
