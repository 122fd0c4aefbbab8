#pragma once
// The datapath's internals, shared by its translation units: port bookkeeping (datapath.cc), the
// packet path (process.cc), state export/import (state_export.cc, state_import.cc).

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "conntrack/conn_table.h"
#include "conntrack/fragment_table.h"
#include "datapath/reject.h"
#include "dfw/datapath.h"
#include "parse/parsed_packet.h"
#include "rule_table.h"

namespace dfw {

struct Port {
  PortId id = 0;
  RuleTablePtr rules;               // nullptr: default drop
  uint32_t generation = 0;          // bumped on every install; tags Conn::rule_generation
  PortCounters counters;
  std::vector<uint64_t> rule_hits;  // per rule index of `rules`
  std::vector<uint64_t> rule_bytes;
  uint64_t connection_count = 0;
};

// A connection key from the VM's side of `port` (see conn.h).
void make_conn_key(PortId port, Direction direction, const FlowKey& flow, uint16_t icmp_id,
                   ConnKey& key);
// The flow of a connection's original direction, as the classifier sees it.
FlowKey conn_original_flow(const Conn& conn);
int64_t initial_timeout(const Conn& conn, const Timeouts& timeouts);

struct Datapath::Impl {
  static constexpr std::size_t kGroupSize = 16;  // packets pipelined together in process_batch
  explicit Impl(const DatapathConfig& c)
      : config(c), conns(c.connection_limit, c.hash_seed),
        fragments(c.fragment_limit, c.hash_seed ^ 0xF4A6u) {}

  Port* find_port(PortId id) {
    auto it = ports.find(id);
    return it == ports.end() ? nullptr : it->second.get();
  }
  const Port* find_port(PortId id) const {
    auto it = ports.find(id);
    return it == ports.end() ? nullptr : it->second.get();
  }
  void set_rules(Port& port, RuleTablePtr rules);
  void destroy_conn(uint32_t index, Port* owner);
  void flush_port_conns(PortId port);
  void reevaluate(Port& port, int64_t now);

  // The packet path (process.cc).
  Result process_one(Port& port, Direction direction, const PacketView& packet, int64_t now);
  // process_one() after parsing; process_batch() parses a group first to prefetch.
  // `conn_key`, when not null, is the packet's connection key, already computed with its hash.
  Result process_parsed(Port& port, const PacketView& packet, const ParsedPacket& parsed,
                        DropReason parse_error, int64_t now, const ConnKey* conn_key = nullptr,
                        uint64_t conn_hash = 0);
  void process_group(Port& port, Direction direction, const PacketView* packets, std::size_t count,
                     int64_t now, Result* results);
  void decide_ip(Port& port, const PacketView& packet, const ParsedPacket& parsed, int64_t now,
                 const ConnKey* key, uint64_t hash, Result& result);
  void track_existing(Port& port, uint32_t index, const PacketView& packet,
                      const ParsedPacket& parsed, int64_t now, Result& result);
  void classify_new(Port& port, const PacketView& packet, const ParsedPacket& parsed,
                    const ConnKey& key, uint64_t hash, int64_t now, Result& result);
  void reject(Port& port, const PacketView& packet, const ParsedPacket& parsed, Result& result);

  DatapathConfig config;
  ConnTable conns;
  FragmentTable fragments;
  std::unordered_map<PortId, std::unique_ptr<Port>> ports;
  platform::FrameSink* frame_sink = nullptr;
  uint64_t connections_created = 0;
  uint64_t connections_expired = 0;
  uint64_t drops_by_reason[kDropReasonCount] = {};
  uint8_t frame_buffer[kMaxRejectFrameSize];
};

}  // namespace dfw
