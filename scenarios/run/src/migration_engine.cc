#include "migration_engine.h"

#include <algorithm>

#include "models/headers.h"

namespace scenarios {

using models::VmIndex;
using models::migration::PrecopyModel;

uint64_t MigrationRecord::switchover_drop_total() const {
  uint64_t total = 0;
  for (uint64_t n : switchover_drops) total += n;
  return total;
}

int64_t MigrationRecord::policy_gap_ns() const {
  if (resume_ns < 0) return -1;
  if (policy_ns < 0) return -1;  // the policy never arrived within the run
  return std::max<int64_t>(policy_ns - resume_ns, 0);
}

// Sees every drop of one host and hands it to the engine with the host's index.
class MigrationEngine::Observer final : public models::Host::DropObserver {
 public:
  Observer(MigrationEngine& engine, uint32_t host) : engine_(engine), host_(host) {}
  void dfw_dropped(const models::Packet& packet, VmIndex port, dfw::DropReason reason) override {
    engine_.dfw_dropped(host_, packet, port, reason);
  }
  void host_dropped(const models::Packet& packet, models::HostDropReason reason) override {
    engine_.host_dropped(host_, packet, reason);
  }

 private:
  MigrationEngine& engine_;
  uint32_t host_;
};

MigrationEngine::MigrationEngine(World& world, Annotations& annotations)
    : world_(world), annotations_(annotations), last_by_vm_(world.vm_capacity, -1) {
  std::vector<models::Host*> hosts;
  for (auto& h : world.hosts) hosts.push_back(h.get());
  // vmkernel addresses follow the VMs (and the room left for VMs added at run time) in the
  // fabric's directory.
  network_ = std::make_unique<models::migration::MigrationNetwork>(
      world.kernel, world.pool, *world.fabric, hosts, world.vm_capacity);
  for (uint32_t h = 0; h < world.hosts.size(); ++h) {
    observers_.push_back(std::make_unique<Observer>(*this, h));
    world.hosts[h]->set_drop_observer(observers_.back().get());
  }
  crash_listener_ = world.host_crash_listeners.size();
  world.host_crash_listeners.push_back([this](uint32_t host) { host_failed(host); });
}

MigrationEngine::~MigrationEngine() {
  world_.host_crash_listeners[crash_listener_] = nullptr;
  // Only ours: a feature that chained itself in front of us (the annotation bridge) restores us.
  for (uint32_t h = 0; h < world_.hosts.size(); ++h)
    if (world_.hosts[h]->drop_observer() == observers_[h].get()) world_.hosts[h]->set_drop_observer(nullptr);
}

bool MigrationEngine::start(const MigrationRequest& request, std::string& error) {
  if (request.vm >= world_.vms.size()) {
    error = "no VM with index " + std::to_string(request.vm);
    return false;
  }
  const models::Vm& vm = world_.vms[request.vm];
  if (request.to >= world_.hosts.size()) {
    error = "vm " + vm.name + ": no host with index " + std::to_string(request.to);
    return false;
  }
  const int32_t last = last_by_vm_[request.vm];
  if (last >= 0 && (records_[last].phase == MigrationRecord::Phase::kPrecopy ||
                    records_[last].phase == MigrationRecord::Phase::kStopped)) {
    error = "vm " + vm.name + " is already migrating (since " +
            sim::to_string(sim::Nanos(records_[last].start_ns)) + ", to " + records_[last].to_host + ")";
    return false;
  }
  if (!vm.running || !world_.hosts[vm.host]->has_vm(request.vm)) {
    error = "vm " + vm.name + " is not running (its host failed?): nothing to migrate";
    return false;
  }
  if (vm.host == request.to) {
    error = "vm " + vm.name + " is already on host " + world_.hosts[request.to]->name();
    return false;
  }
  if (request.precopy.bandwidth.bits_per_second() == 0) {
    error = "vm " + vm.name + ": the migration bandwidth must be > 0";
    return false;
  }
  const uint32_t index = static_cast<uint32_t>(records_.size());
  MigrationRecord r;
  r.vm = vm.name;
  r.vm_index = request.vm;
  r.from = vm.host;
  r.to = request.to;
  r.from_host = world_.hosts[r.from]->name();
  r.to_host = world_.hosts[r.to]->name();
  r.move_state = request.move_state;
  r.policy_before = request.policy_before;
  r.start_ns = world_.kernel.now().ns();
  r.memory_bytes = request.precopy.memory.count();
  r.fault_losses_at_start = fault_losses();
  records_.push_back(std::move(r));
  last_by_vm_[request.vm] = static_cast<int32_t>(index);
  models_.push_back(std::make_unique<PrecopyModel>(request.precopy));
  models::migration::StreamParams stream;
  stream.rate = request.precopy.bandwidth;
  streams_.push_back(&network_->open(records_[index].from, records_[index].to, stream));
  emit_start(records_[index]);

  // policy: before — the destination holds the VM's rules before it arrives; whether the
  // control plane has them there by switchover shows as the policy gap.
  if (request.policy_before) world_.control_plane->prepare_port(request.vm, request.to, [] {});
  run_round(index, *models_[index], world_.kernel.now());
  return true;
}

bool MigrationEngine::still_possible(uint32_t index) {
  MigrationRecord& r = record(index);
  if (r.phase == MigrationRecord::Phase::kAborted) return false;  // a continuation of an aborted one
  const models::Host& source = *world_.hosts[r.from];
  const models::Host& destination = *world_.hosts[r.to];
  if (source.has_vm(r.vm_index) && !source.down() && !destination.down()) return true;
  abort(index, source.down()        ? "source_host_failed"
               : destination.down() ? "destination_host_failed"
                                    : "vm_gone");
  return false;
}

void MigrationEngine::host_failed(uint32_t host) {
  for (uint32_t i = 0; i < records_.size(); ++i) {
    const MigrationRecord& r = records_[i];
    if (r.phase != MigrationRecord::Phase::kPrecopy && r.phase != MigrationRecord::Phase::kStopped) continue;
    if (r.from == host) abort(i, "source_host_failed");
    else if (r.to == host) abort(i, "destination_host_failed");
  }
}

void MigrationEngine::abort(uint32_t index, const char* reason) {
  MigrationRecord& r = record(index);
  r.phase = MigrationRecord::Phase::kAborted;
  r.abort_ns = world_.kernel.now().ns();
  r.abort_reason = reason;
  r.blob.clear();
  streams_[index]->cancel();
  // The VM's fate. Source crashed: the VM died with it (Failures removed it with the host's
  // other VMs; HA may restart it elsewhere, with fresh state). Destination crashed: the VM stays
  // on the source, which never gave up its port (export_port copies); stopped for the final
  // copy, it resumes there — what vMotion does when the destination is lost before switchover.
  const models::Host& source = *world_.hosts[r.from];
  if (source.has_vm(r.vm_index) && !source.down()) world_.vms[r.vm_index].running = true;
  // Its connections were never moved: not this migration's to break.
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (it->second.migration == index) it = tracked_.erase(it);
    else ++it;
  }
}

