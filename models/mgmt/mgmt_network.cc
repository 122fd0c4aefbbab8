// The management network's links, handshakes and message flights (mgmt_network.h has the model).

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "mgmt_impl.h"
#include "sim_channel.h"

namespace models {

using Impl = MgmtNetwork::Impl;
using platform::DisconnectReason;

namespace {
// Retransmissions of one segment counted before the transport would give up anyway.
constexpr int kMaxSegmentRetransmissions = 15;
}  // namespace

uint32_t Impl::new_pipe(NodeId from, NodeId to) {
  uint32_t index;
  if (!free_pipes_.empty()) {
    index = free_pipes_.back();
    free_pipes_.pop_back();
  } else {
    index = static_cast<uint32_t>(pipes_.size());
    pipes_.emplace_back();
  }
  Pipe& p = pipes_[index];
  p.in_use = true;
  p.accepted = p.broken = p.timeout_armed = false;
  p.pending = p.held = 0;
  for (Side& s : p.side) {
    s.conn = nullptr;
    s.ready = false;
    s.next_send = s.next_deliver = 0;
    s.arrived.clear();
  }
  p.side[0].node = from;
  p.side[1].node = to == kNoNode ? from : to;
  return index;
}

Impl::Pipe* Impl::pipe(uint32_t index, uint32_t generation) {
  if (index >= pipes_.size()) return nullptr;
  Pipe& p = pipes_[index];
  return p.in_use && p.generation == generation ? &p : nullptr;
}

uint32_t Impl::new_flight() {
  if (!free_flights_.empty()) {
    const uint32_t f = free_flights_.back();
    free_flights_.pop_back();
    flights_[f].in_use = true;
    return f;
  }
  flights_.emplace_back();
  flights_.back().in_use = true;
  return static_cast<uint32_t>(flights_.size() - 1);
}

void Impl::free_flight(uint32_t f) {
  flights_[f].in_use = false;
  flights_[f].bytes.clear();  // keeps the capacity for the next message
  free_flights_.push_back(f);
}

// A pipe is gone once neither side has a connection object and nothing of it is under way.
void Impl::maybe_release(uint32_t index) {
  Pipe& p = pipes_[index];
  if (!p.in_use || p.side[0].conn || p.side[1].conn || p.pending > 0) return;
  for (Side& s : p.side) {
    for (uint32_t f : s.arrived) free_flight(f);
    s.arrived.clear();
  }
  p.in_use = false;
  ++p.generation;
  free_pipes_.push_back(index);
}

void Impl::detach(uint32_t index, uint32_t generation, uint8_t side) {
  Pipe* p = pipe(index, generation);
  if (p == nullptr) return;
  Side& s = p->side[side];
  s.conn = nullptr;
  s.ready = false;
  for (uint32_t f : s.arrived) free_flight(f);
  s.arrived.clear();
  maybe_release(index);
}

void Impl::mark_ready(uint32_t index, uint32_t generation, uint8_t side) {
  Pipe* p = pipe(index, generation);
  if (p == nullptr) return;
  Side& s = p->side[side];
  s.ready = true;
  if (s.arrived.empty()) return;
  // Delivered as a separate event: never from inside the call that made the side ready.
  kernel.schedule(sim::Time::zero(), nodes[s.node].entity, [this, index, generation, side] {
    if (pipe(index, generation)) pump(index, side);
  });
}

// --- connecting ---

void Impl::start_connect(uint32_t index, uint32_t generation, NodeId to) {
  ++pipes_[index].pending;  // the handshake
  if (to == kNoNode) {
    kernel.schedule(sim::Time::zero(), nodes[pipes_[index].side[0].node].entity,
                    [this, index, generation] { connect_failed(index, generation, "no such management node"); });
    return;
  }
  syn_attempt(index, generation, to, 0, kernel.now());
}

bool Impl::syn_lost(Node& n) {
  if (n.link.loss <= 0 || n.rng.uniform() >= n.link.loss) return false;
  ++n.stats.segments_retransmitted;
  return true;
}

void Impl::syn_attempt(uint32_t index, uint32_t generation, NodeId to, uint32_t attempt, sim::Time started) {
  Pipe& p = pipes_[index];
  if (p.side[0].conn == nullptr) {  // the connecting side gave up
    --p.pending;
    maybe_release(index);
    return;
  }
  Node& a = nodes[p.side[0].node];
  Node& b = nodes[to];
  const bool lost = a.partitioned || b.partitioned || syn_lost(a) || syn_lost(b);
  if (!lost) {
    kernel.schedule(a.link.latency + b.link.latency, b.entity,
                    [this, index, generation, to] { syn_arrived(index, generation, to); });
    return;
  }
  const sim::Time next = kernel.now() + transport.syn_rto * (int64_t{1} << std::min<uint32_t>(attempt, 20));
  if (next - started >= transport.connect_timeout) {
    kernel.schedule_at(started + transport.connect_timeout, a.entity,
                       [this, index, generation] { connect_failed(index, generation, "connection timed out"); });
    return;
  }
  kernel.schedule_at(next, a.entity, [this, index, generation, to, attempt, started] {
    syn_attempt(index, generation, to, attempt + 1, started);
  });
}

void Impl::syn_arrived(uint32_t index, uint32_t generation, NodeId to) {
  Pipe& p = pipes_[index];
  if (p.side[0].conn == nullptr) {
    --p.pending;
    maybe_release(index);
    return;
  }
  Node& a = nodes[p.side[0].node];
  Node& b = nodes[to];
  const sim::Time back = b.link.latency + a.link.latency;
  if (b.listener == nullptr) {  // RST
    kernel.schedule(back, a.entity,
                    [this, index, generation] { connect_failed(index, generation, "connection refused"); });
    return;
  }
  p.accepted = true;
  auto connection =
      std::make_unique<SimConnection>(*this, index, generation, 1, SimConnection::State::kConnected, a.name);
  p.side[1].conn = connection.get();
  kernel.schedule(back, a.entity, [this, index, generation] { syn_ack_arrived(index, generation); });
  b.listener->accept(std::move(connection), index, generation);  // may create pipes: `p` is stale after
}

void Impl::syn_ack_arrived(uint32_t index, uint32_t generation) {
  Pipe& p = pipes_[index];
  --p.pending;
  SimConnection* c = p.side[0].conn;
  if (c == nullptr || p.broken) {
    maybe_release(index);
    return;
  }
  (void)generation;
  c->connected_event();
}

void Impl::connect_failed(uint32_t index, uint32_t generation, const char* detail) {
  Pipe& p = pipes_[index];
  --p.pending;
  ++nodes[p.side[0].node].stats.connects_failed;
  SimConnection* c = p.side[0].conn;
  if (c == nullptr) {
    maybe_release(index);
    return;
  }
  (void)generation;
  c->disconnected_event(DisconnectReason::kConnectFailed, detail);  // detaches, may release
}

// --- messages ---

void Impl::send(uint32_t index, uint8_t side, std::span<const uint8_t> bytes, bool fin) {
  const uint32_t f = new_flight();
  Flight& fl = flights_[f];
  Pipe& p = pipes_[index];
  fl.pipe = index;
  fl.generation = p.generation;
  fl.from = side;
  fl.fin = fin;
  fl.stage = kUp;
  fl.sequence = p.side[side].next_send++;
  fl.bytes.assign(bytes.begin(), bytes.end());
  ++p.pending;
  if (!fin) {
    MgmtNodeStats& st = nodes[p.side[side].node].stats;
    ++st.messages_sent;
    st.bytes_sent += bytes.size();
  }
  stage(f);
}

// Each lost segment waits one retransmission timeout per loss, doubling (RTO backoff); the
// segments of a message recover one after the other.
sim::Time Impl::loss_delay(Node& n, std::size_t bytes) {
  if (n.link.loss <= 0) return sim::Time::zero();
  const std::size_t segments = std::max<std::size_t>(1, (bytes + n.link.mss - 1) / n.link.mss);
  sim::Time total = sim::Time::zero();
  for (std::size_t s = 0; s < segments; ++s) {
    sim::Time rto = n.link.rto;
    for (int k = 0; k < kMaxSegmentRetransmissions && n.rng.uniform() < n.link.loss; ++k) {
      total += rto;
      rto = rto * 2;
      ++n.stats.segments_retransmitted;
    }
  }
  return total;
}

void Impl::stage(uint32_t f) {
  Flight& fl = flights_[f];
  Pipe& p = pipes_[fl.pipe];
  Node& n = nodes[fl.stage == kUp ? p.side[fl.from].node : p.side[1 - fl.from].node];
  if (n.partitioned) {
    n.held[fl.stage].push_back(f);
    ++n.stats.messages_held;
    if (p.held++ == 0) p.held_since = kernel.now();
    if (!p.timeout_armed) {
      p.timeout_armed = true;
      const uint32_t index = fl.pipe, generation = p.generation;
      kernel.schedule(transport.user_timeout, nodes[p.side[0].node].entity,
                      [this, index, generation] { check_timeout(index, generation); });
    }
    return;
  }
  sim::Time& busy = n.busy_until[fl.stage];
  const sim::Time start = std::max(kernel.now(), busy);
  const sim::Time done = n.link.bandwidth.bits_per_second() == 0
                             ? start
                             : start + n.link.bandwidth.transmit_time(sim::Bytes(fl.bytes.size()));
  busy = done;
  const sim::Time at = done + n.link.latency + loss_delay(n, fl.bytes.size());
  kernel.schedule_at(at, n.entity, [this, f] { stage_done(f); });
}

void Impl::stage_done(uint32_t f) {
  Flight& fl = flights_[f];
  const uint32_t index = fl.pipe;
  Pipe& p = pipes_[index];
  if (p.broken) {
    --p.pending;
    free_flight(f);
    maybe_release(index);
    return;
  }
  if (fl.stage == kUp) {
    fl.stage = kDown;
    stage(f);
    return;
  }
  arrive(f);
}

void Impl::arrive(uint32_t f) {
  const uint32_t index = flights_[f].pipe;
  Pipe& p = pipes_[index];
  --p.pending;
  const uint8_t to = 1 - flights_[f].from;
  Side& s = p.side[to];
  if (s.conn == nullptr) {  // the receiver closed: TCP would answer with a RST nobody reads
    free_flight(f);
    maybe_release(index);
    return;
  }
  s.arrived.push_back(f);
  pump(index, to);
}

// Delivers, in sequence order, every message that has arrived and whose predecessors have.
void Impl::pump(uint32_t index, uint8_t side) {
  const uint32_t generation = pipes_[index].generation;
  for (;;) {
    Pipe* p = pipe(index, generation);
    if (p == nullptr || p->broken) return;
    Side& s = p->side[side];
    if (!s.ready || s.conn == nullptr) return;
    auto it = std::find_if(s.arrived.begin(), s.arrived.end(),
                           [&](uint32_t f) { return flights_[f].sequence == s.next_deliver; });
    if (it == s.arrived.end()) return;
    const uint32_t f = *it;
    *it = s.arrived.back();
    s.arrived.pop_back();
    ++s.next_deliver;
    SimConnection* c = s.conn;
    if (flights_[f].fin) {
      free_flight(f);
      c->disconnected_event(DisconnectReason::kClosedByPeer, "closed by peer");
      return;
    }
    MgmtNodeStats& st = nodes[s.node].stats;
    ++st.messages_received;
    st.bytes_received += flights_[f].bytes.size();
    // The span points into the flight's buffer, which stays put (and the flight reserved)
    // even if the callback sends and the flight table grows.
    const std::span<const uint8_t> message(flights_[f].bytes.data(), flights_[f].bytes.size());
    const NodeId to = s.node, from = p->side[1 - side].node;  // the pipe may go in the callback
    c->message_event(message);
    free_flight(f);
    if (delivery_observer) delivery_observer(to, from);
  }
}

// --- partitions ---

void Impl::check_timeout(uint32_t index, uint32_t generation) {
  Pipe* p = pipe(index, generation);
  if (p == nullptr) return;
  p->timeout_armed = false;
  if (p->broken || p->held == 0) return;
  if (kernel.now() - p->held_since >= transport.user_timeout) {
    ++nodes[p->side[0].node].stats.transport_breaks;
    ++nodes[p->side[1].node].stats.transport_breaks;
    break_pipe(index, DisconnectReason::kTransportError, "retransmission timeout (management network unreachable)");
    return;
  }
  p->timeout_armed = true;
  kernel.schedule_at(p->held_since + transport.user_timeout, nodes[p->side[0].node].entity,
                     [this, index, generation] { check_timeout(index, generation); });
}

void Impl::break_pipe(uint32_t index, DisconnectReason reason, const char* detail) {
  Pipe& p = pipes_[index];
  p.broken = true;
  for (uint8_t side = 0; side < 2; ++side) {
    for (uint32_t f : p.side[side].arrived) free_flight(f);
    p.side[side].arrived.clear();
    if (p.side[side].conn) notify_disconnect(index, side, reason, detail);
  }
}

void Impl::notify_disconnect(uint32_t index, uint8_t side, DisconnectReason reason, const char* detail) {
  const uint32_t generation = pipes_[index].generation;
  kernel.schedule(sim::Time::zero(), nodes[pipes_[index].side[side].node].entity,
                  [this, index, generation, side, reason, detail] {
                    Pipe* p = pipe(index, generation);
                    if (p == nullptr) return;
                    if (SimConnection* c = p->side[side].conn) c->disconnected_event(reason, detail);
                  });
}

void Impl::set_partitioned(NodeId node, bool partitioned) {
  Node& n = nodes[node];
  if (n.partitioned == partitioned) return;
  n.partitioned = partitioned;
  if (partitioned) return;
  // Healed: what waited continues, in the order it got stuck (TCP's next retransmission).
  for (Direction d : {kUp, kDown}) {
    scratch_.clear();
    scratch_.swap(n.held[d]);
    for (uint32_t f : scratch_) {
      const uint32_t index = flights_[f].pipe;
      Pipe& p = pipes_[index];
      --p.held;
      if (p.broken) {
        --p.pending;
        free_flight(f);
        maybe_release(index);
        continue;
      }
      stage(f);
    }
    scratch_.clear();
    if (n.held[d].capacity() < scratch_.capacity()) n.held[d].swap(scratch_);
  }
}

// --- public face ---

MgmtNetwork::MgmtNetwork(sim::Kernel& kernel, MgmtTransportParams transport)
    : impl_(std::make_unique<Impl>(kernel, transport)) {}
MgmtNetwork::~MgmtNetwork() = default;

MgmtNetwork::NodeId MgmtNetwork::add_node(const std::string& name, const MgmtLinkParams& link) {
  if (impl_->node_by_name.count(name)) {
    std::fprintf(stderr, "segsim: management node '%s' added twice\n", name.c_str());
    std::abort();
  }
  Impl::Node n;
  n.name = name;
  n.link = link;
  if (n.link.mss == 0) n.link.mss = 1;
  n.entity = impl_->kernel.add_entity("mgmt/" + name);
  n.rng = impl_->kernel.rng_for("mgmt/" + name);
  const NodeId id = static_cast<NodeId>(impl_->nodes.size());
  impl_->nodes.push_back(std::move(n));
  impl_->node_by_name.emplace(name, id);
  return id;
}

MgmtNetwork::NodeId MgmtNetwork::node(std::string_view name) const {
  auto it = impl_->node_by_name.find(std::string(name));
  if (it == impl_->node_by_name.end()) {
    std::fprintf(stderr, "segsim: unknown management node '%.*s'\n", int(name.size()), name.data());
    std::abort();
  }
  return it->second;
}

std::size_t MgmtNetwork::node_count() const { return impl_->nodes.size(); }
const std::string& MgmtNetwork::node_name(NodeId node) const { return impl_->nodes[node].name; }

std::unique_ptr<platform::ChannelListener> MgmtNetwork::listen(NodeId node) {
  auto listener = std::make_unique<SimListener>(*impl_, node);
  impl_->nodes[node].listener = listener.get();
  return listener;
}

std::unique_ptr<platform::ChannelConnector> MgmtNetwork::connector(NodeId node) {
  return std::make_unique<SimConnector>(*impl_, node);
}

void MgmtNetwork::set_partitioned(NodeId node, bool partitioned) { impl_->set_partitioned(node, partitioned); }
bool MgmtNetwork::partitioned(NodeId node) const { return impl_->nodes[node].partitioned; }
const MgmtNodeStats& MgmtNetwork::stats(NodeId node) const { return impl_->nodes[node].stats; }
const MgmtTransportParams& MgmtNetwork::transport() const { return impl_->transport; }
void MgmtNetwork::set_delivery_observer(std::function<void(NodeId, NodeId)> observer) {
  impl_->delivery_observer = std::move(observer);
}

}  // namespace models
