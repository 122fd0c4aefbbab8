// The host agent: connection lifecycle (connect, Hello, heartbeats, loss, backoff) and applying
// Snapshots and Deltas to the datapath. What it knows is kept in RuleStore (rule_store.h).

#include "agent/agent.h"

#include <algorithm>

#include "protocol/messages.h"
#include "rule_store.h"

namespace agent {

namespace pb = protocol::pb;

class Agent::Impl {
 public:
  Impl(AgentConfig config, dfw::DatapathDriver& driver, platform::ChannelConnector& connector,
       AgentEnv env)
      : config_(std::move(config)), driver_(driver), connector_(connector), env_(env) {
    if (config_.agent_id.empty()) config_.agent_id = config_.host;
    backoff_ = config_.reconnect_initial;
    tick_timer_ = env_.timers.create_timer([this] { tick(); });
    reconnect_timer_ = env_.timers.create_timer([this] { connect(); });
  }

  void start() {
    if (running_) return;
    running_ = true;
    connect();
  }

  void stop() {
    running_ = false;
    reconnect_timer_->cancel();
    tick_timer_->cancel();
    if (connection_) {
      connection_->close();
      connection_.reset();
      mark_disconnected();
    }
  }

  const AgentStatus& status() const { return status_; }
  void set_status_listener(std::function<void(const AgentStatus&)> l) { listener_ = std::move(l); }

  dfw::RuleTablePtr rules_for(dfw::PortId port) const {
    auto it = store_.ports().find(port);
    return it == store_.ports().end() ? nullptr : it->second.table;
  }

  void port_attached(dfw::PortId port) {
    dfw::RuleTablePtr table = rules_for(port);
    if (!table || !driver_.datapath().has_port(port)) return;
    if (dfw::Status s = driver_.install_rules(port, table); !s) {
      log(platform::LogLevel::kError, "port " + std::to_string(port) + ": " + s.message());
    }
  }

  void publish_metrics() {
    platform::MetricsSink& m = env_.metrics;
    m.counter("agent.connections", "connections", status_.connections);
    m.counter("agent.disconnections", "connections", status_.disconnections);
    m.counter("agent.snapshots_applied", "messages", status_.snapshots_applied);
    m.counter("agent.deltas_applied", "messages", status_.deltas_applied);
    m.counter("agent.apply_errors", "messages", status_.apply_errors);
    m.gauge("agent.applied_generation", "generation", static_cast<double>(status_.applied_generation));
    m.gauge("agent.ports", "ports", static_cast<double>(store_.ports().size()));
    m.gauge("agent.ip_sets", "sets", static_cast<double>(store_.ip_set_count()));
  }

 private:
  platform::Nanos now() const { return env_.clock.now(); }
  platform::Nanos silence_limit() const {
    return config_.heartbeat_interval * static_cast<platform::Nanos>(config_.missed_heartbeats);
  }
  void log(platform::LogLevel level, const std::string& message) {
    env_.log.write(level, "agent", config_.host + ": " + message);
  }
  void notify() {
    if (listener_) listener_(status_);
  }

  void connect() {
    if (!running_ || connection_) return;
    platform::ConnectionCallbacks callbacks;
    callbacks.on_connected = [this] { on_connected(); };
    callbacks.on_message = [this](std::span<const uint8_t> bytes) { on_message(bytes); };
    callbacks.on_disconnected = [this](platform::DisconnectReason reason, std::string_view detail) {
      on_disconnected(reason, detail);
    };
    connect_started_ = now();
    connection_ = connector_.connect(config_.controller_address, std::move(callbacks));
    tick_timer_->arm(now() + config_.heartbeat_interval);
  }

  void on_connected() {
    status_.connected = true;
    status_.synced = false;
    awaiting_snapshot_ = true;
    ++status_.connections;
    last_heard_ = now();
    next_stats_ = last_heard_ + config_.stats_interval;
    pb::ControlMessage message;
    pb::Hello* hello = message.mutable_hello();
    hello->set_agent_id(config_.agent_id);
    hello->set_host(config_.host);
    hello->set_last_applied_generation(status_.applied_generation);
    for (const auto& [port, table] : store_.ports()) {
      pb::PortVersion* p = hello->add_ports();
      p->set_port(port);
      p->set_version(table.version);
    }
    log(platform::LogLevel::kInfo, "connected to " + connection_->peer() + "; hello at generation " +
                                       std::to_string(status_.applied_generation));
    send(message);
    notify();
  }

