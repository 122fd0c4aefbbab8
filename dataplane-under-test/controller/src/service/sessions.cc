// ControllerService: the agent connections. One Session per accepted connection; after its
// Hello a session speaks for one host (a newer Hello for the same host replaces it).

#include "protocol/convert.h"
#include "service_state.h"

namespace controller {

namespace pb = protocol::pb;

ServiceState::~ServiceState() {
  // Connections arriving from now on wait at the listener instead of calling into a dead service.
  listener_.set_accept_handler({});
}

void ServiceState::accept(platform::ConnectionPtr connection) {
  const uint64_t id = next_session_id_++;
  auto session = std::make_unique<Session>();
  session->id = id;
  session->last_heard = env_.clock.now();
  platform::ConnectionCallbacks callbacks;
  callbacks.on_message = [this, id](std::span<const uint8_t> bytes) { on_message(id, bytes); };
  callbacks.on_disconnected = [this, id](platform::DisconnectReason reason, std::string_view detail) {
    on_disconnected(id, reason, detail);
  };
  connection->set_callbacks(std::move(callbacks));
  session->connection = std::move(connection);
  sessions_[id] = std::move(session);
  arm_check();
}

Session* ServiceState::session_for_host(const std::string& host) {
  auto it = session_by_host_.find(host);
  if (it == session_by_host_.end()) return nullptr;
  return sessions_.at(it->second).get();
}

bool ServiceState::send(Session& session, pb::ControlMessage& message, uint64_t* size) {
  std::vector<uint8_t> bytes = protocol::encode(message);
  if (size) *size = bytes.size();
  if (!session.connection->send(bytes)) {
    if (session.connection->connected()) {
      log(platform::LogLevel::kError,
          "host " + session.host + ": " + std::string(protocol::body_name(message)) + " of " +
              std::to_string(bytes.size()) + " bytes exceeds the channel limit of " +
              std::to_string(session.connection->max_message_size()) + " bytes");
    }
    return false;
  }
  const std::string type(protocol::body_name(message));
  ++totals.messages_sent[type];
  totals.bytes_sent[type] += bytes.size();
  if (!session.host.empty()) {
    AgentInfo& agent = agents[session.host];
    ++agent.messages_sent;
    agent.bytes_sent += bytes.size();
  }
  return true;
}

void ServiceState::on_message(uint64_t session_id, std::span<const uint8_t> bytes) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  Session& session = *it->second;
  session.last_heard = env_.clock.now();

  pb::ControlMessage message;
  std::string error;
  const protocol::DecodeStatus status = protocol::decode(bytes, message, error);
  const std::string type(status == protocol::DecodeStatus::kOk ? protocol::body_name(message)
                                                               : std::string_view("invalid"));
  ++totals.messages_received[type];
  totals.bytes_received[type] += bytes.size();
  if (status != protocol::DecodeStatus::kOk) {
    reject(session_id, error);
    return;
  }
  if (!session.host.empty()) {
    AgentInfo& agent = agents[session.host];
    ++agent.messages_received;
    agent.bytes_received += bytes.size();
    agent.last_heard = session.last_heard;
  }
  if (session.host.empty() && message.body_case() != pb::ControlMessage::kHello) {
    reject(session_id, "expected Hello first, got " + type);
    return;
  }

