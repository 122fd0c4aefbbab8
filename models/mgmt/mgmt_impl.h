#pragma once
// Internal state of the management network (mgmt_network.h): nodes with their links, pipes
// (one per connection, two sides) and flights (one per message or FIN on its way). Pipes and
// flights live in slot vectors with free lists and generation numbers, so that events and
// connection objects refer to them by index and a stale reference is detected, never followed.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/mgmt_network.h"
#include "sim/rng.h"

namespace models {

class SimConnection;
class SimListener;

class MgmtNetwork::Impl {
 public:
  enum Direction : uint8_t { kUp = 0, kDown = 1 };  // toward the switch / toward the node

  struct Node {
    std::string name;
    MgmtLinkParams link;
    sim::EntityId entity = 0;
    sim::Rng rng;
    bool partitioned = false;
    sim::Time busy_until[2] = {sim::Time::zero(), sim::Time::zero()};
    std::vector<uint32_t> held[2];  // flights waiting for the partition to heal, in order
    SimListener* listener = nullptr;
    MgmtNodeStats stats;
  };

  struct Side {
    SimConnection* conn = nullptr;  // nullptr once closed or destroyed: no more callbacks
    NodeId node = 0;
    bool ready = false;             // connected and handed to its owner: deliveries may flow
    uint64_t next_send = 0;         // sequence of the next message this side sends
    uint64_t next_deliver = 0;      // sequence of the next message to deliver to this side
    std::vector<uint32_t> arrived;  // flights that arrived, waiting for their turn (or for ready)
  };

  struct Pipe {
    uint32_t generation = 0;
    bool in_use = false;
    bool accepted = false;  // the SYN reached a listener: side 1 exists
    bool broken = false;    // transport error: nothing more is delivered
    Side side[2];           // 0: the connecting side, 1: the accepted side
    uint32_t pending = 0;   // flights and handshake events not finished
    uint32_t held = 0;      // flights of this pipe held by a partition
    sim::Time held_since = sim::Time::zero();
    bool timeout_armed = false;
  };

  struct Flight {
    uint32_t pipe = 0, generation = 0;
    uint8_t from = 0;  // sending side
    bool fin = false;
    bool in_use = false;
    Direction stage = kUp;
    uint64_t sequence = 0;
    std::vector<uint8_t> bytes;  // capacity kept across reuse
  };

  Impl(sim::Kernel& k, MgmtTransportParams t) : kernel(k), transport(t) {}

  // --- used by the connection classes ---
  uint32_t new_pipe(NodeId from, NodeId to);
  Pipe* pipe(uint32_t index, uint32_t generation);  // nullptr if released or reused
  Pipe& pipe_at(uint32_t index) { return pipes_[index]; }
  static constexpr NodeId kNoNode = UINT32_MAX;  // connect to an unknown address
  void start_connect(uint32_t pipe, uint32_t generation, NodeId to);
  // Queues a message (or the FIN) from `side` of the pipe. The pipe is valid and not broken.
  void send(uint32_t pipe, uint8_t side, std::span<const uint8_t> bytes, bool fin);
  // The side's connection object is gone or closed: no more callbacks to it.
  void detach(uint32_t pipe, uint32_t generation, uint8_t side);
  // The accepted side was handed to its owner: deliver what has arrived.
  void mark_ready(uint32_t pipe, uint32_t generation, uint8_t side);
  void set_partitioned(NodeId node, bool partitioned);

  sim::Kernel& kernel;
  MgmtTransportParams transport;
  std::vector<Node> nodes;
  std::function<void(NodeId to, NodeId from)> delivery_observer;
  std::unordered_map<std::string, NodeId> node_by_name;

 private:
  uint32_t new_flight();
  void free_flight(uint32_t flight);
  void maybe_release(uint32_t pipe);
  void syn_attempt(uint32_t pipe, uint32_t generation, NodeId to, uint32_t attempt, sim::Time started);
  void syn_arrived(uint32_t pipe, uint32_t generation, NodeId to);
  void syn_ack_arrived(uint32_t pipe, uint32_t generation);
  void connect_failed(uint32_t pipe, uint32_t generation, const char* detail);
  // Moves a flight through `node`'s link in its stage's direction (or holds it).
  void stage(uint32_t flight);
  void stage_done(uint32_t flight);
  void arrive(uint32_t flight);
  void pump(uint32_t pipe, uint8_t side);
  void check_timeout(uint32_t pipe, uint32_t generation);
  void break_pipe(uint32_t pipe, platform::DisconnectReason reason, const char* detail);
  // Calls on_disconnected of the side's connection later, as an event of its node.
  void notify_disconnect(uint32_t pipe, uint8_t side, platform::DisconnectReason reason, const char* detail);
  sim::Time loss_delay(Node& node, std::size_t bytes);
  bool syn_lost(Node& node);

  std::vector<Pipe> pipes_;
  std::vector<uint32_t> free_pipes_;
  std::vector<Flight> flights_;
  std::vector<uint32_t> free_flights_;
  std::vector<uint32_t> scratch_;
};

}  // namespace models
