#pragma once
// Per-flow records: one row per flow started by any traffic source, kept as parallel arrays
// (columns) so the runner can hand each column to the HDF5 writer unchanged.
//
// Who writes what. A flow's row is created by its generator when the flow starts and is updated by
// the source VM's transport stack (outcome, end time, bytes acknowledged/sent, packets,
// retransmissions); `bytes_received` is updated by the destination VM's stack. Rows are never
// removed; ids are dense row indices in start order.
//
// Times are nanoseconds of simulated time. `end_ns` is the completion time (TCP: the cumulative
// ACK covering the last data byte reached the sender; UDP: the last packet left the sender) or
// the failure time; -1 while the flow is still running. fct_ns() = end_ns - start_ns.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "models/headers.h"
#include "models/packet.h"
#include "sim/time.h"

namespace models::traffic {

enum class FlowOutcome : uint8_t {
  kIncompleteAtEnd = 0,  // still running when the simulation ended (the initial value)
  kCompleted = 1,
  kFailedRejected = 2,   // refused: a RST or ICMP unreachable came back (a reject rule), or
                         // no local source port was free (reason no_ephemeral_port)
  kFailedTimeout = 3,    // retries exhausted (a drop rule, or loss)
  kFailedAborted = 4,    // the source VM died (host crash): reason vm_crashed, or the flow was
                         // asked for while it was down: reason source_vm_down
};
std::string_view flow_outcome_name(FlowOutcome outcome);

#define SEGSIM_FLOW_REASONS(X)                                                           \
  X(kNone, "none")                                                                       \
  X(kRunningAtEnd, "running_at_end")                                                     \
  X(kAllDataAcknowledged, "all_data_acknowledged")                                       \
  X(kAllDataSent, "all_data_sent")                       /* UDP: open loop */           \
  X(kResetDuringHandshake, "rst_during_handshake")                                             \
  X(kResetEstablished, "rst_after_handshake")                                            \
  X(kIcmpUnreachable, "icmp_unreachable")                                                \
  X(kSynRetriesExhausted, "syn_retries_exhausted")                                       \
  X(kDataRetriesExhausted, "data_retries_exhausted")                                     \
  X(kNoEphemeralPort, "no_ephemeral_port")                                             \
  X(kAllPacketsDelivered, "all_packets_delivered")       /* replay: every packet arrived */ \
  X(kPacketsLost, "packets_lost")                        /* replay: some never arrived */ \
  X(kVmCrashed, "vm_crashed")                            /* its VM died with its host */  \
  X(kSourceVmDown, "source_vm_down")                     /* started while its VM was dead */ \
  X(kVmRemoved, "vm_removed")                            /* its VM was removed (scale in) */

enum class FlowReason : uint8_t {
#define SEGSIM_X(name, text) name,
  SEGSIM_FLOW_REASONS(SEGSIM_X)
#undef SEGSIM_X
  kCount
};
std::string_view flow_reason_name(FlowReason reason);

using FlowId = uint32_t;

class FlowRecords {
 public:
  // Opens a row; returns its id.
  FlowId add(VmIndex source_vm, VmIndex destination_vm, const FiveTuple& tuple, uint64_t size,
             sim::Time start);
  // Closes a row with an outcome at `end` (only the first close counts).
  void finish(FlowId id, FlowOutcome outcome, FlowReason reason, sim::Time end);
  bool finished(FlowId id) const { return outcome[id] != FlowOutcome::kIncompleteAtEnd; }
  std::size_t size() const { return flow_id.size(); }
  int64_t fct_ns(FlowId id) const { return end_ns[id] < 0 ? -1 : end_ns[id] - start_ns[id]; }

  // Columns, one entry per flow, all the same length.
  std::vector<uint32_t> flow_id;
  std::vector<uint32_t> source_vm;
  std::vector<uint32_t> destination_vm;
  std::vector<uint8_t> ip_version;                       // 4 or 6
  std::vector<std::array<uint8_t, 16>> source_address;   // network order; IPv4 in bytes 0..3
  std::vector<std::array<uint8_t, 16>> destination_address;
  std::vector<uint16_t> source_port;
  std::vector<uint16_t> destination_port;
  std::vector<uint8_t> protocol;
  std::vector<uint64_t> size_bytes;        // application bytes the flow was asked to carry
  std::vector<int64_t> start_ns;           // the first packet (SYN, or first datagram) was sent
  std::vector<int64_t> end_ns;             // see above; -1 while running
  std::vector<uint64_t> bytes_sent;        // TCP: acknowledged payload bytes; UDP: payload sent
  std::vector<uint64_t> bytes_received;    // payload the destination accepted (TCP: in order)
  std::vector<uint64_t> packets_sent;      // wire segments the source sent (data + control)
  std::vector<uint32_t> retransmissions;   // wire segments sent again (SYN retries included)
  std::vector<FlowOutcome> outcome;
  std::vector<FlowReason> reason;
};

}  // namespace models::traffic
