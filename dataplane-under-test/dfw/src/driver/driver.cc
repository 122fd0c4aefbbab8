#include "dfw/driver.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace dfw {
namespace {

int64_t shortest(const Timeouts& t) {
  return std::min({t.tcp_syn_sent, t.tcp_syn_recv, t.tcp_established, t.tcp_fin_wait,
                   t.tcp_close_wait, t.tcp_last_ack, t.tcp_time_wait, t.tcp_close,
                   t.udp_unreplied, t.udp_replied, t.icmp, t.fragment});
}

}  // namespace

DatapathDriver::DatapathDriver(Datapath& datapath, platform::Env& env)
    : datapath_(datapath), env_(env), shortest_timeout_(shortest(datapath.config().timeouts)) {
  datapath_.set_frame_sink(&env_.frames);
  timer_ = env_.timers.create_timer([this] { run_expiry(); });
}

DatapathDriver::~DatapathDriver() { datapath_.set_frame_sink(nullptr); }

void DatapathDriver::arm(int64_t deadline) {
  armed_deadline_ = deadline;
  if (deadline == INT64_MAX) {
    timer_->cancel();
  } else {
    timer_->arm(deadline);
  }
}

void DatapathDriver::after_packets(int64_t now, bool created) {
  // A new connection or fragment may expire before the armed deadline; the earliest it can is
  // now + the shortest timeout. Re-arming only when that is earlier keeps timer traffic to about
  // one re-arm per shortest-timeout period.
  if (created && now + shortest_timeout_ < armed_deadline_) arm(now + shortest_timeout_);
}

void DatapathDriver::log_decision(PortId port, Direction direction, const Result& r) {
  // A fixed buffer: logging rules must not make the packet path allocate.
  char line[160];
  const std::string_view reason = drop_reason_name(r.reason);
  std::snprintf(line, sizeof line, "port %u %s rule %d %s (%.*s)", port,
                direction == Direction::kEgress ? "egress" : "ingress", r.rule_id,
                r.verdict == Verdict::kAllow ? "allow" : "drop", static_cast<int>(reason.size()),
                reason.data());
  env_.log.write(platform::LogLevel::kInfo, "dfw", line);
}

Result DatapathDriver::process(PortId port, Direction direction, const PacketView& packet) {
  const int64_t now = env_.clock.now();
  Result r = datapath_.process(port, direction, packet, now);
  if (r.log) log_decision(port, direction, r);
  after_packets(now, r.verdict == Verdict::kAllow && !r.connection_hit);
  return r;
}

void DatapathDriver::process_batch(PortId port, Direction direction,
                                   std::span<const PacketView> packets,
                                   std::span<Result> results) {
  const int64_t now = env_.clock.now();
  datapath_.process_batch(port, direction, packets, now, results);
  bool created = false;
  for (std::size_t i = 0; i < packets.size() && i < results.size(); ++i) {
    created |= results[i].verdict == Verdict::kAllow && !results[i].connection_hit;
    if (results[i].log) log_decision(port, direction, results[i]);
  }
  after_packets(now, created);
}

Status DatapathDriver::install_rules(PortId port, RuleTablePtr rules) {
  return datapath_.install_rules(port, std::move(rules), env_.clock.now());
}

Status DatapathDriver::import_port(PortId port, std::span<const uint8_t> blob,
                                   RuleTablePtr rules) {
  Status s = datapath_.import_port(port, blob, std::move(rules), env_.clock.now());
  if (s) run_expiry();
  return s;
}

Status DatapathDriver::export_port(PortId port, std::vector<uint8_t>& blob) const {
  return datapath_.export_port(port, env_.clock.now(), blob);
}

void DatapathDriver::run_expiry() {
  const int64_t now = env_.clock.now();
  arm(datapath_.expire(now));
}

void DatapathDriver::publish_metrics() {
  const DatapathStats s = datapath_.stats();
  platform::MetricsSink& m = env_.metrics;
  m.gauge("dfw.connections.live", "connections", static_cast<double>(s.live_connections));
  m.counter("dfw.connections.created", "connections", s.connections_created);
  m.counter("dfw.connections.expired", "connections", s.connections_expired);
  m.gauge("dfw.fragments.live", "datagrams", static_cast<double>(s.live_fragments));
  m.gauge("dfw.connection_table.size", "bytes", static_cast<double>(s.connection_table_size));
  for (std::size_t i = 1; i < kDropReasonCount; ++i) {
    std::string name = "dfw.drops.";
    name += drop_reason_name(static_cast<DropReason>(i));
    m.counter(name, "packets", s.drops_by_reason[i]);
  }
}

}  // namespace dfw
