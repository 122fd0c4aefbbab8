// The failures extension: action registration, the failure records, /failures and the summary.

#include "failures.h"

#include <map>

namespace scenarios {

std::unique_ptr<RunExtension> create_failures_extension(RunContext& context) {
  return std::make_unique<Failures>(context);
}

void Failures::register_actions(ActionTable& actions) {
  auto bind = [this](bool (Failures::*method)(const TimelineEvent&, std::string&)) {
    return [this, method](const TimelineEvent& event, std::string& error) { return (this->*method)(event, error); };
  };
  actions.add("fail_host", bind(&Failures::fail_host));
  actions.add("recover_host", bind(&Failures::recover_host));
  actions.add("reboot_host", bind(&Failures::reboot_host));
  actions.add("link_down", bind(&Failures::link_down));
  actions.add("link_up", bind(&Failures::link_up));
  actions.add("set_link_loss", bind(&Failures::set_link_loss));
  actions.add("fail_switch", bind(&Failures::fail_switch));
  actions.add("recover_switch", bind(&Failures::recover_switch));
}

int64_t Failures::now_ns() const { return context_.world.kernel.now().ns(); }

std::size_t Failures::open(FailureRecord record) {
  record.start_ns = now_ns();
  if (record.drop_counter) record.drops_at_start = record.drop_counter();
  records_.push_back(std::move(record));
  annotate_failure(records_.back());
  return records_.size() - 1;
}

FailureRecord* Failures::find_open(const std::string& kind, const std::string& target) {
  for (auto it = records_.rbegin(); it != records_.rend(); ++it)
    if (it->end_ns < 0 && it->kind == kind && it->target == target) return &*it;
  return nullptr;
}

bool Failures::close(const std::string& kind, const std::string& target) {
  FailureRecord* record = find_open(kind, target);
  if (record == nullptr) return false;
  record->end_ns = now_ns();
  if (record->drop_counter) {
    record->packets_dropped = record->drop_counter() - record->drops_at_start;
    record->drop_counter = nullptr;  // frozen: later drops belong to no failure
  }
  annotate_recovery(*record, kind);
  return true;
}

void Failures::annotate_failure(const FailureRecord& record) {
  Annotations& a = context_.annotations;
  if (!a.wants(AnnotationKind::kFailure)) return;
  a.emit({record.start_ns, AnnotationKind::kFailure,
          {{"kind", record.kind},
           {"target", record.target},
           {"cause", record.cause},
           {"vms_affected", static_cast<int64_t>(record.vms_affected)},
           {"connections_lost", static_cast<int64_t>(record.connections_lost)}}});
}

void Failures::annotate_recovery(const FailureRecord& record, const std::string& what) {
  Annotations& a = context_.annotations;
  if (!a.wants(AnnotationKind::kRecovery)) return;
  a.emit({now_ns(), AnnotationKind::kRecovery,
          {{"kind", what},
           {"target", record.target},
           {"failure_start_ns", record.start_ns},
           {"restarted_vms", static_cast<int64_t>(record.restarted_vms)},
           {"connections_carried", static_cast<int64_t>(record.connections_carried)},
           {"packets_dropped", static_cast<int64_t>(record.packets_dropped)}}});
}

bool Failures::finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) {
  if (records_.empty()) return true;  // no failure: no table, no summary noise
  std::vector<std::string> kind, target, cause;
  std::vector<int64_t> start, end, restart;
  std::vector<uint64_t> vms, connections, dropped, restarted, aborted;
  std::vector<double> loss, corruption;
  std::map<std::string, uint64_t> by_kind;
  uint64_t total_vms = 0, total_connections = 0, total_dropped = 0, total_restarted = 0;
  for (FailureRecord& r : records_) {
    // Still open: what it cost up to the end of the run.
    if (r.drop_counter) r.packets_dropped = r.drop_counter() - r.drops_at_start;
    kind.push_back(r.kind);
    target.push_back(r.target);
    cause.push_back(r.cause);
    start.push_back(r.start_ns);
    end.push_back(r.end_ns);
    vms.push_back(r.vms_affected);
    connections.push_back(r.connections_lost);
    dropped.push_back(r.packets_dropped);
    restarted.push_back(r.restarted_vms);
    aborted.push_back(r.flows_aborted);
    restart.push_back(r.restart_ns);
    loss.push_back(r.loss);
    corruption.push_back(r.corruption);
    ++by_kind[r.kind];
    total_vms += r.vms_affected;
    total_connections += r.connections_lost;
    total_dropped += r.packets_dropped;
    total_restarted += r.restarted_vms;
  }
  summary.extra.push_back({"failures", "failures", static_cast<uint64_t>(records_.size())});
  summary.extra.push_back({"failure_vms_affected", "vms", total_vms});
  summary.extra.push_back({"failure_connections_lost", "connections", total_connections});
  summary.extra.push_back({"failure_packets_dropped", "packets", total_dropped});
  summary.extra.push_back({"failure_vms_restarted", "vms", total_restarted});
  summary.extra.push_back({"stale_route_drops", "packets", context_.world.fabric->stale_route_drops()});
  std::string kinds;
  for (const auto& [k, n] : by_kind) kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(n);
  summary.report_lines.push_back("failures   " + std::to_string(records_.size()) + " (" + kinds + "): " +
                                 std::to_string(total_vms) + " VMs affected, " + std::to_string(total_restarted) +
                                 " restarted, " + std::to_string(total_connections) + " connections lost, " +
                                 std::to_string(total_dropped) + " packets dropped");
  return writer.write_table("/failures",
                            {{"kind", "1", std::move(kind)},
                             {"target", "1", std::move(target)},
                             {"cause", "1", std::move(cause)},
                             {"start_ns", "ns", std::move(start)},
                             {"end_ns", "ns", std::move(end)},
                             {"vms_affected", "vms", std::move(vms)},
                             {"connections_lost", "connections", std::move(connections)},
                             {"packets_dropped", "packets", std::move(dropped)},
                             {"restarted_vms", "vms", std::move(restarted)},
                             {"restart_ns", "ns", std::move(restart)},
                             {"flows_aborted", "flows", std::move(aborted)},
                             {"loss", "1", std::move(loss)},
                             {"corruption", "1", std::move(corruption)}},
                            error);
}

}  // namespace scenarios
