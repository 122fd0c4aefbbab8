#include "models/traffic/flow_records.h"

namespace models::traffic {

std::string_view flow_outcome_name(FlowOutcome outcome) {
  switch (outcome) {
    case FlowOutcome::kIncompleteAtEnd: return "incomplete_at_end";
    case FlowOutcome::kCompleted: return "completed";
    case FlowOutcome::kFailedRejected: return "failed_rejected";
    case FlowOutcome::kFailedTimeout: return "failed_timeout";
    case FlowOutcome::kFailedAborted: return "failed_aborted";
  }
  return "unknown";
}

std::string_view flow_reason_name(FlowReason reason) {
  switch (reason) {
#define SEGSIM_X(name, text) \
  case FlowReason::name: return text;
    SEGSIM_FLOW_REASONS(SEGSIM_X)
#undef SEGSIM_X
    case FlowReason::kCount: break;
  }
  return "unknown";
}

FlowId FlowRecords::add(VmIndex source, VmIndex destination, const FiveTuple& tuple,
                        uint64_t size, sim::Time start) {
  const auto id = static_cast<FlowId>(flow_id.size());
  flow_id.push_back(id);
  source_vm.push_back(source);
  destination_vm.push_back(destination);
  ip_version.push_back(tuple.source.is_v6 ? 6 : 4);
  source_address.push_back(tuple.source.bytes);
  destination_address.push_back(tuple.destination.bytes);
  source_port.push_back(tuple.source_port);
  destination_port.push_back(tuple.destination_port);
  protocol.push_back(tuple.protocol);
  size_bytes.push_back(size);
  start_ns.push_back(start.ns());
  end_ns.push_back(-1);
  bytes_sent.push_back(0);
  bytes_received.push_back(0);
  packets_sent.push_back(0);
  retransmissions.push_back(0);
  outcome.push_back(FlowOutcome::kIncompleteAtEnd);
  reason.push_back(FlowReason::kRunningAtEnd);
  return id;
}

void FlowRecords::finish(FlowId id, FlowOutcome result, FlowReason why, sim::Time end) {
  if (finished(id)) return;
  outcome[id] = result;
  reason[id] = why;
  end_ns[id] = end.ns();
}

}  // namespace models::traffic
