#include "recorder.h"

#include <arpa/inet.h>

#include <algorithm>

#include "controller/policy.h"

namespace scenarios {
namespace {

using analysis::Column;

std::string address_text(const std::array<uint8_t, 16>& a, uint8_t ip_version) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof buf);
  return buf;
}

std::string ipv4_text(uint32_t host_order) {
  const uint32_t n = htonl(host_order);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &n, buf, sizeof buf);
  return buf;
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k + '=' + v;
  }
  return out;
}

template <class T>
std::vector<uint64_t> widen(const std::vector<T>& v) {
  return std::vector<uint64_t>(v.begin(), v.end());
}

}  // namespace

Recorder::Recorder(World& world, analysis::ResultWriter& writer, sim::Time interval)
    : world_(world), writer_(writer), interval_(interval) {}

bool Recorder::start(std::string& error) {
  hosts_.add_key_column("host", "1");
  hosts_.add_sample_columns(models::HostSample{});
  cores_.add_time_column();
  cores_.add_key_column("host", "1");
  cores_.add_key_column("core", "1");
  cores_.add_sample_columns(models::CoreSample{});
  links_.add_key_column("link", "1");
  links_.add_sample_columns(models::LinkSample{});
  if (!hosts_.open(writer_, "/series/hosts", error) || !cores_.open(writer_, "/series/cores", error) ||
      !links_.open(writer_, "/series/links", error)) {
    return false;
  }
  last_host_samples_.resize(world_.hosts.size());
  last_link_samples_.resize(world_.fabric->link_count());
  previous_core_busy_ns_.resize(world_.hosts.size());
  for (std::size_t h = 0; h < world_.hosts.size(); ++h)
    previous_core_busy_ns_[h].assign(world_.hosts[h]->params().cores, 0);
  world_.kernel.schedule(interval_, sim::kWorld, [this] { sample(); });
  return true;
}

void Recorder::sample() {
  const sim::Time now = world_.kernel.now();
  const double elapsed_ns = static_cast<double>((now - previous_sample_time_).ns());
  for (std::size_t h = 0; h < world_.hosts.size(); ++h) {
    models::HostSample s = world_.hosts[h]->sample(now);
    hosts_.add_row({h}, s);
    for (std::size_t c = 0; c < s.cores.size(); ++c) {
      cores_.add_row_with_time(now.ns(), {h, c}, s.cores[c]);
      if (elapsed_ns > 0) {
        const double busy = static_cast<double>(s.cores[c].busy_ns - previous_core_busy_ns_[h][c]);
        peak_core_utilization_ = std::max(peak_core_utilization_, busy / elapsed_ns);
      }
      previous_core_busy_ns_[h][c] = s.cores[c].busy_ns;
    }
    peak_live_connections_ = std::max(peak_live_connections_, s.live_connections);
    last_host_samples_[h] = std::move(s);
  }
  for (std::size_t l = 0; l < world_.fabric->link_count(); ++l) {
    last_link_samples_[l] = world_.fabric->link(l).sample(now);
    links_.add_row({l}, last_link_samples_[l]);
  }
  previous_sample_time_ = now;
  std::string error;
  if (!hosts_.flush(error) || !cores_.flush(error) || !links_.flush(error)) {
    if (first_error_.empty()) first_error_ = error;
  }
  world_.kernel.schedule(interval_, sim::kWorld, [this] { sample(); });
}