  void on_disconnected(platform::DisconnectReason reason, std::string_view detail) {
    const bool was_connected = status_.connected;
    connection_.reset();  // allowed from inside its own callback (Channel contract)
    if (was_connected) mark_disconnected();
    log(platform::LogLevel::kWarning,
        std::string(was_connected ? "lost the controller (" : "could not connect (") +
            std::string(platform::disconnect_reason_name(reason)) + ": " + std::string(detail) +
            "); enforcing the last policy (generation " + std::to_string(status_.applied_generation) + ")");
    schedule_reconnect();
    notify();
  }

  // Gives up on the current connection (the controller is silent, misbehaves or speaks another
  // protocol version) and schedules a reconnect. The ports keep their rules.
  void abandon(const std::string& why) {
    log(platform::LogLevel::kWarning, why + "; closing the connection, enforcing generation " +
                                          std::to_string(status_.applied_generation));
    status_.last_error = why;
    if (connection_) {
      connection_->close();
      connection_.reset();
    }
    if (status_.connected) mark_disconnected();
    schedule_reconnect();
    notify();
  }

  void mark_disconnected() {
    status_.connected = false;
    status_.synced = false;
    ++status_.disconnections;
  }

  void schedule_reconnect() {
    if (!running_) return;
    tick_timer_->cancel();
    log(platform::LogLevel::kInfo, "reconnecting in " + std::to_string(backoff_ / 1'000'000) + " ms");
    reconnect_timer_->arm(now() + backoff_);
    backoff_ = std::min(backoff_ * 2, config_.reconnect_max);
  }

  void tick() {
    if (!connection_) return;
    const platform::Nanos t = now();
    if (!status_.connected) {
      if (t - connect_started_ > silence_limit()) {
        abandon("connection attempt to " + config_.controller_address + " timed out");
        return;
      }
    } else if (t - last_heard_ > silence_limit()) {
      abandon("controller silent for " + std::to_string((t - last_heard_) / 1'000'000) + " ms");
      return;
    } else {
      pb::ControlMessage heartbeat;
      heartbeat.mutable_heartbeat()->set_sequence(++heartbeat_sequence_);
      send(heartbeat);
      if (config_.stats_interval > 0 && t >= next_stats_) {
        send_port_stats();
        next_stats_ = t + config_.stats_interval;
      }
    }
    if (connection_) tick_timer_->arm(t + config_.heartbeat_interval);
  }

  void send(pb::ControlMessage& message) {
    if (!connection_) return;
    std::vector<uint8_t> bytes = protocol::encode(message);
    if (!connection_->send(bytes) && connection_->connected()) {
      log(platform::LogLevel::kError, std::string(protocol::body_name(message)) + " of " +
                                          std::to_string(bytes.size()) +
                                          " bytes exceeds the channel's message size limit");
    }
  }

  void on_message(std::span<const uint8_t> bytes) {
    last_heard_ = now();
    pb::ControlMessage message;
    std::string error;
    switch (protocol::decode(bytes, message, error)) {
      case protocol::DecodeStatus::kOk: break;
      case protocol::DecodeStatus::kVersionMismatch:
        abandon("the controller speaks another protocol: " + error);
        return;
      case protocol::DecodeStatus::kMalformed:
        abandon("bad message from the controller: " + error);
        return;
    }
    switch (message.body_case()) {
      case pb::ControlMessage::kSnapshot: apply_snapshot(message.snapshot()); return;
      case pb::ControlMessage::kDelta: apply_delta(message.delta()); return;
      case pb::ControlMessage::kHeartbeat: return;  // liveness only
      case pb::ControlMessage::kError:
        abandon("the controller refused this agent: " + message.error().message());
        return;
      default:
        abandon("unexpected " + std::string(protocol::body_name(message)) + " from the controller");
        return;
    }
  }

  void apply_snapshot(const pb::Snapshot& snapshot) {
    Update update;
    std::string error;
    if (!store_.prepare_snapshot(snapshot, update, error)) {
      refuse(snapshot.generation(), "snapshot: " + error);
      return;
    }
    install(update);
    status_.synced = true;
    awaiting_snapshot_ = false;
    ++status_.snapshots_applied;
    backoff_ = config_.reconnect_initial;  // a full exchange worked: the controller is healthy
    log(platform::LogLevel::kInfo, "applied snapshot at generation " + std::to_string(update.generation) +
                                       " (" + std::to_string(store_.ports().size()) + " ports, " +
                                       std::to_string(store_.ip_set_count()) + " IP sets)");
    acknowledge(update.generation);
  }

  void apply_delta(const pb::Delta& delta) {
    if (awaiting_snapshot_) {
      // Sent before the controller saw our last Ack with an error; its Snapshot follows.
      log(platform::LogLevel::kDebug, "ignoring delta " + std::to_string(delta.generation()) +
                                          " while waiting for a snapshot");
      return;
    }
    if (delta.base_generation() != status_.applied_generation) {
      refuse(delta.generation(), "delta based on generation " + std::to_string(delta.base_generation()) +
                                     ", but generation " + std::to_string(status_.applied_generation) +
                                     " is applied");
      return;
    }
    Update update;
    std::string error;
    if (!store_.prepare_delta(delta, update, error)) {
      refuse(delta.generation(), "delta: " + error);
      return;
    }
    install(update);
    ++status_.deltas_applied;
    acknowledge(update.generation);
  }