void MigrationEngine::run_round(uint32_t index, PrecopyModel& model, sim::Time round_start) {
  if (!still_possible(index)) return;
  if (model.step() == PrecopyModel::Step::kStopAndCopy) {
    stop_and_copy(index, model.bytes());
    return;
  }
  streams_[index]->transfer(model.bytes(), [this, index, &model, round_start] {
    model.round_done(world_.kernel.now() - round_start);
    MigrationRecord& r = record(index);
    r.rounds = model.rounds();
    run_round(index, model, world_.kernel.now());
  });
}

void MigrationEngine::stop_and_copy(uint32_t index, uint64_t memory_bytes) {
  MigrationRecord& r = record(index);
  models::Vm& vm = world_.vms[r.vm_index];
  // The VM stops: its vNIC sends nothing more and what arrives for it at the source is dropped
  // (vm_not_running), as on a hypervisor whose guest is paused for the final copy.
  vm.running = false;
  r.phase = MigrationRecord::Phase::kStopped;
  r.stop_ns = world_.kernel.now().ns();
  r.stop_copy_bytes = memory_bytes;
  r.bytes_copied = models_[index]->precopy_bytes() + memory_bytes;
  track_connections(index);
  models::Host& source = *world_.hosts[r.from];
  if (r.move_state) {
    const dfw::Status st = source.datapath().export_port(r.vm_index, world_.kernel.now().ns(), r.blob);
    if (!st) r.blob.clear();  // cannot happen for a live port; the import then starts empty
    r.state_blob_bytes = r.blob.size();
  }
  // The last dirty memory and the firewall state cross the fabric together, VM stopped.
  streams_[index]->transfer(memory_bytes + r.state_blob_bytes, [this, index] { switchover(index); });
}

