#pragma once
// Trace replay: packets of a pcap/pcapng capture or of an AWS VPC flow log, mapped onto the
// simulation's VMs and sent through their vNICs at the trace's (scaled) times. docs/traffic.md
// ("Replay") has the exact rules; in short:
//
//   - Time. A record at trace time t replays at start + loop_offset + (t - t0) / speed, t0 being
//     the first record's time. Records earlier than the previous one replay at the previous time.
//   - Loops. After the last record the trace starts again, loop L beginning one mean
//     inter-record gap after loop L-1's last record. In loop L > 0 the higher of a packet's two
//     ports, if it is >= 1024, becomes 1024 + (port - 1024 + L * 1009) mod 64512, in both
//     directions, so each loop's conversations are new flows to the firewall (addresses stay:
//     they are the VMs').
//   - Mapping. Every trace address is mapped onto a VM: `hash` (a stable 64-bit hash of the
//     address modulo the VM count), `round-robin` (the k-th distinct address seen goes to VM
//     k mod count) or `table` (explicit; other addresses are skipped). A packet whose two
//     addresses land on the same VM is skipped, as is an IPv6 packet for a VM without IPv6.
//   - Frames. The source sends a real frame built from the VMs' MACs and addresses with the
//     trace's ports, TCP seq/ack/flags/window and MSS/window-scale options (other options are
//     dropped), ICMP type/code/id/sequence, and the trace's L4 payload length; checksums are
//     recomputed (headers.h conventions).
//   - Bad input. A malformed record stops the replay with an error naming the file, the record
//     number (pcap) or line (flow log) and the field; the source then stops the kernel so the
//     runner can fail the run. With skip_bad_records the record is counted and skipped (a
//     truncated pcap cannot be resynchronized: the rest of that pass is skipped).
//
// Each source is a kernel entity ("replay/<index>") and reads its file one record at a time,
// scheduling the next record as an event: memory does not grow with the trace length.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "models/headers.h"
#include "models/packet.h"
#include "models/traffic/replay_flows.h"
#include "models/vm.h"
#include "sim/kernel.h"
#include "sim/units.h"

namespace models::traffic {

enum class ReplayMapping { kHash, kRoundRobin, kTable };

struct ReplayParams {
  std::string entity_name = "replay/0";  // the kernel entity; unique per source
  std::string file;                      // pcap/pcapng, or flow log
  ReplayMapping mapping = ReplayMapping::kHash;
  std::map<std::string, std::string> address_table;  // kTable: trace address -> VM name
  double speed = 1.0;                    // > 0; 2 replays twice as fast
  uint32_t loops = 1;                    // >= 1
  bool coalesce = false;                 // pcap: merge consecutive same-flow TCP segments
  sim::Bytes segment_size{64 * 1024};    // coalescing limit (payload bytes per super-packet)
  bool skip_bad_records = false;
  sim::Time start = sim::Time::zero();   // simulated time of the first record
  sim::Time stop = sim::Time::max();     // records at or after this are not replayed
};

#define SEGSIM_REPLAY_SKIPS(X)                                                              \
  X(kNonIp, "non_ip")                         /* ARP, LLDP, ...: the hosts model L2 */       \
  X(kUnsupportedProtocol, "unsupported_protocol") /* not TCP, UDP, ICMP or ICMPv6 */         \
  X(kTruncatedFrame, "truncated_frame")       /* captured too short to read the L4 header */ \
  X(kUnmappedAddress, "unmapped_address")     /* mapping: table, address not in it */        \
  X(kSameVm, "same_vm")                       /* both addresses map to one VM */             \
  X(kNoIpv6Address, "no_ipv6_address")        /* IPv6 packet, VM without IPv6 */             \
  X(kNoVnic, "no_vnic")                       /* the source VM has no transmitter */         \
  X(kBadRecord, "bad_record")                 /* malformed, skipped (skip_bad_records) */    \
  X(kNoData, "nodata")                        /* flow log NODATA / SKIPDATA record */

enum class ReplaySkip : uint8_t {
#define SEGSIM_X(name, text) name,
  SEGSIM_REPLAY_SKIPS(SEGSIM_X)
#undef SEGSIM_X
  kCount
};
inline constexpr std::size_t kReplaySkipCount = static_cast<std::size_t>(ReplaySkip::kCount);
std::string_view replay_skip_name(ReplaySkip skip);

struct ReplayStats {
  uint64_t records_read = 0;      // pcap records / flow-log lines with a record, all loops
  uint64_t packets_replayed = 0;  // packets handed to a vNIC (a super-packet counts once)
  uint64_t segments_replayed = 0; // wire segments they stand for
  uint64_t bytes_replayed = 0;    // L4 payload bytes
  uint32_t loops_completed = 0;
  uint64_t skipped[kReplaySkipCount] = {};
};

// One packet as the trace describes it, before mapping: trace addresses, the loop's ports.
struct TracePacket {
  FiveTuple tuple;
  TcpFields tcp;
  IcmpFields icmp;
  uint32_t payload_size = 0;
  uint32_t segment_count = 1;  // > 1: a coalesced super-packet
  uint32_t wire_size = 0;      // coalesced: sum over its frames; else 0 (the builder's)
  sim::Time at;
};

// Maps trace addresses onto VMs (see the top of the file).
class AddressMapper {
 public:
  // kTable: parses the table's addresses and resolves its VM names; on error names the entry.
  bool init(const VmTable& vms, ReplayMapping mapping,
            const std::map<std::string, std::string>& table, std::string& error);
  // kNoVm if unmapped (kTable only).
  VmIndex map(const IpAddress& address);

