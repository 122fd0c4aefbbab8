#pragma once
// Basic dfw vocabulary: directions, verdicts, drop reasons, work counters, packets, status.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace dfw {

using PortId = uint32_t;

// Seen from the VM: egress leaves the VM (enforced at the source host), ingress enters it
// (enforced at the destination host), as NSX does.
enum class Direction : uint8_t { kIngress = 0, kEgress = 1 };

enum class Action : uint8_t { kAllow = 0, kDrop = 1, kReject = 2 };

enum class Verdict : uint8_t { kAllow = 0, kDrop = 1 };

// Why a packet was dropped. Every drop has exactly one reason; counters are kept per reason.
#define DFW_DROP_REASONS(X)                                                    \
  X(kNone, "none")                                                             \
  X(kTruncated, "truncated")               /* header ends before a field */    \
  X(kMalformedL2, "malformed_l2")                                              \
  X(kMalformedIpv4, "malformed_ipv4")      /* bad version, ihl, length */      \
  X(kMalformedIpv6, "malformed_ipv6")      /* bad extension header chain */    \
  X(kMalformedL4, "malformed_l4")          /* bad TCP data offset, etc. */     \
  X(kArpDenied, "arp_denied")                                                  \
  X(kNonIpDenied, "non_ip_denied")                                             \
  X(kFragmentNoFirst, "fragment_no_first") /* later fragment, first unseen */  \
  X(kFragmentTableFull, "fragment_table_full")                                 \
  X(kRuleDrop, "rule_drop")                                                    \
  X(kRuleReject, "rule_reject")                                                \
  X(kDefaultDrop, "default_drop")                                              \
  X(kInvalidState, "invalid_state")        /* conntrack: not a valid packet */ \
  X(kOutOfWindow, "out_of_window")         /* conntrack: TCP window check */   \
  X(kConnTableFull, "conn_table_full")                                         \
  X(kUnknownPort, "unknown_port")

enum class DropReason : uint8_t {
#define DFW_X(name, text) name,
  DFW_DROP_REASONS(DFW_X)
#undef DFW_X
  kCount
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);
std::string_view drop_reason_name(DropReason r);

// What the datapath did for one packet, reported by the datapath itself. The simulator's cost
// model turns these into CPU cycles (cycles = base + sum of coefficient x counter).
struct WorkCounters {
  uint32_t bytes_parsed = 0;      // header bytes the parser read
  uint32_t hash_probes = 0;       // connection/fragment table buckets visited
  uint32_t classifier_steps = 0;  // classifier nodes visited + rules compared
  uint16_t conns_created = 0;
  uint16_t conns_destroyed = 0;
  uint16_t frames_generated = 0;  // RST / ICMP unreachable originated
  void add(const WorkCounters& o) {
    bytes_parsed += o.bytes_parsed;
    hash_probes += o.hash_probes;
    classifier_steps += o.classifier_steps;
    conns_created += o.conns_created;
    conns_destroyed += o.conns_destroyed;
    frames_generated += o.frames_generated;
  }
};

// A packet as the hypervisor sees it: `header_size` real bytes starting at the Ethernet header
// (the payload may be absent), the length on the wire, and, for a segmentation-offload
// super-packet, how many wire segments it stands for.
struct PacketView {
  const uint8_t* data = nullptr;
  uint32_t header_size = 0;   // bytes readable at data
  uint32_t wire_size = 0;     // bytes the (super-)packet carries on the wire, >= header_size
  uint16_t segment_count = 1;
};

// The outcome for one packet.
struct Result {
  Verdict verdict = Verdict::kDrop;
  DropReason reason = DropReason::kNone;
  int32_t rule_id = -1;           // the rule that decided (new connection) or created the conn
  bool connection_hit = false;    // matched an existing connection (established fast path)
  bool connection_created = false;
  bool log = false;               // the deciding rule has its logging flag set
  WorkCounters work;
};

// Success or an error message. dfw never throws.
class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  bool is_ok() const { return message_.empty(); }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string m) : message_(m.empty() ? std::string("error") : std::move(m)) {}
  std::string message_;
};

}  // namespace dfw
