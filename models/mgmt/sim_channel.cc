#include "sim_channel.h"

namespace models {

bool SimConnection::send(std::span<const uint8_t> message) {
  if (state_ != State::kConnected || message.size() > max_message_size()) return false;
  const MgmtNetwork::Impl::Pipe* p = net_.pipe(pipe_, generation_);
  if (p == nullptr || p->broken) return false;  // on_disconnected is on its way
  net_.send(pipe_, side_, message, false);
  return true;
}

void SimConnection::close() {
  if (state_ == State::kClosed) return;
  const State was = state_;
  state_ = State::kClosed;
  const MgmtNetwork::Impl::Pipe* p = net_.pipe(pipe_, generation_);
  // The FIN follows what was queued; a connecting side that was already accepted closes too.
  if (p != nullptr && !p->broken && (was == State::kConnected || p->accepted)) net_.send(pipe_, side_, {}, true);
  net_.detach(pipe_, generation_, side_);
}

void SimConnection::connected_event() {
  if (state_ != State::kConnecting) return;
  state_ = State::kConnected;
  net_.mark_ready(pipe_, generation_, side_);
  if (callbacks_.on_connected) callbacks_.on_connected();
}

void SimConnection::message_event(std::span<const uint8_t> message) {
  if (state_ == State::kConnected && callbacks_.on_message) callbacks_.on_message(message);
}

void SimConnection::disconnected_event(platform::DisconnectReason reason, const char* detail) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  net_.detach(pipe_, generation_, side_);
  // Moved out: the callback may destroy this connection.
  auto callback = std::move(callbacks_.on_disconnected);
  if (callback) callback(reason, detail);
}

SimListener::~SimListener() {
  if (net_.nodes[node_].listener == this) net_.nodes[node_].listener = nullptr;
  waiting_.clear();  // closes them: their peers see kClosedByPeer
}

void SimListener::set_accept_handler(std::function<void(platform::ConnectionPtr)> handler) {
  handler_ = std::move(handler);
  if (!handler_) return;
  std::vector<Waiting> waiting = std::move(waiting_);
  waiting_.clear();
  for (Waiting& w : waiting) hand_over(std::move(w));
}

void SimListener::accept(std::unique_ptr<SimConnection> connection, uint32_t pipe, uint32_t generation) {
  ++net_.nodes[node_].stats.accepted;
  Waiting w{std::move(connection), pipe, generation};
  if (handler_) hand_over(std::move(w));
  else waiting_.push_back(std::move(w));
}

void SimListener::hand_over(Waiting w) {
  handler_(std::move(w.connection));
  // Only now may messages that arrived meanwhile be delivered (the handler has set callbacks).
  net_.mark_ready(w.pipe, w.generation, 1);
}

platform::ConnectionPtr SimConnector::connect(std::string_view address, platform::ConnectionCallbacks callbacks) {
  ++net_.nodes[node_].stats.connects;
  auto it = net_.node_by_name.find(std::string(address));
  const bool known = it != net_.node_by_name.end();
  const MgmtNetwork::NodeId to = known ? it->second : node_;
  const uint32_t pipe = net_.new_pipe(node_, to);
  const uint32_t generation = net_.pipe_at(pipe).generation;
  auto connection = std::make_unique<SimConnection>(net_, pipe, generation, 0, SimConnection::State::kConnecting,
                                                    std::string(address));
  connection->set_callbacks(std::move(callbacks));
  net_.pipe_at(pipe).side[0].conn = connection.get();
  net_.start_connect(pipe, generation, known ? to : MgmtNetwork::Impl::kNoNode);
  return connection;
}

}  // namespace models