bool Recorder::finish(const Scenario& scenario, RunSummary& summary, std::string& error) {
  if (previous_sample_time_ != world_.kernel.now()) sample();
  if (!first_error_.empty()) {
    error = first_error_;
    return false;
  }
  summary.simulated_ns = world_.kernel.now().ns();
  summary.events = world_.kernel.events_executed();
  summary.peak_core_utilization = peak_core_utilization_;
  if (const double run_ns = static_cast<double>(world_.kernel.now().ns()); run_ns > 0) {
    for (const models::HostSample& s : last_host_samples_) {
      double host_busy_ns = 0;
      for (const models::CoreSample& c : s.cores) {
        const double busy_ns = static_cast<double>(c.busy_ns);
        summary.busiest_core_mean_utilization = std::max(summary.busiest_core_mean_utilization, busy_ns / run_ns);
        host_busy_ns += busy_ns;
      }
      if (!s.cores.empty()) {
        summary.busiest_host_mean_utilization = std::max(summary.busiest_host_mean_utilization,
                                                         host_busy_ns / (run_ns * static_cast<double>(s.cores.size())));
      }
    }
  }
  summary.peak_live_connections = peak_live_connections_;
  uint64_t cycles = 0, core_packets = 0;
  for (const models::HostSample& s : last_host_samples_) {
    summary.packets_from_vms += s.packets_from_vms;
    summary.packets_delivered += s.packets_delivered;
    for (const models::CoreSample& c : s.cores) {
      cycles += c.busy_cycles;
      core_packets += c.packets;
    }
  }
  summary.firewall_cycles_per_packet =
      core_packets ? static_cast<double>(cycles) / static_cast<double>(core_packets) : 0;
  return write_directories(scenario, error) && write_flows(summary, error) && write_latency(summary, error) &&
         write_drops(summary, error) && write_rules(error) && write_invariants(summary, error) &&
         write_summary(summary, error) &&
         write_replay(scenario, error);
}

// One row per trace replay (absent without replays): what was read, sent and skipped by reason.
bool Recorder::write_replay(const Scenario& scenario, std::string& error) {
  if (world_.replays.empty()) return true;
  std::vector<uint64_t> source, records, packets, segments, bytes, loops;
  std::vector<std::string> kind, file;
  std::vector<std::vector<uint64_t>> skipped(models::traffic::kReplaySkipCount);
  for (std::size_t i = 0; i < world_.replays.size(); ++i) {
    const models::traffic::ReplayStats& s = world_.replays[i]->stats();
    const std::size_t index = world_.replay_traffic_index[i];
    source.push_back(index);
    kind.push_back(scenario.traffic[index].kind);
    file.push_back(scenario.traffic[index].file);
    records.push_back(s.records_read);
    packets.push_back(s.packets_replayed);
    segments.push_back(s.segments_replayed);
    bytes.push_back(s.bytes_replayed);
    loops.push_back(s.loops_completed);
    for (std::size_t r = 0; r < models::traffic::kReplaySkipCount; ++r) skipped[r].push_back(s.skipped[r]);
  }
  std::vector<Column> columns = {
      {"traffic_index", "1", std::move(source)},   {"kind", "1", std::move(kind)},
      {"file", "1", std::move(file)},              {"records_read", "records", std::move(records)},
      {"packets_replayed", "packets", std::move(packets)}, {"segments_replayed", "packets", std::move(segments)},
      {"bytes_replayed", "bytes", std::move(bytes)}, {"loops_completed", "loops", std::move(loops)},
  };
  for (std::size_t r = 0; r < models::traffic::kReplaySkipCount; ++r) {
    const auto name = models::traffic::replay_skip_name(static_cast<models::traffic::ReplaySkip>(r));
    columns.push_back({"skipped_" + std::string(name), "records", std::move(skipped[r])});
  }
  return writer_.write_table("/replay", columns, error);
}

// One row per invariant checked in this run (absent when no feature checks any). Violations of
// correctness invariants also go to the summary: a run that broke one says so.
bool Recorder::write_invariants(RunSummary& summary, std::string& error) {
  if (world_.invariants.empty()) return true;
  std::vector<std::string> name, first, reasons;
  std::vector<uint64_t> checked, violations, counts_only, not_checked;
  uint64_t total = 0;
  for (const auto& [n, c] : world_.invariants) {
    name.push_back(n);
    checked.push_back(c.checked);
    not_checked.push_back(c.not_checked);
    std::string why;
    for (const auto& [reason, count] : c.not_checked_reasons)
      why += (why.empty() ? "" : ",") + reason + "=" + std::to_string(count);
    reasons.push_back(std::move(why));
    violations.push_back(c.violations);
    counts_only.push_back(c.counts_only ? 1 : 0);
    first.push_back(c.first_violation);
    if (c.counts_only) continue;
    total += c.violations;
    if (c.violations > 0) {
      summary.report_lines.push_back("INVARIANT VIOLATED " + n + ": " + std::to_string(c.violations) +
                                     " times; first " + c.first_violation);
    }
  }
  summary.extra.push_back({"invariant_violations", "violations", total});
  if (total == 0) {
    summary.report_lines.push_back("invariants " + std::to_string(world_.invariants.size()) +
                                   " checked, no violations");
  }
  return writer_.write_table("/invariants",
                             {{"name", "1", std::move(name)},
                              {"checked", "checks", std::move(checked)},
                              {"violations", "violations", std::move(violations)},
                              {"counts_only", "1", std::move(counts_only)},
                              {"first_violation", "1", std::move(first)},
                              {"not_checked", "checks", std::move(not_checked)},
                              {"not_checked_reasons", "1", std::move(reasons)}},
                             error);
}