void MigrationEngine::switchover(uint32_t index) {
  if (!still_possible(index)) return;
  MigrationRecord& r = record(index);
  models::Vm& vm = world_.vms[r.vm_index];
  models::Host& source = *world_.hosts[r.from];
  models::Host& destination = *world_.hosts[r.to];
  // policy: after — the port comes up without rules; the policy arrives via workload_moved.
  dfw::RuleTablePtr rules = r.policy_before ? world_.control_plane->rules_on_host(r.vm_index, r.to) : nullptr;
  source.remove_vm(r.vm_index);
  dfw::Status st = dfw::Status::ok();
  if (r.move_state) {
    st = destination.import_vm(r.vm_index, r.blob, rules);
  }
  if (!r.move_state || !st) destination.add_vm(r.vm_index, rules);
  r.blob.clear();
  r.blob.shrink_to_fit();
  if (fault_flush_after_import) destination.datapath().flush_connections(r.vm_index);
  r.connections_moved = r.move_state ? destination.datapath().connection_count(r.vm_index) : 0;
  // Gratuitous ARP from the destination: every switch now forwards the VM's MAC there.
  world_.fabric->move_vm(r.vm_index, r.to);
  vm.running = true;
  r.resume_ns = world_.kernel.now().ns();
  r.phase = MigrationRecord::Phase::kDone;
  const models::migration::StreamStats& s = streams_[index]->stats();
  r.wire_bytes = s.wire_bytes;
  r.retransmitted_bytes = s.retransmitted_bytes;

  // Invariant 3, at the switchover: every tracked connection is at the destination.
  if (r.move_state) {
    for (const auto& [flow, t] : tracked_) {
      if (t.migration == index && !connection_live(destination.datapath(), r.vm_index, flow))
        ++r.connections_lost_at_import;
    }
  }
  const uint64_t desired = world_.control_plane->desired_version(r.vm_index);
  if (world_.control_plane->enforced_version(r.vm_index) == desired) policy_arrived(index);
  world_.control_plane->workload_moved(r.vm_index, r.to, [this, index] { policy_arrived(index); });
  emit_done(r);
}

void MigrationEngine::policy_arrived(uint32_t index) {
  MigrationRecord& r = record(index);
  if (r.policy_ns < 0) r.policy_ns = world_.kernel.now().ns();
}

void MigrationEngine::track_connections(uint32_t index) {
  const MigrationRecord& r = record(index);
  const models::traffic::FlowRecords& flows = world_.flows;
  const dfw::Datapath& source = world_.hosts[r.from]->datapath();
  uint64_t count = 0;
  for (uint32_t f = 0; f < flows.size(); ++f) {
    if (flows.finished(f)) continue;
    if (flows.source_vm[f] != r.vm_index && flows.destination_vm[f] != r.vm_index) continue;
    if (!connection_live(source, r.vm_index, f)) continue;
    tracked_[f] = Tracked{index, false};
    ++count;
  }
  record(index).connections_tracked = count;
}