  // Swaps in the prepared tables (each port atomically) and commits them to the store.
  void install(Update& update) {
    dfw::Datapath& datapath = driver_.datapath();
    for (const auto& [port, table] : update.ports) {
      dfw::Status s;
      if (datapath.has_port(port)) {
        s = driver_.install_rules(port, table.table);
      } else if (config_.manage_ports) {
        s = datapath.add_port(port, table.table);
      }
      if (!s) log(platform::LogLevel::kError, "port " + std::to_string(port) + ": " + s.message());
    }
    for (dfw::PortId port : update.removed_ports) {
      if (config_.manage_ports && datapath.has_port(port)) datapath.remove_port(port);
    }
    store_.commit(update);
    status_.applied_generation = update.generation;
    status_.applied_at = now();
    status_.port_versions.clear();
    for (const auto& [port, table] : store_.ports()) status_.port_versions[port] = table.version;
  }

  void acknowledge(uint64_t generation) {
    pb::ControlMessage message;
    pb::Ack* ack = message.mutable_ack();
    ack->set_generation(generation);
    for (const auto& [port, version] : status_.port_versions) {
      pb::PortVersion* p = ack->add_ports();
      p->set_port(port);
      p->set_version(version);
    }
    send(message);
    notify();
  }

  // Nothing of the message was applied: say so; the controller answers with a Snapshot.
  void refuse(uint64_t generation, const std::string& error) {
    log(platform::LogLevel::kError, "refusing generation " + std::to_string(generation) + ": " + error +
                                        "; keeping generation " + std::to_string(status_.applied_generation));
    ++status_.apply_errors;
    status_.last_error = error;
    awaiting_snapshot_ = true;
    pb::ControlMessage message;
    message.mutable_ack()->set_generation(generation);
    message.mutable_ack()->set_error(error);
    send(message);
    notify();
  }

  void send_port_stats() {
    pb::ControlMessage message;
    pb::PortStats* stats = message.mutable_port_stats();
    const dfw::Datapath& datapath = driver_.datapath();
    for (const auto& [port, table] : store_.ports()) {
      const dfw::PortCounters* c = datapath.port_counters(port);
      if (!c) continue;
      pb::PortCounters* p = stats->add_ports();
      p->set_port(port);
      p->set_version(table.version);
      p->set_packets_in(c->packets[static_cast<int>(dfw::Direction::kIngress)]);
      p->set_packets_out(c->packets[static_cast<int>(dfw::Direction::kEgress)]);
      p->set_bytes_in(c->bytes[static_cast<int>(dfw::Direction::kIngress)]);
      p->set_bytes_out(c->bytes[static_cast<int>(dfw::Direction::kEgress)]);
      p->set_allowed(c->allowed);
      p->set_dropped(c->dropped);
    }
    send(message);
  }

  AgentConfig config_;
  dfw::DatapathDriver& driver_;
  platform::ChannelConnector& connector_;
  AgentEnv env_;
  RuleStore store_;
  AgentStatus status_;
  std::function<void(const AgentStatus&)> listener_;
  platform::ConnectionPtr connection_;
  platform::TimerPtr tick_timer_;
  platform::TimerPtr reconnect_timer_;
  bool running_ = false;
  bool awaiting_snapshot_ = true;
  platform::Nanos backoff_ = 0;
  platform::Nanos connect_started_ = 0;
  platform::Nanos last_heard_ = 0;
  platform::Nanos next_stats_ = 0;
  uint64_t heartbeat_sequence_ = 0;
};

Agent::Agent(AgentConfig config, dfw::DatapathDriver& driver, platform::ChannelConnector& connector,
             AgentEnv env)
    : impl_(std::make_unique<Impl>(std::move(config), driver, connector, env)) {}
Agent::~Agent() = default;
void Agent::start() { impl_->start(); }
void Agent::stop() { impl_->stop(); }
const AgentStatus& Agent::status() const { return impl_->status(); }
void Agent::set_status_listener(std::function<void(const AgentStatus&)> listener) {
  impl_->set_status_listener(std::move(listener));
}
dfw::RuleTablePtr Agent::rules_for(dfw::PortId port) const { return impl_->rules_for(port); }
void Agent::port_attached(dfw::PortId port) { impl_->port_attached(port); }
void Agent::publish_metrics() { impl_->publish_metrics(); }

}  // namespace agent