bool Recorder::write_directories(const Scenario& scenario, std::string& error) {
  std::vector<std::string> host_names;
  std::vector<uint64_t> cores, clock_hz, vm_counts(world_.hosts.size(), 0);
  for (const auto& h : world_.hosts) {
    host_names.push_back(h->name());
    cores.push_back(h->params().cores);
    clock_hz.push_back(h->params().clock_hz);
  }
  std::vector<std::string> vm_names, vm_hosts, vm_ipv4, vm_ipv6, vm_labels, vm_groups;
  std::vector<uint64_t> vm_host_index, vnic_bps;
  for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
    const models::Vm& vm = world_.vms[v];
    vm_names.push_back(vm.name);
    vm_host_index.push_back(vm.host);
    vm_hosts.push_back(world_.hosts[vm.host]->name());
    vm_ipv4.push_back(ipv4_text(vm.ipv4));
    vm_ipv6.push_back(vm.has_ipv6 ? address_text(vm.ipv6, 6) : std::string());
    vm_labels.push_back(labels_text(vm.labels));
    vm_groups.push_back(v < scenario.vms.size() ? scenario.vms[v].group : std::string());  // added at run time: no group
    vnic_bps.push_back(vm.vnic_rate.bits_per_second());
    ++vm_counts[vm.host];
  }
  std::vector<std::string> link_names = world_.link_names;
  std::vector<uint64_t> link_bps, link_queue;
  std::vector<int64_t> link_delay;
  for (std::size_t l = 0; l < world_.fabric->link_count(); ++l) {
    const models::LinkParams& p = world_.fabric->link(l).params();
    link_bps.push_back(p.rate.bits_per_second());
    link_delay.push_back(p.delay.ns());
    link_queue.push_back(p.queue_size.count());
  }
  return writer_.write_table("/hosts", {{"name", "1", host_names}, {"cores", "cores", cores},
                                        {"clock_hz", "Hz", clock_hz}, {"vms", "vms", vm_counts}}, error) &&
         writer_.write_table("/vms", {{"name", "1", vm_names}, {"host", "1", vm_host_index},
                                      {"host_name", "1", vm_hosts}, {"group", "1", vm_groups},
                                      {"ipv4", "1", vm_ipv4}, {"ipv6", "1", vm_ipv6},
                                      {"labels", "1", vm_labels}, {"vnic_rate", "bit/s", vnic_bps}}, error) &&
         writer_.write_table("/links", {{"name", "1", link_names}, {"rate", "bit/s", link_bps},
                                        {"delay_ns", "ns", link_delay}, {"queue_size", "bytes", link_queue}},
                             error);
}