// Whether `vm`'s port on `datapath` holds flow `flow`'s connection (TCP: established).
bool MigrationEngine::connection_live(const dfw::Datapath& datapath, VmIndex vm, uint32_t flow) const {
  const models::traffic::FlowRecords& flows = world_.flows;
  models::FiveTuple tuple;
  const bool v6 = flows.ip_version[flow] == 6;
  auto address = [v6](const std::array<uint8_t, 16>& bytes) {
    if (v6) return models::IpAddress::v6(bytes);
    return models::IpAddress::v4(uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3]);
  };
  tuple.source = address(flows.source_address[flow]);
  tuple.destination = address(flows.destination_address[flow]);
  tuple.source_port = flows.source_port[flow];
  tuple.destination_port = flows.destination_port[flow];
  tuple.protocol = flows.protocol[flow];
  const VmIndex src = flows.source_vm[flow], dst = flows.destination_vm[flow];
  if (src >= world_.vms.size() || dst >= world_.vms.size()) return false;
  const models::L2Addresses l2{world_.vms[src].mac, world_.vms[dst].mac};
  models::Packet probe;
  bool built = false;
  if (tuple.protocol == models::kProtocolTcp) {
    models::TcpFields tcp;
    tcp.flags = models::tcp_flags::kAck;
    built = models::build_tcp_frame(probe, l2, tuple, tcp, 0, 1460);
  } else if (tuple.protocol == models::kProtocolUdp) {
    built = models::build_udp_frame(probe, l2, tuple, 0);
  }
  if (!built) return false;
  const dfw::PacketView view{probe.header.data(), probe.header_size, probe.wire_size, 1};
  const dfw::Direction direction = src == vm ? dfw::Direction::kEgress : dfw::Direction::kIngress;
  dfw::ConnectionInfo info;
  if (!datapath.lookup_connection(vm, direction, view, world_.kernel.now().ns(), info)) return false;
  return tuple.protocol != models::kProtocolTcp || info.state == "established";
}

void MigrationEngine::host_dropped(uint32_t host, const models::Packet& packet, models::HostDropReason reason) {
  for (const VmIndex v : {packet.destination_vm, packet.source_vm}) {
    if (v >= last_by_vm_.size() || last_by_vm_[v] < 0) continue;
    MigrationRecord& r = record(static_cast<uint32_t>(last_by_vm_[v]));
    // While stopped: anything to or from the VM. Afterwards: what was still on its way to the
    // old host when the fabric switched (dropped there as unknown_destination).
    const bool stopped = r.phase == MigrationRecord::Phase::kStopped;
    const bool stale = r.phase == MigrationRecord::Phase::kDone && host == r.from && v == packet.destination_vm &&
                       reason == models::HostDropReason::kUnknownDestination;
    if (stopped || stale) {
      ++r.switchover_drops[static_cast<std::size_t>(reason)];
      return;
    }
  }
}

void MigrationEngine::dfw_dropped(uint32_t host, const models::Packet& packet, VmIndex port, dfw::DropReason) {
  if (port < last_by_vm_.size() && last_by_vm_[port] >= 0) {
    MigrationRecord& r = record(static_cast<uint32_t>(last_by_vm_[port]));
    if (r.phase == MigrationRecord::Phase::kDone && host == r.to && r.policy_ns < 0) ++r.policy_gap_drops;
  }
  if (tracked_.empty() || packet.flow == models::kNoFlow) return;
  mark_broken(packet.flow);
}

void MigrationEngine::mark_broken(uint32_t flow) {
  auto it = tracked_.find(flow);
  if (it == tracked_.end() || it->second.broken) return;
  MigrationRecord& r = record(it->second.migration);
  if (r.phase != MigrationRecord::Phase::kDone) return;  // only after the VM resumed
  it->second.broken = true;
  ++r.connections_broken;
}

