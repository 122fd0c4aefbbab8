#pragma once
// The flow table shared by every trace replay (pcap and flow-log) of a run, and the replay-mode
// receivers that consume replayed packets at their destination VM.
//
// Flows are one-way, as in NetFlow and VPC Flow Logs: one row of FlowRecords per mapped 5-tuple
// (addresses and ports after mapping onto VMs and loop rewriting) and direction. A TCP
// conversation therefore has two rows, one per direction. Columns as the replay fills them:
//   start_ns        the first packet was handed to the source VM's vNIC
//   end_ns          the last packet was handed to it (set by finish())
//   size_bytes      = bytes_sent (a replay does not know a flow's size in advance)
//   bytes_sent      L4 payload bytes sent;  packets_sent  wire segments sent
//   bytes_received  L4 payload bytes delivered to the destination VM
//   outcome/reason  completed/all_packets_delivered if every segment arrived by the end of the
//                   run, else failed_timeout/packets_lost (dropped by a firewall, a queue, or
//                   still in flight when the run ended)
//
// Delivery. A VM's receiver is its TransportStack, which would answer an unknown TCP segment
// with a RST and so pollute the replay. attach_receivers() puts a ReplayReceiver in front of
// every VM's receiver: packets of replay flows are counted and released, anything else goes on
// to the stack. Frames the firewall generates for a replay packet (a reject rule's RST or ICMP)
// carry its flow id but travel back to the source; they are consumed and counted as
// `control_frames_received`, never credited to the flow.
//
// Allocation: a flow's first packet inserts into a hash map and appends a row; later packets only
// look up and add.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "models/headers.h"
#include "models/packet.h"
#include "models/traffic/flow_records.h"
#include "models/vm.h"
#include "sim/time.h"

namespace models::traffic {

class ReplayFlows {
 public:
  // The VM table, pool and records must outlive this object.
  ReplayFlows(VmTable& vms, PacketPool& pool, FlowRecords& records);
  ~ReplayFlows();
  ReplayFlows(const ReplayFlows&) = delete;
  ReplayFlows& operator=(const ReplayFlows&) = delete;

  // Wraps every VM's current receiver (call after the transport stacks exist). The destructor
  // puts the original receivers back.
  void attach_receivers();

  // The row of the mapped one-way flow `tuple` from `source` to `destination`; opens it at `now`
  // on first use.
  FlowId flow_for(const FiveTuple& tuple, VmIndex source, VmIndex destination, sim::Time now);
  // The source handed a packet of `flow` carrying `payload_size` bytes in `segment_count` wire
  // segments to its vNIC at `now`.
  void on_sent(FlowId flow, uint32_t payload_size, uint32_t segment_count, sim::Time now);
  // Closes every replay row (outcome, end time, size); call once, after the run.
  void finish();

  // True if `flow` is a replay row.
  bool owns(uint32_t flow) const { return flow < is_replay_.size() && is_replay_[flow] != 0; }
  uint64_t packets_received(FlowId flow) const { return packets_received_[flow]; }
  uint64_t control_frames_received() const { return control_frames_received_; }
  std::size_t flow_count() const { return index_.size(); }

 private:
  class Receiver;
  struct TupleHash {
    std::size_t operator()(const FiveTuple& t) const { return static_cast<std::size_t>(flow_hash(t)); }
  };
  void on_received(Packet* packet, VmIndex vm);

  VmTable& vms_;
  PacketPool& pool_;
  FlowRecords& records_;
  std::unordered_map<FiveTuple, FlowId, TupleHash> index_;
  // Indexed by FlowId (rows of other traffic sources included, as zeros).
  std::vector<uint8_t> is_replay_;
  std::vector<uint64_t> packets_received_;
  std::vector<int64_t> last_sent_ns_;
  std::vector<FlowId> rows_;  // replay rows in creation order
  std::vector<std::unique_ptr<Receiver>> receivers_;
  uint64_t control_frames_received_ = 0;
};

}  // namespace models::traffic