bool Recorder::write_flows(RunSummary& summary, std::string& error) {
  const models::traffic::FlowRecords& f = world_.flows;
  std::vector<std::string> source, destination, outcome, reason;
  std::vector<int64_t> fct;
  for (std::size_t i = 0; i < f.size(); ++i) {
    source.push_back(address_text(f.source_address[i], f.ip_version[i]));
    destination.push_back(address_text(f.destination_address[i], f.ip_version[i]));
    outcome.emplace_back(models::traffic::flow_outcome_name(f.outcome[i]));
    reason.emplace_back(models::traffic::flow_reason_name(f.reason[i]));
    fct.push_back(f.fct_ns(static_cast<models::traffic::FlowId>(i)));
    switch (f.outcome[i]) {
      case models::traffic::FlowOutcome::kCompleted: ++summary.flows_completed; break;
      case models::traffic::FlowOutcome::kIncompleteAtEnd: ++summary.flows_incomplete; break;
      default: ++summary.flows_failed; break;
    }
  }
  summary.flows_started = f.size();
  std::vector<Column> columns = {
      {"flow_id", "1", widen(f.flow_id)},
      {"source_vm", "1", widen(f.source_vm)},
      {"destination_vm", "1", widen(f.destination_vm)},
      {"ip_version", "1", widen(f.ip_version)},
      {"source_address", "1", std::move(source)},
      {"destination_address", "1", std::move(destination)},
      {"source_port", "1", widen(f.source_port)},
      {"destination_port", "1", widen(f.destination_port)},
      {"protocol", "1", widen(f.protocol)},
      {"size", "bytes", f.size_bytes},
      {"start_ns", "ns", f.start_ns},
      {"end_ns", "ns", f.end_ns},
      {"fct_ns", "ns", std::move(fct)},
      {"bytes_sent", "bytes", f.bytes_sent},
      {"bytes_received", "bytes", f.bytes_received},
      {"packets_sent", "packets", f.packets_sent},
      {"retransmissions", "packets", widen(f.retransmissions)},
      {"outcome", "1", std::move(outcome)},
      {"reason", "1", std::move(reason)},
  };
  return writer_.write_table("/flows", columns, error);
}

bool Recorder::write_latency(RunSummary& summary, std::string& error) {
  models::LatencyHistogram all;
  std::vector<std::string> scope;
  std::vector<uint64_t> count, p50, p99, p999, max;
  std::vector<double> mean;
  auto add = [&](const std::string& name, const models::LatencyHistogram& h) {
    scope.push_back(name);
    count.push_back(h.count());
    mean.push_back(h.mean());
    p50.push_back(h.percentile(0.5));
    p99.push_back(h.percentile(0.99));
    p999.push_back(h.percentile(0.999));
    max.push_back(h.max());
  };
  for (const auto& host : world_.hosts) all.merge(host->latency());
  add("all", all);
  for (const auto& host : world_.hosts) add(host->name(), host->latency());
  summary.latency_p50_ns = all.percentile(0.5);
  summary.latency_p99_ns = all.percentile(0.99);
  summary.latency_p999_ns = all.percentile(0.999);

  std::vector<uint64_t> lower, upper, bucket_count;
  for (const auto& b : all.buckets()) {
    lower.push_back(b.lower);
    upper.push_back(b.upper);
    bucket_count.push_back(b.count);
  }
  return writer_.write_table("/latency/percentiles",
                             {{"scope", "1", scope}, {"count", "packets", count}, {"mean_ns", "ns", mean},
                              {"p50_ns", "ns", p50}, {"p99_ns", "ns", p99}, {"p999_ns", "ns", p999},
                              {"max_ns", "ns", max}},
                             error) &&
         writer_.write_table("/latency/histogram",
                             {{"lower_ns", "ns", lower}, {"upper_ns", "ns", upper}, {"count", "packets", bucket_count}},
                             error);
}