  switch (message.body_case()) {
    case pb::ControlMessage::kHello:
      if (!session.host.empty()) {
        reject(session_id, "second Hello on one connection");
        return;
      }
      handle_hello(session, message.hello());
      return;
    case pb::ControlMessage::kAck: {
      std::vector<ChangeId> converged;
      if (handle_ack(session, message.ack(), bytes.size(), converged)) notify_converged(converged);
      return;
    }
    case pb::ControlMessage::kHeartbeat: {
      pb::ControlMessage reply;
      reply.mutable_heartbeat()->set_sequence(message.heartbeat().sequence());
      send(session, reply);  // a failure surfaces through on_disconnected
      return;
    }
    case pb::ControlMessage::kPortStats: {
      AgentInfo& agent = agents[session.host];
      for (const pb::PortCounters& c : message.port_stats().ports()) {
        agent.port_stats[c.port()] = PortCountersRecord{c.version(),   c.packets_in(), c.packets_out(),
                                                        c.bytes_in(),  c.bytes_out(),  c.allowed(),
                                                        c.dropped()};
      }
      return;
    }
    case pb::ControlMessage::kError:
      log(platform::LogLevel::kWarning,
          "host " + session.host + " closes the connection: " + message.error().message());
      session.connection->close();
      drop(session_id, AgentState::kDisconnected);
      return;
    default:
      reject(session_id, "agents do not send " + type);
      return;
  }
}

bool ServiceState::handle_hello(Session& session, const pb::Hello& hello) {
  if (hello.host().empty()) {
    reject(session.id, "Hello without a host");
    return false;
  }
  if (Session* previous = session_for_host(hello.host()); previous && previous != &session) {
    log(platform::LogLevel::kInfo, "host " + hello.host() + ": a new connection from " +
                                       session.connection->peer() + " replaces the one from " +
                                       previous->connection->peer());
    previous->connection->close();
    drop(previous->id, AgentState::kDisconnected);
  }
  session.host = hello.host();
  session.agent_id = hello.agent_id();
  session_by_host_[session.host] = session.id;

  AgentInfo& agent = agents[session.host];
  agent.host = session.host;
  agent.agent_id = hello.agent_id();
  agent.peer = session.connection->peer();
  agent.connected_at = session.last_heard;
  agent.last_heard = session.last_heard;
  ++agent.sessions;
  ++agent.messages_received;  // the Hello itself (counted before the host was known)
  agent.acked_port_versions.clear();
  for (const pb::PortVersion& p : hello.ports()) agent.acked_port_versions[p.port()] = p.version();
  log(platform::LogLevel::kInfo, "host " + session.host + ": agent " + hello.agent_id() +
                                     " connected from " + agent.peer + " (last applied generation " +
                                     std::to_string(hello.last_applied_generation()) +
                                     "); sending a snapshot at generation " +
                                     std::to_string(controller->generation()));
  if (!send_snapshot(session)) {
    if (session.connection->connected()) {
      reject(session.id, "snapshot exceeds the channel's message size limit");
    }
    return false;
  }
  return true;
}

bool ServiceState::handle_ack(Session& session, const pb::Ack& ack, uint64_t size,
                              std::vector<ChangeId>& converged) {
  AgentInfo& agent = agents[session.host];
  if (!ack.error().empty()) {
    log(platform::LogLevel::kWarning, "host " + session.host + " could not apply generation " +
                                          std::to_string(ack.generation()) + ": " + ack.error() +
                                          "; resynchronizing");
    if (ack.generation() == session.snapshot_generation &&
        session.snapshot_generation == controller->generation()) {
      session.resync_pending = true;  // the same Snapshot again, but not in a tight loop
      return true;
    }
    if (!send_snapshot(session)) {
      if (session.connection->connected()) reject(session.id, "snapshot exceeds the size limit");
      return false;
    }
    return true;
  }
  if (ack.generation() > session.sent_generation) {
    log(platform::LogLevel::kWarning, "host " + session.host + " acks generation " +
                                          std::to_string(ack.generation()) + ", which was never sent; ignored");
    return true;
  }
  agent.acked_generation = ack.generation();
  agent.acked_port_versions.clear();
  for (const pb::PortVersion& p : ack.ports()) agent.acked_port_versions[p.port()] = p.version();
  if (ack.generation() == session.sent_generation) agent.state = AgentState::kSynced;
  note_ack(session.host, ack.generation(), size, converged);
  return true;
}