void MigrationEngine::finish() {
  using models::traffic::FlowOutcome;
  for (auto& [flow, t] : tracked_) {
    const MigrationRecord& r = record(t.migration);
    if (r.phase != MigrationRecord::Phase::kDone || t.broken) continue;
    // A replayed flow (pcap, flow log) has no transport: its outcome says only whether every
    // packet arrived, and packets lost during the switchover (the downtime) or to congestion are
    // not a broken connection. It breaks when dfw drops one of its packets after the resume
    // (dfw_dropped); the outcome rule is for flows whose TCP would fail (reset, retries exhausted).
    if (world_.replay_flows && world_.replay_flows->owns(flow)) continue;
    const FlowOutcome o = world_.flows.outcome[flow];
    // (failed_aborted is not here: a VM that crashed later did not lose its flows to the move.)
    if ((o == FlowOutcome::kFailedRejected || o == FlowOutcome::kFailedTimeout) && world_.flows.end_ns[flow] >= r.stop_ns)
      mark_broken(flow);
  }
  const uint64_t losses_now = fault_losses();
  for (std::size_t i = 0; i < records_.size(); ++i) {
    MigrationRecord& r = records_[i];
    // The window ends when the VM migrates again (its tracked connections are then the next
    // migration's) or with the run.
    uint64_t losses_at_end = losses_now;
    for (std::size_t j = i + 1; j < records_.size(); ++j) {
      if (records_[j].vm_index != r.vm_index) continue;
      losses_at_end = records_[j].fault_losses_at_start;
      break;
    }
    r.fabric_loss_packets = losses_at_end - r.fault_losses_at_start;
    if (!r.move_state || r.phase != MigrationRecord::Phase::kDone) continue;
    // Created by the first check: a run without migrations has no such row.
    InvariantCount& c = world_.invariants["migration_keeps_connections"];
    if (r.fabric_loss_packets > 0) {
      c.skipped("fabric_loss");
      continue;
    }
    ++c.checked;
    if (r.connections_lost_at_import > 0 || r.connections_broken > 0) {
      c.violated("at " + sim::to_string(sim::Nanos(r.resume_ns)) + ": vm " + r.vm + " (" + r.from_host + " -> " +
                 r.to_host + ", state: move): " + std::to_string(r.connections_lost_at_import) +
                 " connections missing after import, " + std::to_string(r.connections_broken) + " broken afterwards");
    }
  }
}

uint64_t MigrationEngine::fault_losses() const {
  models::SwitchedFabric& fabric = *world_.fabric;
  uint64_t lost = fabric.no_route_drops();
  for (std::size_t i = 0; i < fabric.link_count(); ++i) {
    const models::Link& link = fabric.link(i);
    lost += link.drops(models::LinkDropReason::kLoss) + link.drops(models::LinkDropReason::kCorrupted) +
            link.drops(models::LinkDropReason::kLinkDown);
  }
  for (const auto& host : world_.hosts) lost += host->drops(models::HostDropReason::kHostDown);
  return lost;
}

void MigrationEngine::emit_start(const MigrationRecord& r) {
  if (!annotations_.wants(AnnotationKind::kMigrationStart)) return;
  annotations_.emit({r.start_ns, AnnotationKind::kMigrationStart,
                     {{"vm", r.vm},
                      {"from_host", r.from_host},
                      {"to_host", r.to_host},
                      {"state", std::string(r.move_state ? "move" : "drop")},
                      {"policy", std::string(r.policy_before ? "before" : "after")},
                      {"memory_bytes", static_cast<int64_t>(r.memory_bytes)}}});
}

void MigrationEngine::emit_done(const MigrationRecord& r) {
  if (!annotations_.wants(AnnotationKind::kMigrationDone)) return;
  annotations_.emit({r.resume_ns, AnnotationKind::kMigrationDone,
                     {{"vm", r.vm},
                      {"from_host", r.from_host},
                      {"to_host", r.to_host},
                      {"precopy_ns", r.precopy_ns()},
                      {"rounds", static_cast<int64_t>(r.rounds)},
                      {"bytes_copied", static_cast<int64_t>(r.bytes_copied)},
                      {"downtime_ns", r.downtime_ns()},
                      {"state_blob_bytes", static_cast<int64_t>(r.state_blob_bytes)},
                      {"connections_moved", static_cast<int64_t>(r.connections_moved)},
                      {"switchover_drops", static_cast<int64_t>(r.switchover_drop_total())}}});
}

}  // namespace scenarios
