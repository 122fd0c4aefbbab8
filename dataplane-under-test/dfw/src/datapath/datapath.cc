// Datapath configuration side: ports, rule installation, expiry, flushing, counters.

#include <cstring>

#include "conntrack/tcp_tracker.h"
#include "datapath/datapath_impl.h"
#include "parse/parser.h"

namespace dfw {

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
#define DFW_X(name, text) \
  case DropReason::name:  \
    return text;
    DFW_DROP_REASONS(DFW_X)
#undef DFW_X
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

const char* conn_state_name(ConnState state) {
  static constexpr const char* kNames[] = {
      "free",      "syn_sent",  "syn_recv",  "established", "fin_wait", "close_wait",
      "last_ack",  "time_wait", "close",     "syn_sent2",   "unreplied", "replied"};
  const auto i = static_cast<std::size_t>(state);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

void make_conn_key(PortId port, Direction direction, const FlowKey& flow, uint16_t icmp_id,
                   ConnKey& key) {
  std::memset(&key, 0, sizeof key);
  const bool egress = direction == Direction::kEgress;
  std::memcpy(key.local, egress ? flow.source.data() : flow.destination.data(), 16);
  std::memcpy(key.remote, egress ? flow.destination.data() : flow.source.data(), 16);
  key.port = port;
  key.protocol = flow.protocol;
  if (flow.protocol == kProtoIcmp || flow.protocol == kProtoIcmpv6) {
    key.local_port = key.remote_port = icmp_id;
  } else {
    key.local_port = egress ? flow.source_port : flow.destination_port;
    key.remote_port = egress ? flow.destination_port : flow.source_port;
  }
}

FlowKey conn_original_flow(const Conn& c) {
  FlowKey f;
  const bool egress = c.origin == Direction::kEgress;
  std::memcpy(f.source.data(), egress ? c.key.local : c.key.remote, 16);
  std::memcpy(f.destination.data(), egress ? c.key.remote : c.key.local, 16);
  f.protocol = c.key.protocol;
  f.is_v4 = c.flags & kConnV4;
  f.direction = c.origin;
  if (f.protocol == kProtoIcmp || f.protocol == kProtoIcmpv6) {
    f.icmp_type = c.icmp_type;
  } else {
    f.source_port = egress ? c.key.local_port : c.key.remote_port;
    f.destination_port = egress ? c.key.remote_port : c.key.local_port;
  }
  return f;
}

int64_t initial_timeout(const Conn& c, const Timeouts& t) {
  switch (c.key.protocol) {
    case kProtoTcp:
      return tcp_timeout(c.state, t);
    case kProtoIcmp:
    case kProtoIcmpv6:
      return t.icmp;
    default:
      return c.state == ConnState::kReplied ? t.udp_replied : t.udp_unreplied;
  }
}

void Datapath::Impl::set_rules(Port& port, RuleTablePtr rules) {
  port.rules = std::move(rules);
  ++port.generation;
  const std::size_t n = port.rules ? port.rules->rules().size() : 0;
  port.rule_hits.assign(n, 0);
  port.rule_bytes.assign(n, 0);
}

void Datapath::Impl::destroy_conn(uint32_t index, Port* owner) {
  if (owner == nullptr) owner = find_port(conns.at(index).key.port);
  if (owner != nullptr) --owner->connection_count;
  conns.destroy(index);
}

void Datapath::Impl::flush_port_conns(PortId port_id) {
  Port* port = find_port(port_id);
  conns.for_each([&](uint32_t index, Conn& c) {
    if (c.key.port == port_id) destroy_conn(index, port);
  });
  fragments.flush_port(port_id);
}

void Datapath::Impl::reevaluate(Port& port, int64_t now) {
  const RuleTable* table = port.rules.get();
  conns.for_each([&](uint32_t index, Conn& c) {
    if (c.key.port != port.id) return;
    if (c.deadline <= now) return;  // expiry will reap it
    int32_t rule = -1;
    Action action = Action::kDrop;
    if (table != nullptr) {
      uint32_t steps = 0;
      rule = table->classify(conn_original_flow(c), steps);
      action = rule >= 0 ? table->rules()[static_cast<std::size_t>(rule)].action
                         : table->default_action();
    }
    if (action != Action::kAllow) {
      destroy_conn(index, &port);
      return;
    }
    c.rule_index = rule;
    c.rule_id = rule >= 0 ? static_cast<int32_t>(table->rules()[static_cast<std::size_t>(rule)].id)
                          : -1;
    c.rule_generation = static_cast<uint16_t>(port.generation);
  });
}

Datapath::Datapath(const DatapathConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Datapath::~Datapath() = default;

Status Datapath::add_port(PortId port, RuleTablePtr rules) {
  if (impl_->find_port(port) != nullptr)
    return Status::error("add_port: port " + std::to_string(port) + " already exists");
  auto p = std::make_unique<Port>();
  p->id = port;
  impl_->set_rules(*p, std::move(rules));
  impl_->ports.emplace(port, std::move(p));
  return Status::ok();
}

Status Datapath::remove_port(PortId port) {
  if (impl_->find_port(port) == nullptr)
    return Status::error("remove_port: no port " + std::to_string(port));
  impl_->flush_port_conns(port);
  impl_->ports.erase(port);
  return Status::ok();
}

bool Datapath::has_port(PortId port) const { return impl_->find_port(port) != nullptr; }

Status Datapath::install_rules(PortId port, RuleTablePtr rules, int64_t now) {
  Port* p = impl_->find_port(port);
  if (p == nullptr) return Status::error("install_rules: no port " + std::to_string(port));
  const bool reevaluate = rules != nullptr && rules->reevaluate_connections();
  // The datapath is driven by one thread (platform contract), so replacing the shared_ptr
  // between two packets is the atomic swap: a packet sees the old table or the new one.
  impl_->set_rules(*p, std::move(rules));
  if (reevaluate) impl_->reevaluate(*p, now);
  return Status::ok();
}

const RuleTable* Datapath::rules(PortId port) const {
  const Port* p = impl_->find_port(port);
  return p == nullptr ? nullptr : p->rules.get();
}

void Datapath::set_frame_sink(platform::FrameSink* sink) { impl_->frame_sink = sink; }

int64_t Datapath::expire(int64_t now) {
  Impl& d = *impl_;
  const int64_t next_conn = d.conns.expire(now, [&](const Conn& c) {
    if (Port* p = d.find_port(c.key.port)) --p->connection_count;
    ++d.connections_expired;
  });
  const int64_t next_fragment = d.fragments.expire(now);
  return next_conn < next_fragment ? next_conn : next_fragment;
}

void Datapath::flush_connections(PortId port) { impl_->flush_port_conns(port); }

void Datapath::flush_all_connections() {
  impl_->conns.for_each([&](uint32_t index, Conn&) { impl_->destroy_conn(index, nullptr); });
  impl_->fragments.clear();
}

const PortCounters* Datapath::port_counters(PortId port) const {
  const Port* p = impl_->find_port(port);
  return p == nullptr ? nullptr : &p->counters;
}

void Datapath::rule_hits(PortId port, std::vector<uint32_t>& rule_ids, std::vector<uint64_t>& hits,
                         std::vector<uint64_t>& bytes) const {
  rule_ids.clear();
  hits.clear();
  bytes.clear();
  const Port* p = impl_->find_port(port);
  if (p == nullptr || p->rules == nullptr) return;
  for (const CompiledRule& r : p->rules->rules()) rule_ids.push_back(r.id);
  hits = p->rule_hits;
  bytes = p->rule_bytes;
}

DatapathStats Datapath::stats() const {
  DatapathStats s;
  s.live_connections = impl_->conns.live();
  s.connections_created = impl_->connections_created;
  s.connections_expired = impl_->connections_expired;
  s.live_fragments = impl_->fragments.live();
  std::memcpy(s.drops_by_reason, impl_->drops_by_reason, sizeof s.drops_by_reason);
  s.connection_table_size = impl_->conns.memory_size() + impl_->fragments.memory_size();
  return s;
}

bool Datapath::lookup_connection(PortId port, Direction direction, const PacketView& packet,
                                 int64_t now, ConnectionInfo& info) const {
  if (impl_->find_port(port) == nullptr) return false;
  ParsedPacket parsed;
  if (parse_packet(packet, direction, parsed) != DropReason::kNone) return false;
  if (parsed.l3 != L3Kind::kIpv4 && parsed.l3 != L3Kind::kIpv6) return false;
  ConnKey key;
  make_conn_key(port, direction, parsed.key, parsed.icmp_id, key);
  uint32_t probes = 0;
  const uint32_t index = impl_->conns.find(key, impl_->conns.hash(key), probes);
  if (index == kNilIndex) return false;
  const Conn& c = impl_->conns.at(index);
  if (c.deadline <= now) return false;
  info.state = conn_state_name(c.state);
  info.deadline = c.deadline;
  info.rule_id = c.rule_id;
  info.origin = c.origin;
  info.reply = direction != c.origin;
  return true;
}

std::size_t Datapath::connection_count(PortId port) const {
  const Port* p = impl_->find_port(port);
  return p == nullptr ? 0 : p->connection_count;
}

const DatapathConfig& Datapath::config() const { return impl_->config; }

}  // namespace dfw
