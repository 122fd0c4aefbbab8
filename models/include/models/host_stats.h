#pragma once
// A hypervisor host's statistics: counters declared once here, with their units, and visited by
// the runner to build the result file's columns (docs/results.md).

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dfw/types.h"

namespace models {

// Drops the host itself decides (the firewall's own drops are counted by dfw::DropReason).
#define MODELS_HOST_DROP_REASONS(X)                                                        \
  X(kCoreBacklogFull, "core_backlog_full")     /* the core's backlog was at its limit */    \
  X(kVnicQueueFull, "vnic_queue_full")         /* the VM's vNIC transmit queue was full */  \
  X(kUnknownDestination, "unknown_destination") /* no local vNIC has the destination MAC */ \
  X(kVmNotRunning, "vm_not_running")           /* source or destination VM stopped/gone */  \
  X(kNoReceiver, "no_receiver")                /* the VM has no transport stack attached */ \
  X(kHostDown, "host_down")                    /* the host has crashed or is rebooting */

enum class HostDropReason : uint8_t {
#define MODELS_X(name, text) name,
  MODELS_HOST_DROP_REASONS(MODELS_X)
#undef MODELS_X
  kCount
};
inline constexpr std::size_t kHostDropReasonCount = static_cast<std::size_t>(HostDropReason::kCount);
std::string_view host_drop_reason_name(HostDropReason reason);

struct CoreSample {
  int64_t busy_ns = 0;                // ns; cumulative time the core spent on packets
  uint64_t busy_cycles = 0;           // cycles; cumulative cycles charged (cost model)
  uint64_t packets = 0;               // packets; cumulative, processed (allowed or not)
  uint64_t backlog_packets = 0;       // packets; waiting or in service at the sample
  uint64_t backlog_peak_packets = 0;  // packets; largest backlog since the previous sample

  template <class F>
  void visit(F&& f) const {
    f("busy_ns", "ns", busy_ns);
    f("busy_cycles", "cycles", busy_cycles);
    f("packets", "packets", packets);
    f("backlog_packets", "packets", backlog_packets);
    f("backlog_peak_packets", "packets", backlog_peak_packets);
  }
};

// One sample of a host; cumulative fields count since the start of the run.
struct HostSample {
  int64_t time_ns = 0;                // ns; simulated time of the sample
  uint64_t packets_from_vms = 0;      // packets; accepted by the local vNICs
  uint64_t bytes_from_vms = 0;        // bytes; wire bytes accepted by the local vNICs
  uint64_t packets_to_fabric = 0;     // packets; handed to the uplinks
  uint64_t bytes_to_fabric = 0;       // bytes
  uint64_t packets_from_fabric = 0;   // packets; received on the uplinks
  uint64_t bytes_from_fabric = 0;     // bytes
  uint64_t packets_delivered = 0;     // packets; handed to a local VM's transport stack
  uint64_t bytes_delivered = 0;       // bytes
  uint64_t packets_local = 0;         // packets; VM to VM on this host (never on the fabric)
  uint64_t frames_generated = 0;      // packets; RST / ICMP unreachable originated by dfw
  uint64_t live_connections = 0;      // connections; in the dfw table at the sample
  uint64_t connections_created = 0;   // connections; cumulative
  uint64_t connections_expired = 0;   // connections; cumulative
  uint64_t expiry_sweeps = 0;         // sweeps; cumulative dfw expire() calls
  std::array<uint64_t, dfw::kDropReasonCount> dfw_drops{};  // packets; cumulative, per reason
  std::array<uint64_t, kHostDropReasonCount> host_drops{};  // packets; cumulative, per reason
  std::vector<CoreSample> cores;      // per core, in core order

  // Visits every scalar field once as (name, unit, value); drop columns are named
  // "drops_<reason>" with dfw's and the host's reason names (they never collide).
  template <class F>
  void visit(F&& f) const {
    f("time_ns", "ns", time_ns);
    f("packets_from_vms", "packets", packets_from_vms);
    f("bytes_from_vms", "bytes", bytes_from_vms);
    f("packets_to_fabric", "packets", packets_to_fabric);
    f("bytes_to_fabric", "bytes", bytes_to_fabric);
    f("packets_from_fabric", "packets", packets_from_fabric);
    f("bytes_from_fabric", "bytes", bytes_from_fabric);
    f("packets_delivered", "packets", packets_delivered);
    f("bytes_delivered", "bytes", bytes_delivered);
    f("packets_local", "packets", packets_local);
    f("frames_generated", "packets", frames_generated);
    f("live_connections", "connections", live_connections);
    f("connections_created", "connections", connections_created);
    f("connections_expired", "connections", connections_expired);
    f("expiry_sweeps", "sweeps", expiry_sweeps);
    for (std::size_t i = 1; i < dfw::kDropReasonCount; ++i)  // 0 is kNone
      f(dfw_drop_column_name(i), "packets", dfw_drops[i]);
    for (std::size_t i = 0; i < kHostDropReasonCount; ++i)
      f(host_drop_column_name(i), "packets", host_drops[i]);
  }
  uint64_t total_drops() const {
    uint64_t total = 0;
    for (uint64_t d : dfw_drops) total += d;
    for (uint64_t d : host_drops) total += d;
    return total;
  }
  static std::string_view dfw_drop_column_name(std::size_t reason);
  static std::string_view host_drop_column_name(std::size_t reason);
};

}  // namespace models