bool Recorder::write_drops(RunSummary& summary, std::string& error) {
  std::vector<std::string> layer, reason;
  std::vector<uint64_t> packets;
  auto add = [&](const char* l, std::string_view r, uint64_t n) {
    layer.emplace_back(l);
    reason.emplace_back(r);
    packets.push_back(n);
    summary.drops_total += n;
    if (n) summary.drops_by_reason[std::string(l) + "." + std::string(r)] += n;
  };
  for (std::size_t i = 1; i < dfw::kDropReasonCount; ++i) {
    uint64_t n = 0;
    for (const auto& s : last_host_samples_) n += s.dfw_drops[i];
    add("dfw", dfw::drop_reason_name(static_cast<dfw::DropReason>(i)), n);
  }
  for (std::size_t i = 0; i < models::kHostDropReasonCount; ++i) {
    uint64_t n = 0;
    for (const auto& s : last_host_samples_) n += s.host_drops[i];
    add("host", models::host_drop_reason_name(static_cast<models::HostDropReason>(i)), n);
  }
  for (std::size_t i = 0; i < models::kLinkDropReasonCount; ++i) {
    uint64_t n = 0;
    for (const auto& s : last_link_samples_) n += s.drops[i];
    std::string_view name = models::LinkSample::drop_column_names[i];
    name.remove_prefix(std::string_view("drops_").size());
    add("link", name, n);
  }
  add("fabric", "no_route", world_.fabric->no_route_drops());
  add("fabric", "stale_route", world_.fabric->stale_route_drops());
  return writer_.write_table("/drops", {{"layer", "1", layer}, {"reason", "1", reason}, {"packets", "packets", packets}},
                             error);
}

bool Recorder::write_rules(std::string& error) {
  std::vector<std::string> vm, policy_rule;
  std::vector<uint64_t> vm_index, rule_id, hits, bytes;
  const auto& rules = world_.controller->policy().rules;
  std::vector<uint32_t> ids;
  std::vector<uint64_t> h, b;
  for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
    world_.hosts[world_.vms[v].host]->datapath().rule_hits(v, ids, h, b);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      vm.push_back(world_.vms[v].name);
      vm_index.push_back(v);
      rule_id.push_back(ids[i]);
      const std::size_t policy_index = controller::policy_rule_index(ids[i]);
      policy_rule.push_back(policy_index < rules.size() ? rules[policy_index].name : std::string());
      hits.push_back(h[i]);
      bytes.push_back(b[i]);
    }
  }
  return writer_.write_table("/rules", {{"vm", "1", vm}, {"vm_index", "1", vm_index}, {"rule_id", "1", rule_id},
                                        {"policy_rule", "1", policy_rule}, {"hits", "packets", hits},
                                        {"bytes", "bytes", bytes}},
                             error);
}

bool Recorder::write_summary(const RunSummary& s, std::string& error) {
  std::vector<Column> columns = {
      {"simulated_ns", "ns", std::vector<int64_t>{s.simulated_ns}},
      {"events", "events", std::vector<uint64_t>{s.events}},
      {"packets_from_vms", "packets", std::vector<uint64_t>{s.packets_from_vms}},
      {"packets_delivered", "packets", std::vector<uint64_t>{s.packets_delivered}},
      {"flows_started", "flows", std::vector<uint64_t>{s.flows_started}},
      {"flows_completed", "flows", std::vector<uint64_t>{s.flows_completed}},
      {"flows_failed", "flows", std::vector<uint64_t>{s.flows_failed}},
      {"flows_incomplete", "flows", std::vector<uint64_t>{s.flows_incomplete}},
      {"drops_total", "packets", std::vector<uint64_t>{s.drops_total}},
      {"firewall_cycles_per_packet", "cycles", std::vector<double>{s.firewall_cycles_per_packet}},
      {"peak_core_utilization", "1", std::vector<double>{s.peak_core_utilization}},
      {"busiest_core_mean_utilization", "1", std::vector<double>{s.busiest_core_mean_utilization}},
      {"busiest_host_mean_utilization", "1", std::vector<double>{s.busiest_host_mean_utilization}},
      {"peak_live_connections", "connections", std::vector<uint64_t>{s.peak_live_connections}},
      {"latency_p50_ns", "ns", std::vector<uint64_t>{s.latency_p50_ns}},
      {"latency_p99_ns", "ns", std::vector<uint64_t>{s.latency_p99_ns}},
      {"latency_p999_ns", "ns", std::vector<uint64_t>{s.latency_p999_ns}},
      {"rule_tables", "tables", std::vector<uint64_t>{world_.distinct_rule_tables}},
  };
  for (const RunSummary::Field& f : s.extra) {
    std::visit([&](auto v) { columns.push_back({f.name, f.units, std::vector<decltype(v)>{v}}); }, f.value);
  }
  return writer_.write_table("/summary", columns, error);
}

}  // namespace scenarios
