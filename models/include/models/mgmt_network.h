#pragma once
// The out-of-band management network: how the policy controller and the host agents reach each
// other in a simulated run. It gives the code under test real platform::Channel connections
// (SimConnector / SimListener / SimConnection, platform/channel.h) whose messages take the time
// the network would take.
//
// Model (docs/control-plane.md, "In the simulator"):
//  - Every node (the controller, each host's agent) has one full-duplex management link to a
//    management switch, with a one-way latency and a bandwidth. A message from A to B is
//    serialized on A's link (at A's bandwidth, behind A's earlier messages), crosses it (A's
//    latency), is serialized on B's link toward B and crosses it (B's latency). Store and
//    forward, whole messages: a message's size is its protobuf bytes; TCP/IP overhead is not
//    modelled.
//  - Loss is what TCP makes of it: a message is cut into mss-sized segments, each lost on a link
//    with probability `loss` (per attempt, drawn from that node's own random stream); a lost
//    segment is resent after the retransmission timeout, doubling for each further loss of the
//    same segment. The message arrives late, never missing, and a connection delivers in order
//    (a late message holds back the later ones, as TCP's receive buffer does).
//  - A partitioned node's link carries nothing. Messages that reach it wait (TCP keeps
//    retransmitting) and continue when the partition heals. A connection with a message held
//    for `user_timeout` (TCP_USER_TIMEOUT) breaks: both ends get on_disconnected(kTransportError)
//    at that moment (both ends have unacknowledged data when the application sends heartbeats
//    both ways, so both would give up). With the control plane's application heartbeats
//    (3 x 1 s by default), the application closes the connection first; the transport timeout is
//    the backstop for applications that do not.
//  - Connecting takes one round trip (SYN to the listener's node, SYN-ACK back). No listener at
//    the address: refused after the round trip. A SYN lost or blocked by a partition is resent
//    after syn_rto, 2 syn_rto, ... until connect_timeout, then kConnectFailed.
//  - Closing sends a FIN after the connection's queued messages; the peer sees
//    on_disconnected(kClosedByPeer) once everything before it has arrived.
//
// Everything runs as kernel events of the nodes' entities ("mgmt/<node>"), so runs are
// deterministic. A message costs its bytes (buffers are recycled) and two kernel events.
// The network outlives every connection, connector and listener it created.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/channel.h"
#include "sim/kernel.h"
#include "sim/units.h"

namespace models {

struct MgmtLinkParams {
  sim::Time latency = sim::Micros(50);          // one way, node <-> management switch
  sim::DataRate bandwidth = sim::DataRate::gbps(1);  // bits/s each way; 0 = unlimited
  double loss = 0;                              // probability a segment is lost, per attempt
  uint32_t mss = 1460;                          // bytes per segment (for loss only)
  sim::Time rto = sim::Millis(200);             // first retransmission timeout (Linux min RTO)
};

struct MgmtTransportParams {
  sim::Time syn_rto = sim::Seconds(1);          // first SYN retransmission (Linux)
  sim::Time connect_timeout = sim::Seconds(3);  // then connect fails
  sim::Time user_timeout = sim::Seconds(30);    // a message held this long breaks the connection
};

// Per-node counters (messages and bytes as the code under test sent them).
struct MgmtNodeStats {
  uint64_t messages_sent = 0, bytes_sent = 0;
  uint64_t messages_received = 0, bytes_received = 0;
  uint64_t segments_retransmitted = 0;  // loss on this node's link
  uint64_t messages_held = 0;           // held back by a partition of this node
  uint64_t connects = 0, connects_failed = 0, accepted = 0;
  uint64_t transport_breaks = 0;        // connections of this node broken by user_timeout
};

class MgmtNetwork {
 public:
  using NodeId = uint32_t;
  MgmtNetwork(sim::Kernel& kernel, MgmtTransportParams transport = {});
  ~MgmtNetwork();
  MgmtNetwork(const MgmtNetwork&) = delete;
  MgmtNetwork& operator=(const MgmtNetwork&) = delete;

  // Adds a node named `name` (its address, unique) with entity "mgmt/<name>".
  NodeId add_node(const std::string& name, const MgmtLinkParams& link);
  NodeId node(std::string_view name) const;  // aborts if unknown (a programming error)
  std::size_t node_count() const;
  const std::string& node_name(NodeId node) const;

  // A listener at `node` (address = the node's name). While it exists, connects to that name
  // succeed; once destroyed, they are refused. One listener per node.
  std::unique_ptr<platform::ChannelListener> listen(NodeId node);
  // Opens connections from `node`.
  std::unique_ptr<platform::ChannelConnector> connector(NodeId node);

  // Cuts (true) or restores (false) `node`'s management link.
  void set_partitioned(NodeId node, bool partitioned);
  bool partitioned(NodeId node) const;

  const MgmtNodeStats& stats(NodeId node) const;
  // Called after every message delivered to `to` (its on_message has returned), for whoever
  // follows the code under test from outside (the run's convergence tracking).
  void set_delivery_observer(std::function<void(NodeId to, NodeId from)> observer);
  const MgmtTransportParams& transport() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace models