 private:
  struct AddressHash {
    std::size_t operator()(const IpAddress& a) const;
  };
  ReplayMapping mapping_ = ReplayMapping::kHash;
  uint32_t vm_count_ = 0;
  std::unordered_map<IpAddress, VmIndex, AddressHash> assigned_;  // round-robin and table
};

class ReplaySource {
 public:
  virtual ~ReplaySource() = default;
  ReplaySource(const ReplaySource&) = delete;
  ReplaySource& operator=(const ReplaySource&) = delete;

  // Schedules the first packet (call once, before the run).
  virtual void start() = 0;

  const ReplayParams& params() const { return params_; }
  const ReplayStats& stats() const { return stats_; }
  sim::EntityId entity() const { return entity_; }
  // The first input error (the replay stopped and stopped the kernel); empty if none.
  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

 protected:
  ReplaySource(sim::Kernel& kernel, VmTable& vms, PacketPool& pool, ReplayFlows& flows,
               const ReplayParams& params);
  // Sets up the address mapper; false with `error` on a bad table.
  bool init(std::string& error);
  // The replay time of a record at trace time `trace_ns` in the current loop (clamped to be
  // monotonic); also notes t0 on the first record.
  sim::Time replay_time(int64_t trace_ns);
  // Starts the next loop, if any: advances the loop offset and rewrites ports from now on.
  bool next_loop();
  // Applies the loop's port rewrite to a trace tuple.
  void rewrite_ports(FiveTuple& tuple) const;
  // Maps, builds and transmits one packet now.
  void emit(const TracePacket& packet);
  void skip(ReplaySkip reason) { ++stats_.skipped[static_cast<std::size_t>(reason)]; }
  // Records a bad record: with skip_bad_records counts it and returns true (go on); otherwise
  // remembers `message`, stops the kernel and returns false.
  bool bad_record(const std::string& message);

  sim::Kernel& kernel_;
  VmTable& vms_;
  PacketPool& pool_;
  ReplayFlows& flows_;
  ReplayParams params_;
  sim::EntityId entity_;
  ReplayStats stats_;
  std::string error_;

 private:
  AddressMapper mapper_;
  uint32_t loop_ = 0;
  sim::Time loop_offset_ = sim::Time::zero();
  bool have_t0_ = false;
  int64_t t0_ns_ = 0;
  int64_t last_trace_ns_ = 0;      // latest relative trace time seen in this loop
  uint64_t loop_records_ = 0;      // records timed in this loop
  sim::Time last_time_ = sim::Time::zero();
};

// A pcap or pcapng replay (libpcap; Ethernet link type only; gzip'ed files are not read:
// gunzip them first). Opens the file and reads ahead the first record, so an unreadable or empty
// file fails here, naming the file. nullptr and `error` on failure.
std::unique_ptr<ReplaySource> create_pcap_replay(sim::Kernel& kernel, VmTable& vms, PacketPool& pool,
                                                 ReplayFlows& flows, const ReplayParams& params,
                                                 std::string& error);

// An AWS VPC Flow Logs version-2 replay (format in docs/traffic.md). Reads ahead the first
// record, so a bad first line fails here.
std::unique_ptr<ReplaySource> create_flow_log_replay(sim::Kernel& kernel, VmTable& vms, PacketPool& pool,
                                                     ReplayFlows& flows, const ReplayParams& params,
                                                     std::string& error);

}  // namespace models::traffic
