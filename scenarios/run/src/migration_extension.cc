#include "migration_extension.h"

#include <algorithm>

#include "migration_args.h"
#include "migration_engine.h"

namespace scenarios {
namespace {

std::string drop_reasons(const MigrationRecord& r) {
  std::string out;
  for (std::size_t i = 0; i < r.switchover_drops.size(); ++i) {
    if (r.switchover_drops[i] == 0) continue;
    if (!out.empty()) out += ",";
    out += std::string(models::host_drop_reason_name(static_cast<models::HostDropReason>(i))) + "=" +
           std::to_string(r.switchover_drops[i]);
  }
  return out;
}

int64_t percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  const std::size_t rank = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

class MigrationExtension final : public RunExtension {
 public:
  explicit MigrationExtension(RunContext& context) : context_(context), engine_(context.world, context.annotations) {}

  void register_actions(ActionTable& actions) override {
    actions.add("migrate", [this](const TimelineEvent& event, std::string& error) { return migrate(event, error); });
  }

  bool finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) override;

 private:
  bool migrate(const TimelineEvent& event, std::string& error) {
    MigrationRequest request;
    if (!parse_migrate_args(event, context_.scenario, context_.world, request, error)) return false;
    const models::Vm& vm = context_.world.vms[request.vm];
    // A VM that died with its host is moot to migrate: recorded, not an error (actions.h).
    if (!vm.running && !context_.world.hosts[vm.host]->has_vm(request.vm)) {
      ++skipped_;
      return true;
    }
    return engine_.start(request, error);
  }

  RunContext& context_;
  MigrationEngine engine_;
  uint64_t skipped_ = 0;
};

bool MigrationExtension::finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) {
  engine_.finish();
  const auto& records = engine_.records();
  if (records.empty() && skipped_ == 0) return true;  // like /failures: only when there were some
  std::vector<std::string> vm, from, to, state, policy, reasons, outcome, abort_reason;
  std::vector<int64_t> aborted;
  std::vector<int64_t> start, precopy, downtime, gap, resume;
  std::vector<uint64_t> rounds, copied, stop_copy, memory, wire, retransmitted, blob, moved, tracked, lost, drops,
      broken, gap_drops, fabric_loss;
  uint64_t done = 0, total_moved = 0, total_broken = 0, total_drops = 0;
  std::vector<int64_t> downtimes, precopies;
  for (const MigrationRecord& r : records) {
    vm.push_back(r.vm);
    from.push_back(r.from_host);
    to.push_back(r.to_host);
    start.push_back(r.start_ns);
    precopy.push_back(r.precopy_ns());
    rounds.push_back(r.rounds);
    copied.push_back(r.bytes_copied);
    downtime.push_back(r.downtime_ns());
    blob.push_back(r.state_blob_bytes);
    moved.push_back(r.connections_moved);
    drops.push_back(r.switchover_drop_total());
    broken.push_back(r.connections_broken);
    gap.push_back(r.policy_gap_ns());
    state.push_back(r.move_state ? "move" : "drop");
    policy.push_back(r.policy_before ? "before" : "after");
    resume.push_back(r.resume_ns);
    memory.push_back(r.memory_bytes);
    stop_copy.push_back(r.stop_copy_bytes);
    wire.push_back(r.wire_bytes);
    retransmitted.push_back(r.retransmitted_bytes);
    tracked.push_back(r.connections_tracked);
    lost.push_back(r.connections_lost_at_import);
    gap_drops.push_back(r.policy_gap_drops);
    fabric_loss.push_back(r.fabric_loss_packets);
    reasons.push_back(drop_reasons(r));
    outcome.push_back(r.phase == MigrationRecord::Phase::kDone      ? "done"
                      : r.phase == MigrationRecord::Phase::kAborted ? "aborted"
                                                                     : "unfinished");
    aborted.push_back(r.abort_ns);
    abort_reason.push_back(r.abort_reason);
    if (r.phase != MigrationRecord::Phase::kDone) continue;
    ++done;
    downtimes.push_back(r.downtime_ns());
    precopies.push_back(r.precopy_ns());
    total_moved += r.connections_moved;
    total_broken += r.connections_broken;
    total_drops += r.switchover_drop_total();
  }
  summary.extra.push_back({"migrations", "migrations", done});
  summary.extra.push_back({"migration_downtime_p50_ns", "ns", percentile(downtimes, 0.5)});
  summary.extra.push_back({"migration_downtime_max_ns", "ns", percentile(downtimes, 1.0)});
  summary.extra.push_back({"migration_connections_moved", "connections", total_moved});
  summary.extra.push_back({"migration_connections_broken", "connections", total_broken});
  summary.extra.push_back({"migration_switchover_drops", "packets", total_drops});
  auto ms = [](int64_t ns) { return ns < 0 ? std::string("-") : sim::to_string(sim::Nanos(ns)); };
  std::string line = "migrations  " + std::to_string(done) + " done";
  if (done < records.size()) line += ", " + std::to_string(records.size() - done) + " aborted or unfinished";
  if (skipped_ > 0) line += ", " + std::to_string(skipped_) + " skipped (VM not running)";
  line += "; downtime p50 " + ms(percentile(downtimes, 0.5)) + " max " + ms(percentile(downtimes, 1.0)) +
          "; pre-copy p50 " + ms(percentile(precopies, 0.5)) + "; connections moved " + std::to_string(total_moved) +
          ", broken " + std::to_string(total_broken) + "; switchover drops " + std::to_string(total_drops);
  summary.report_lines.push_back(line);
  return writer.write_table("/migrations",
                            {{"vm", "1", std::move(vm)},
                             {"from_host", "1", std::move(from)},
                             {"to_host", "1", std::move(to)},
                             {"start_ns", "ns", std::move(start)},
                             {"precopy_ns", "ns", std::move(precopy)},
                             {"rounds", "rounds", std::move(rounds)},
                             {"bytes_copied", "bytes", std::move(copied)},
                             {"downtime_ns", "ns", std::move(downtime)},
                             {"state_blob_bytes", "bytes", std::move(blob)},
                             {"connections_moved", "connections", std::move(moved)},
                             {"switchover_drops", "packets", std::move(drops)},
                             {"connections_broken", "connections", std::move(broken)},
                             {"policy_gap_ns", "ns", std::move(gap)},
                             {"state", "1", std::move(state)},
                             {"policy", "1", std::move(policy)},
                             {"outcome", "1", std::move(outcome)},
                             {"resume_ns", "ns", std::move(resume)},
                             {"aborted_ns", "ns", std::move(aborted)},
                             {"abort_reason", "1", std::move(abort_reason)},
                             {"memory_bytes", "bytes", std::move(memory)},
                             {"stop_copy_bytes", "bytes", std::move(stop_copy)},
                             {"wire_bytes", "bytes", std::move(wire)},
                             {"retransmitted_bytes", "bytes", std::move(retransmitted)},
                             {"connections_tracked", "connections", std::move(tracked)},
                             {"connections_lost_at_import", "connections", std::move(lost)},
                             {"policy_gap_drops", "packets", std::move(gap_drops)},
                             {"fabric_loss_packets", "packets", std::move(fabric_loss)},
                             {"switchover_drop_reasons", "1", std::move(reasons)}},
                            error);
}

}  // namespace

std::unique_ptr<RunExtension> make_migration_extension(RunContext& context) {
  return std::make_unique<MigrationExtension>(context);
}

}  // namespace scenarios
