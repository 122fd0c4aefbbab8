// Datapath::export_port: serializes a port's state (format in state_format.h).

#include "datapath/datapath_impl.h"
#include "datapath/state_format.h"
#include "util/crc32c.h"

namespace dfw {

Status Datapath::export_port(PortId port, int64_t now, std::vector<uint8_t>& blob) const {
  const Port* p = impl_->find_port(port);
  if (p == nullptr) return Status::error("export_port: no port " + std::to_string(port));
  blob.clear();
  blob.resize(state::kHeaderSize);
  state::Writer w(blob);
  w.u32(port);
  w.u64(p->rules ? p->rules->version() : 0);
  w.u8(p->rules ? 1 : 0);
  const PortCounters& c = p->counters;
  for (uint64_t v : c.packets) w.u64(v);
  for (uint64_t v : c.bytes) w.u64(v);
  w.u64(c.allowed);
  w.u64(c.dropped);
  w.u32(static_cast<uint32_t>(kDropReasonCount));
  for (uint64_t v : c.drops_by_reason) w.u64(v);

  const std::size_t rule_count = p->rules ? p->rules->rules().size() : 0;
  w.u32(static_cast<uint32_t>(rule_count));
  for (std::size_t i = 0; i < rule_count; ++i) {
    w.u32(p->rules->rules()[i].id);
    w.u64(p->rule_hits[i]);
    w.u64(p->rule_bytes[i]);
  }

  const std::size_t count_at = blob.size();
  w.u32(0);  // patched below
  uint32_t count = 0;
  const uint16_t generation = static_cast<uint16_t>(p->generation);
  impl_->conns.for_each([&](uint32_t, const Conn& conn) {
    if (conn.key.port != port || conn.deadline <= now) return;
    w.bytes(conn.key.local, 16);
    w.bytes(conn.key.remote, 16);
    w.u16(conn.key.local_port);
    w.u16(conn.key.remote_port);
    w.u8(conn.key.protocol);
    w.u8(static_cast<uint8_t>(conn.state));
    w.u8(conn.flags);
    w.u8(static_cast<uint8_t>(conn.origin));
    w.u8(conn.icmp_type);
    w.u32(static_cast<uint32_t>(conn.rule_id));
    // A rule index from an older table generation means nothing to the importer.
    w.u32(static_cast<uint32_t>(conn.rule_generation == generation ? conn.rule_index : -1));
    w.u64(static_cast<uint64_t>(conn.deadline - now));
    for (int d = 0; d < 2; ++d) w.u32(conn.td_end[d]);
    for (int d = 0; d < 2; ++d) w.u32(conn.td_maxend[d]);
    for (int d = 0; d < 2; ++d) w.u32(conn.td_maxwin[d]);
    for (int d = 0; d < 2; ++d) w.u8(conn.td_scale[d]);
    for (int d = 0; d < 2; ++d) w.u8(conn.td_flags[d]);
    ++count;
  });
  for (int i = 0; i < 4; ++i) blob[count_at + i] = static_cast<uint8_t>(count >> (8 * i));

  // Header last, over the finished payload.
  const uint32_t payload_size = static_cast<uint32_t>(blob.size() - state::kHeaderSize);
  const uint32_t crc = crc32c(0, blob.data() + state::kHeaderSize, payload_size);
  std::vector<uint8_t> header;
  state::Writer h(header);
  h.bytes(state::kMagic, 4);
  h.u16(state::kFormatVersion);
  h.u16(0);
  h.u32(payload_size);
  h.u32(crc);
  h.u32(0);
  std::copy(header.begin(), header.end(), blob.begin());
  return Status::ok();
}

}  // namespace dfw