void ServiceState::on_disconnected(uint64_t session_id, platform::DisconnectReason reason,
                                   std::string_view detail) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  const Session& session = *it->second;
  log(platform::LogLevel::kInfo,
      (session.host.empty() ? "connection from " + session.connection->peer() : "host " + session.host) +
          " disconnected (" + std::string(platform::disconnect_reason_name(reason)) + ": " +
          std::string(detail) + ")");
  drop(session_id, AgentState::kDisconnected);
}

void ServiceState::reject(uint64_t session_id, const std::string& why) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  Session& session = *it->second;
  log(platform::LogLevel::kWarning, "closing the connection from " + session.connection->peer() +
                                        (session.host.empty() ? "" : " (host " + session.host + ")") +
                                        ": " + why);
  pb::ControlMessage error = protocol::make_error(why);
  send(session, error);
  session.connection->close();
  ++totals.rejected_connections;
  drop(session_id, AgentState::kDisconnected);
}

void ServiceState::drop(uint64_t session_id, AgentState new_state) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  const std::string& host = it->second->host;
  if (!host.empty()) {
    auto by_host = session_by_host_.find(host);
    if (by_host != session_by_host_.end() && by_host->second == session_id) {
      session_by_host_.erase(by_host);
      agents[host].state = new_state;
    }
  }
  // May destroy the connection from inside its own callback, which the Channel contract allows.
  sessions_.erase(it);
}

void ServiceState::arm_check() {
  if (!check_timer_->armed() && !sessions_.empty()) {
    check_timer_->arm(env_.clock.now() + config_.heartbeat_interval);
  }
}

void ServiceState::check_heartbeats() {
  const platform::Nanos now = env_.clock.now();
  const platform::Nanos limit = config_.heartbeat_interval * config_.missed_heartbeats;
  std::vector<uint64_t> silent;
  for (const auto& [id, session] : sessions_) {
    if (now - session->last_heard > limit) silent.push_back(id);
  }
  std::vector<uint64_t> oversized;
  for (const auto& [id, session] : sessions_) {
    if (session->resync_pending && now - session->last_heard <= limit && !send_snapshot(*session) &&
        session->connection->connected()) {
      oversized.push_back(id);
    }
  }
  for (uint64_t id : oversized) reject(id, "snapshot exceeds the channel's message size limit");
  for (uint64_t id : silent) {
    if (!sessions_.contains(id)) continue;
    Session& session = *sessions_.at(id);
    log(platform::LogLevel::kWarning,
        (session.host.empty() ? "connection from " + session.connection->peer() : "host " + session.host) +
            " lost: silent for " + std::to_string((now - session.last_heard) / 1'000'000) + " ms");
    ++totals.agents_lost;
    session.connection->close();
    drop(id, AgentState::kLost);
  }
  arm_check();
}

void ServiceState::publish_metrics() {
  platform::MetricsSink& m = env_.metrics;
  for (const auto& [type, n] : totals.messages_sent) m.counter("controller.messages_sent." + type, "messages", n);
  for (const auto& [type, n] : totals.bytes_sent) m.counter("controller.bytes_sent." + type, "bytes", n);
  for (const auto& [type, n] : totals.messages_received) {
    m.counter("controller.messages_received." + type, "messages", n);
  }
  for (const auto& [type, n] : totals.bytes_received) m.counter("controller.bytes_received." + type, "bytes", n);
  m.counter("controller.agents_lost", "agents", totals.agents_lost);
  m.counter("controller.rejected_connections", "connections", totals.rejected_connections);
  std::size_t synced = 0;
  for (const auto& [host, agent] : agents) synced += agent.state == AgentState::kSynced;
  m.gauge("controller.agents_connected", "agents", static_cast<double>(session_by_host_.size()));
  m.gauge("controller.agents_synced", "agents", static_cast<double>(synced));
  m.gauge("controller.open_changes", "changes", static_cast<double>(open_changes_.size()));
  m.counter("controller.changes", "changes", changes.size());
}

}  // namespace controller
