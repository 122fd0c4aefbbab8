// The shared replay flow table and the replay-mode receivers; see replay_flows.h.
#include "models/traffic/replay_flows.h"

namespace models::traffic {

// Sits in front of a VM's own receiver: replay packets stop here, the rest go on.
class ReplayFlows::Receiver final : public PacketReceiver {
 public:
  Receiver(ReplayFlows& flows, VmIndex vm, PacketReceiver* inner) : flows_(flows), vm_(vm), inner_(inner) {}
  void receive(Packet* packet) override {
    if (flows_.owns(packet->flow)) {
      flows_.on_received(packet, vm_);
      return;
    }
    if (inner_ != nullptr) {
      inner_->receive(packet);
      return;
    }
    flows_.pool_.release(packet);
  }
  VmIndex vm() const { return vm_; }
  PacketReceiver* inner() const { return inner_; }

 private:
  ReplayFlows& flows_;
  VmIndex vm_;
  PacketReceiver* inner_;
};

ReplayFlows::ReplayFlows(VmTable& vms, PacketPool& pool, FlowRecords& records)
    : vms_(vms), pool_(pool), records_(records) {}

ReplayFlows::~ReplayFlows() {
  for (const auto& r : receivers_) {
    if (vms_[r->vm()].receiver == r.get()) vms_[r->vm()].receiver = r->inner();
  }
}

void ReplayFlows::attach_receivers() {
  for (VmIndex v = 0; v < vms_.size(); ++v) {
    receivers_.push_back(std::make_unique<Receiver>(*this, v, vms_[v].receiver));
    vms_[v].receiver = receivers_.back().get();
  }
}

FlowId ReplayFlows::flow_for(const FiveTuple& tuple, VmIndex source, VmIndex destination, sim::Time now) {
  const auto it = index_.find(tuple);
  if (it != index_.end()) return it->second;
  const FlowId id = records_.add(source, destination, tuple, 0, now);
  const std::size_t rows = static_cast<std::size_t>(id) + 1;
  is_replay_.resize(rows, 0);
  packets_received_.resize(rows, 0);
  last_sent_ns_.resize(rows, -1);
  is_replay_[id] = 1;
  rows_.push_back(id);
  index_.emplace(tuple, id);
  return id;
}

void ReplayFlows::on_sent(FlowId flow, uint32_t payload_size, uint32_t segment_count, sim::Time now) {
  records_.bytes_sent[flow] += payload_size;
  records_.packets_sent[flow] += segment_count;
  last_sent_ns_[flow] = now.ns();
}

void ReplayFlows::on_received(Packet* packet, VmIndex vm) {
  const uint32_t flow = packet->flow;
  if (records_.destination_vm[flow] == vm) {
    records_.bytes_received[flow] += packet->payload_size;
    packets_received_[flow] += packet->segment_count;
  } else {
    ++control_frames_received_;  // a firewall's RST/ICMP back to the source
  }
  pool_.release(packet);
}

void ReplayFlows::finish() {
  for (const FlowId id : rows_) {
    records_.size_bytes[id] = records_.bytes_sent[id];
    const bool all = packets_received_[id] >= records_.packets_sent[id];
    records_.finish(id, all ? FlowOutcome::kCompleted : FlowOutcome::kFailedTimeout,
                    all ? FlowReason::kAllPacketsDelivered : FlowReason::kPacketsLost,
                    sim::Nanos(last_sent_ns_[id]));
  }
}

}  // namespace models::traffic
