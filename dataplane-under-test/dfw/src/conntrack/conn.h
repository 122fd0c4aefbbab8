#pragma once
// One tracked connection, as stored in the host's connection table.
//
// Key orientation. A connection is keyed from the VM's side of its port: `local` is the VM's
// address/port, `remote` the peer's. An egress packet (src = VM) and the ingress reply
// (dst = VM) therefore produce the same key without canonicalization, and a spoofed packet in the
// wrong direction produces a different one. `origin` records the Direction of the packet that
// created the connection; a packet travelling the other way is a reply.
//
// Size. 104 bytes (checked by a static_assert below); the cuckoo index adds 8 bytes per slot at
// 50-90% load. Linux's nf_conn is about 304 bytes.

#include <cstdint>
#include <cstring>

#include "dfw/types.h"

namespace dfw {

inline constexpr uint32_t kNilIndex = UINT32_MAX;

struct ConnKey {
  uint8_t local[16];   // IPv4 as IPv4-mapped IPv6
  uint8_t remote[16];
  uint32_t port;       // the dfw port (zone)
  uint16_t local_port;   // TCP/UDP ports; ICMP: the echo id in both
  uint16_t remote_port;
  uint8_t protocol;
  uint8_t padding[3];  // always zero so keys compare and hash as bytes
  bool operator==(const ConnKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(ConnKey) == 44);

// Connection states. TCP states follow nf_conntrack_proto_tcp; the others are pseudo-states.
enum class ConnState : uint8_t {
  kFree = 0,  // pool slot not in use
  kTcpSynSent,
  kTcpSynRecv,
  kTcpEstablished,
  kTcpFinWait,
  kTcpCloseWait,
  kTcpLastAck,
  kTcpTimeWait,
  kTcpClose,
  kTcpSynSent2,     // simultaneous open: both sides sent a SYN
  kUnreplied,       // UDP, ICMP request, other protocols: seen one way only
  kReplied,         // seen both ways
  kCount
};
const char* conn_state_name(ConnState state);

// Per-direction TCP window tracking data (td_* of Linux's ip_ct_tcp_state).
inline constexpr uint8_t kTcpTrackWindowScale = 0x01;  // the SYN carried a window scale option
inline constexpr uint8_t kTcpTrackSackPermitted = 0x02;

// Connection flags.
inline constexpr uint8_t kConnV4 = 0x01;
inline constexpr uint8_t kConnLoosePickup = 0x02;  // picked up mid-stream (tcp_loose)

struct Conn {
  int64_t deadline;          // ns; the connection expires when now >= deadline
  ConnKey key;
  ConnState state;
  uint8_t flags;
  Direction origin;          // direction of the packet that created it
  uint8_t icmp_type;         // ICMP connections: the request type (for re-evaluation)
  int32_t rule_id;           // caller's id of the rule that allowed it; -1: default action
  int32_t rule_index;        // index into the table of generation `rule_generation`; -1: none
  uint16_t rule_generation;  // low bits of the port's table generation when classified
  uint16_t wheel_slot;       // timer wheel slot holding the connection
  uint32_t wheel_next;       // timer wheel list links (pool indices); next = free list link
  uint32_t wheel_prev;
  // TCP window tracking, [0] original direction, [1] reply.
  uint32_t td_end[2];
  uint32_t td_maxend[2];
  uint32_t td_maxwin[2];
  uint8_t td_scale[2];
  uint8_t td_flags[2];
};
static_assert(sizeof(Conn) == 104, "keep connections small: see docs/dfw.md");

}  // namespace dfw
