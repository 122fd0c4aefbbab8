// The packet path: parse, fragment handling, connection lookup and tracking, classification of
// new flows, reject frames, counters. Allocates nothing.

#include "conntrack/tcp_tracker.h"
#include "datapath/datapath_impl.h"
#include "parse/parser.h"

namespace dfw {
namespace {

inline void drop(Result& r, DropReason reason) {
  r.verdict = Verdict::kDrop;
  r.reason = reason;
}
inline void allow(Result& r) {
  r.verdict = Verdict::kAllow;
  r.reason = DropReason::kNone;
}

bool is_icmp(uint8_t protocol) { return protocol == kProtoIcmp || protocol == kProtoIcmpv6; }

}  // namespace

void Datapath::Impl::reject(Port& port, const PacketView& packet, const ParsedPacket& parsed,
                            Result& result) {
  const uint32_t size = build_reject_frame(packet, parsed, frame_buffer);
  if (size == 0) return;
  ++result.work.frames_generated;
  // The answer goes back to whoever sent the packet: the VM for egress, the network for ingress.
  if (frame_sink != nullptr)
    frame_sink->transmit(port.id, parsed.key.direction == Direction::kEgress, frame_buffer, size);
}

void Datapath::Impl::classify_new(Port& port, const PacketView& packet, const ParsedPacket& parsed,
                                  const ConnKey& key, uint64_t hash, int64_t now, Result& result) {
  const bool tcp = parsed.key.protocol == kProtoTcp;
  if (tcp && !tcp_may_create(parsed.tcp, config.tcp_loose)) {
    drop(result, DropReason::kInvalidState);  // e.g. an unsolicited ACK or RST
    return;
  }
  if (is_icmp(parsed.key.protocol) && parsed.icmp_class == IcmpClass::kReply) {
    drop(result, DropReason::kInvalidState);  // a reply nobody asked for
    return;
  }
  const RuleTable* table = port.rules.get();
  int32_t rule = -1;
  Action action = Action::kDrop;
  if (table != nullptr) {
    rule = table->classify(parsed.key, result.work.classifier_steps);
    action = rule >= 0 ? table->rules()[static_cast<std::size_t>(rule)].action
                       : table->default_action();
  }
  if (rule >= 0) {
    const CompiledRule& decided = table->rules()[static_cast<std::size_t>(rule)];
    result.rule_id = static_cast<int32_t>(decided.id);
    result.log = decided.log;
    ++port.rule_hits[static_cast<std::size_t>(rule)];
    port.rule_bytes[static_cast<std::size_t>(rule)] += packet.wire_size;
  }
  if (action == Action::kDrop) {
    drop(result, rule >= 0 ? DropReason::kRuleDrop : DropReason::kDefaultDrop);
    return;
  }
  if (action == Action::kReject) {
    drop(result, rule >= 0 ? DropReason::kRuleReject : DropReason::kDefaultDrop);
    reject(port, packet, parsed, result);
    return;
  }
  // Allowed. ICMP messages other than requests are allowed one by one, without state.
  if (is_icmp(parsed.key.protocol) && parsed.icmp_class != IcmpClass::kRequest) {
    allow(result);
    return;
  }
  const uint32_t index = conns.create(key, hash, now, result.work.hash_probes);
  if (index == kNilIndex) {
    drop(result, DropReason::kConnTableFull);
    return;
  }
  Conn& c = conns.at(index);
  c.origin = parsed.key.direction;
  c.flags = parsed.key.is_v4 ? kConnV4 : 0;
  c.rule_id = result.rule_id;
  c.rule_index = rule;
  c.rule_generation = static_cast<uint16_t>(port.generation);
  if (tcp) {
    tcp_init(c, parsed);
  } else {
    c.state = ConnState::kUnreplied;
    if (is_icmp(parsed.key.protocol)) c.icmp_type = parsed.key.icmp_type;
  }
  conns.set_deadline(index, now + initial_timeout(c, config.timeouts));
  ++port.connection_count;
  ++connections_created;
  ++result.work.conns_created;
  result.connection_created = true;
  allow(result);
}

void Datapath::Impl::track_existing(Port& port, uint32_t index, const PacketView& packet,
                                    const ParsedPacket& parsed, int64_t now, Result& result) {
  Conn& c = conns.at(index);
  const bool reply = parsed.key.direction != c.origin;
  if (parsed.key.protocol == kProtoTcp) {
    switch (tcp_track(c, reply, parsed)) {
      case TcpOutcome::kInvalid:
        drop(result, DropReason::kInvalidState);
        return;
      case TcpOutcome::kOutOfWindow:
        drop(result, DropReason::kOutOfWindow);
        return;
      case TcpOutcome::kReopen:  // decide_ip() starts a reopened connection over first
        drop(result, DropReason::kInvalidState);
        return;
      case TcpOutcome::kAccept:
      case TcpOutcome::kIgnore:
        break;
    }
  } else if (is_icmp(parsed.key.protocol)) {
    const bool request = parsed.icmp_class == IcmpClass::kRequest;
    const bool response = parsed.icmp_class == IcmpClass::kReply;
    if ((request && reply) || (response && !reply) || (!request && !response)) {
      drop(result, DropReason::kInvalidState);
      return;
    }
    if (response) c.state = ConnState::kReplied;
  } else if (reply) {
    c.state = ConnState::kReplied;
  }
  conns.set_deadline(index, now + initial_timeout(c, config.timeouts));
  result.connection_hit = true;
  result.rule_id = c.rule_id;
  if (c.rule_index >= 0 && c.rule_generation == static_cast<uint16_t>(port.generation))
    port.rule_bytes[static_cast<std::size_t>(c.rule_index)] += packet.wire_size;
  allow(result);
}

void Datapath::Impl::decide_ip(Port& port, const PacketView& packet, const ParsedPacket& parsed,
                               int64_t now, const ConnKey* precomputed_key,
                               uint64_t precomputed_hash, Result& result) {
  const uint8_t protocol = parsed.key.protocol;
  if (protocol == kProtoTcp && !tcp_flags_valid(parsed.tcp.flags)) {
    drop(result, DropReason::kInvalidState);  // NULL, SYN+FIN, Xmas, ...
    return;
  }
  if (is_icmp(protocol) && parsed.icmp_class == IcmpClass::kNeighbor) {
    // Neighbour discovery is IPv6's ARP: same policy, no state.
    if (config.allow_arp) {
      allow(result);
    } else {
      drop(result, DropReason::kArpDenied);
    }
    return;
  }
  if (is_icmp(protocol) && parsed.icmp_class == IcmpClass::kError) {
    // Related to the quoted flow, which travelled the other way: allowed only if it is tracked.
    if (parsed.has_quoted) {
      const Direction quoted_direction = parsed.key.direction == Direction::kEgress
                                             ? Direction::kIngress
                                             : Direction::kEgress;
      ConnKey key;
      make_conn_key(port.id, quoted_direction, parsed.quoted.key, parsed.quoted.icmp_id, key);
      const uint64_t hash = conns.hash(key);
      const uint32_t index = conns.find(key, hash, result.work.hash_probes);
      if (index != kNilIndex && conns.at(index).deadline > now) {
        result.connection_hit = true;
        result.rule_id = conns.at(index).rule_id;
        allow(result);
        return;
      }
    }
    drop(result, DropReason::kInvalidState);
    return;
  }
  ConnKey computed_key;
  uint64_t hash = precomputed_hash;
  if (precomputed_key == nullptr) {
    make_conn_key(port.id, parsed.key.direction, parsed.key, parsed.icmp_id, computed_key);
    hash = conns.hash(computed_key);
  }
  const ConnKey& key = precomputed_key != nullptr ? *precomputed_key : computed_key;
  uint32_t index = conns.find(key, hash, result.work.hash_probes);
  if (index != kNilIndex) {
    Conn& c = conns.at(index);
    // Past its deadline it is gone, whether or not expire() has run; a new SYN on a closed or
    // TIME_WAIT connection starts a new one (and is classified again).
    const bool reopen = protocol == kProtoTcp && parsed.key.direction == c.origin &&
                        (parsed.tcp.flags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn &&
                        (c.state == ConnState::kTcpTimeWait || c.state == ConnState::kTcpClose);
    if (c.deadline <= now || reopen) {
      if (c.deadline <= now) ++connections_expired;
      destroy_conn(index, &port);
      ++result.work.conns_destroyed;
      index = kNilIndex;
    }
  }
  if (index != kNilIndex) {
    track_existing(port, index, packet, parsed, now, result);
  } else {
    classify_new(port, packet, parsed, key, hash, now, result);
  }
}

Result Datapath::Impl::process_one(Port& port, Direction direction, const PacketView& packet,
                                   int64_t now) {
  ParsedPacket parsed;
  const DropReason parse_error = parse_packet(packet, direction, parsed);
  return process_parsed(port, packet, parsed, parse_error, now);
}

// Up to kGroupSize packets at a time in three passes, so the memory accesses of one packet
// overlap with the work on the others (as DPDK's bulk lookups do): parse and prefetch the index
// buckets, then prefetch the connections whose tags match, then process.
void Datapath::Impl::process_group(Port& port, Direction direction, const PacketView* packets,
                                   std::size_t count, int64_t now, Result* results) {
  ParsedPacket parsed[kGroupSize];
  DropReason errors[kGroupSize];
  ConnKey keys[kGroupSize];
  uint64_t hashes[kGroupSize];
  bool tracked[kGroupSize];
  for (std::size_t i = 0; i < count; ++i) {
    errors[i] = parse_packet(packets[i], direction, parsed[i]);
    const ParsedPacket& p = parsed[i];
    tracked[i] = errors[i] == DropReason::kNone &&
                 (p.l3 == L3Kind::kIpv4 || p.l3 == L3Kind::kIpv6) &&
                 p.fragment != FragmentKind::kLater && p.icmp_class != IcmpClass::kError;
    if (tracked[i]) {
      make_conn_key(port.id, direction, p.key, p.icmp_id, keys[i]);
      hashes[i] = conns.hash(keys[i]);
      conns.prefetch(hashes[i]);
    }
  }
  for (std::size_t i = 0; i < count; ++i)
    if (tracked[i]) conns.prefetch_matches(hashes[i]);
  for (std::size_t i = 0; i < count; ++i)
    results[i] = process_parsed(port, packets[i], parsed[i], errors[i], now,
                                tracked[i] ? &keys[i] : nullptr, tracked[i] ? hashes[i] : 0);
}

Result Datapath::Impl::process_parsed(Port& port, const PacketView& packet,
                                      const ParsedPacket& parsed, DropReason parse_error,
                                      int64_t now, const ConnKey* conn_key, uint64_t conn_hash) {
  Result result;
  const Direction direction = parsed.key.direction;
  result.work.bytes_parsed = parsed.bytes_parsed;
  if (parse_error != DropReason::kNone) {
    drop(result, parse_error);
  } else if (parsed.l3 == L3Kind::kArp) {
    if (config.allow_arp) {
      allow(result);
    } else {
      drop(result, DropReason::kArpDenied);
    }
  } else if (parsed.l3 == L3Kind::kOtherEtherType) {
    if (config.allow_non_ip) {
      allow(result);
    } else {
      drop(result, DropReason::kNonIpDenied);
    }
  } else if (parsed.fragment == FragmentKind::kLater) {
    const FragmentKey key = FragmentTable::make_key(port.id, parsed.key, parsed.fragment_id);
    const FragmentVerdict* first = fragments.find(key, now, result.work.hash_probes);
    if (first == nullptr) {
      drop(result, DropReason::kFragmentNoFirst);
    } else {
      result.verdict = first->verdict;
      result.reason = first->reason;
      result.rule_id = first->rule_id;
    }
  } else {
    decide_ip(port, packet, parsed, now, conn_key, conn_hash, result);
    if (parsed.fragment == FragmentKind::kFirst) {
      const FragmentKey key = FragmentTable::make_key(port.id, parsed.key, parsed.fragment_id);
      const FragmentVerdict verdict{result.verdict, result.reason, result.rule_id};
      if (!fragments.record(key, verdict, now + config.timeouts.fragment,
                            result.work.hash_probes) &&
          result.verdict == Verdict::kAllow) {
        // Its later fragments could not follow it: drop the datagram now rather than later.
        drop(result, DropReason::kFragmentTableFull);
      }
    }
  }

  PortCounters& counters = port.counters;
  const auto dir = static_cast<std::size_t>(direction);
  ++counters.packets[dir];
  counters.bytes[dir] += packet.wire_size;
  if (result.verdict == Verdict::kAllow) {
    ++counters.allowed;
  } else {
    ++counters.dropped;
    ++counters.drops_by_reason[static_cast<std::size_t>(result.reason)];
    ++drops_by_reason[static_cast<std::size_t>(result.reason)];
  }
  return result;
}

Result Datapath::process(PortId port, Direction direction, const PacketView& packet, int64_t now) {
  Port* p = impl_->find_port(port);
  if (p == nullptr) {
    ++impl_->drops_by_reason[static_cast<std::size_t>(DropReason::kUnknownPort)];
    Result r;
    drop(r, DropReason::kUnknownPort);
    return r;
  }
  return impl_->process_one(*p, direction, packet, now);
}

void Datapath::process_batch(PortId port, Direction direction, std::span<const PacketView> packets,
                             int64_t now, std::span<Result> results) {
  const std::size_t n = packets.size() < results.size() ? packets.size() : results.size();
  Port* p = impl_->find_port(port);
  if (p == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      ++impl_->drops_by_reason[static_cast<std::size_t>(DropReason::kUnknownPort)];
      results[i] = Result{};
      drop(results[i], DropReason::kUnknownPort);
    }
    return;
  }
  for (std::size_t i = 0; i < n; i += Impl::kGroupSize) {
    const std::size_t count = n - i < Impl::kGroupSize ? n - i : Impl::kGroupSize;
    impl_->process_group(*p, direction, packets.data() + i, count, now, results.data() + i);
  }
}

}  // namespace dfw
