// Datapath::import_port: validates a whole blob (format in state_format.h) before changing
// anything, then creates the port with its counters and connections.

#include <algorithm>
#include <cstring>

#include "datapath/datapath_impl.h"
#include "datapath/state_format.h"
#include "util/crc32c.h"

namespace dfw {
namespace {

struct ConnRecord {
  Conn conn;  // key.port unset; deadline holds the remaining time
};

Status fail(const std::string& what) { return Status::error("import_port: " + what); }

bool is_v4_mapped(const uint8_t* a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  return std::memcmp(a, kPrefix, 12) == 0;
}

// The states a connection of `protocol` may be in.
bool state_valid_for(uint8_t protocol, ConnState state) {
  const auto s = static_cast<uint8_t>(state);
  if (protocol == kProtoTcp)
    return s >= static_cast<uint8_t>(ConnState::kTcpSynSent) &&
           s <= static_cast<uint8_t>(ConnState::kTcpSynSent2);
  return state == ConnState::kUnreplied || state == ConnState::kReplied;
}

Status read_conn(state::Reader& r, std::size_t i, int64_t now, ConnRecord& out) {
  Conn& c = out.conn;
  c = Conn{};
  r.bytes(c.key.local, 16);
  r.bytes(c.key.remote, 16);
  c.key.local_port = r.u16();
  c.key.remote_port = r.u16();
  c.key.protocol = r.u8();
  const uint8_t state = r.u8();
  c.flags = r.u8();
  const uint8_t origin = r.u8();
  c.icmp_type = r.u8();
  c.rule_id = static_cast<int32_t>(r.u32());
  c.rule_index = static_cast<int32_t>(r.u32());
  const auto remaining = static_cast<int64_t>(r.u64());
  for (int d = 0; d < 2; ++d) c.td_end[d] = r.u32();
  for (int d = 0; d < 2; ++d) c.td_maxend[d] = r.u32();
  for (int d = 0; d < 2; ++d) c.td_maxwin[d] = r.u32();
  for (int d = 0; d < 2; ++d) c.td_scale[d] = r.u8();
  for (int d = 0; d < 2; ++d) c.td_flags[d] = r.u8();
  const std::string at = "connection " + std::to_string(i) + ": ";
  if (!r.ok()) return fail(at + "truncated");
  if (state >= static_cast<uint8_t>(ConnState::kCount) || state == 0)
    return fail(at + "bad state " + std::to_string(state));
  c.state = static_cast<ConnState>(state);
  if (!state_valid_for(c.key.protocol, c.state))
    return fail(at + "state " + conn_state_name(c.state) + " impossible for protocol " +
                std::to_string(c.key.protocol));
  if (origin > 1) return fail(at + "bad origin direction " + std::to_string(origin));
  c.origin = static_cast<Direction>(origin);
  if (c.flags & ~(kConnV4 | kConnLoosePickup)) return fail(at + "unknown flags");
  const bool v4 = c.flags & kConnV4;
  if (v4 && !(is_v4_mapped(c.key.local) && is_v4_mapped(c.key.remote)))
    return fail(at + "IPv4 connection with non-IPv4 addresses");
  if (c.td_scale[0] > 14 || c.td_scale[1] > 14) return fail(at + "window scale above 14");
  if (c.rule_index < -1) return fail(at + "bad rule index");
  if (remaining <= 0 || remaining > INT64_MAX - now) return fail(at + "bad remaining timeout");
  c.deadline = remaining;
  return Status::ok();
}

}  // namespace

Status Datapath::import_port(PortId port, std::span<const uint8_t> blob, RuleTablePtr rules,
                             int64_t now) {
  Impl& d = *impl_;
  if (d.find_port(port) != nullptr) return fail("port " + std::to_string(port) + " exists");
  if (blob.size() < state::kHeaderSize) return fail("truncated header");
  state::Reader h(blob.data(), state::kHeaderSize);
  uint8_t magic[4];
  h.bytes(magic, 4);
  const uint16_t version = h.u16();
  const uint16_t reserved = h.u16();
  const uint32_t payload_size = h.u32();
  const uint32_t crc = h.u32();
  if (std::memcmp(magic, state::kMagic, 4) != 0) return fail("bad magic");
  if (version != state::kFormatVersion)
    return fail("format version " + std::to_string(version) + ", expected " +
                std::to_string(state::kFormatVersion));
  if (reserved != 0 || h.u32() != 0) return fail("reserved header fields set");
  if (payload_size != blob.size() - state::kHeaderSize)
    return fail("payload size " + std::to_string(payload_size) + " but blob carries " +
                std::to_string(blob.size() - state::kHeaderSize));
  if (crc32c(0, blob.data() + state::kHeaderSize, payload_size) != crc)
    return fail("checksum mismatch");

  state::Reader r(blob.data() + state::kHeaderSize, payload_size);
  r.u32();  // exporting port id: informational
  const uint64_t table_version = r.u64();
  const bool had_table = r.u8() != 0;
  PortCounters counters;
  for (uint64_t& v : counters.packets) v = r.u64();
  for (uint64_t& v : counters.bytes) v = r.u64();
  counters.allowed = r.u64();
  counters.dropped = r.u64();
  if (r.u32() != kDropReasonCount) return fail("drop reason count differs");
  for (uint64_t& v : counters.drops_by_reason) v = r.u64();
  const uint32_t rule_count = r.u32();
  if (!r.ok() || rule_count > r.remaining() / state::kRuleRecordSize)
    return fail("truncated rule counters");
  std::vector<uint32_t> rule_ids(rule_count);
  std::vector<uint64_t> hits(rule_count), bytes(rule_count);
  for (uint32_t i = 0; i < rule_count; ++i) {
    rule_ids[i] = r.u32();
    hits[i] = r.u64();
    bytes[i] = r.u64();
  }
  const uint32_t conn_count = r.u32();
  if (!r.ok() || conn_count > r.remaining() / state::kConnRecordSize)
    return fail("truncated connections");
  if (r.remaining() != std::size_t{conn_count} * state::kConnRecordSize)
    return fail("trailing bytes after connections");
  std::vector<ConnRecord> records(conn_count);
  for (uint32_t i = 0; i < conn_count; ++i) {
    Status s = read_conn(r, i, now, records[i]);
    if (!s) return s;
  }
  // Two records with one key would leave one unreachable: reject such a blob.
  std::vector<const ConnKey*> keys;
  keys.reserve(conn_count);
  for (const ConnRecord& rec : records) keys.push_back(&rec.conn.key);
  std::sort(keys.begin(), keys.end(),
            [](const ConnKey* a, const ConnKey* b) { return std::memcmp(a, b, sizeof *a) < 0; });
  for (std::size_t i = 1; i < keys.size(); ++i)
    if (*keys[i] == *keys[i - 1]) return fail("duplicate connection");
  if (std::size_t{d.conns.live()} + conn_count > d.conns.limit())
    return fail("connection table full: " + std::to_string(d.conns.live()) + " + " +
                std::to_string(conn_count) + " > limit " + std::to_string(d.conns.limit()));

  // Everything is valid: apply.
  auto p = std::make_unique<Port>();
  p->id = port;
  d.set_rules(*p, std::move(rules));
  p->counters = counters;
  // Rule counters and rule indices carry over only onto the very same table.
  const RuleTable* table = p->rules.get();
  bool same_table = had_table && table != nullptr && table->version() == table_version &&
                    table->rules().size() == rule_count;
  for (uint32_t i = 0; same_table && i < rule_count; ++i)
    same_table = table->rules()[i].id == rule_ids[i];
  if (same_table) {
    p->rule_hits = hits;
    p->rule_bytes = bytes;
  }
  Port& port_ref = *p;
  d.ports.emplace(port, std::move(p));
  for (ConnRecord& rec : records) {
    Conn src = rec.conn;
    src.key.port = port;
    uint32_t probes = 0;
    const uint64_t hash = d.conns.hash(src.key);
    const uint32_t index = d.conns.create(src.key, hash, now + src.deadline, probes);
    Conn& c = d.conns.at(index);
    c.state = src.state;
    c.flags = src.flags;
    c.origin = src.origin;
    c.icmp_type = src.icmp_type;
    c.rule_id = src.rule_id;
    c.rule_index = same_table && src.rule_index < static_cast<int32_t>(rule_count) ? src.rule_index
                                                                                 : -1;
    c.rule_generation = static_cast<uint16_t>(port_ref.generation);
    for (int k = 0; k < 2; ++k) {
      c.td_end[k] = src.td_end[k];
      c.td_maxend[k] = src.td_maxend[k];
      c.td_maxwin[k] = src.td_maxwin[k];
      c.td_scale[k] = src.td_scale[k];
      c.td_flags[k] = src.td_flags[k];
    }
    ++port_ref.connection_count;
  }
  return Status::ok();
}

}  // namespace dfw
