#pragma once
// ControllerService internals: the sessions (one per agent connection), the host index (which
// ports live on which host, as last sent), and the change records. service.cc applies changes
// and sends deltas; sessions.cc runs the connections (Hello, Ack, Heartbeat, loss detection).

#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "controller/service.h"
#include "ip_set_refs.h"
#include "protocol/messages.h"

namespace controller {

struct Session {
  uint64_t id = 0;
  platform::ConnectionPtr connection;
  std::string host;  // empty until Hello
  std::string agent_id;
  IpSetRefs ip_sets;             // the sets this agent holds
  uint64_t sent_generation = 0;  // of the latest Snapshot/Delta sent on this connection
  uint64_t snapshot_generation = 0;  // of the latest Snapshot sent on this connection
  // The agent refused the current state's Snapshot: sending the same one again at once would
  // loop, so it is resent at the next heartbeat check (or replaced by the next change's).
  bool resync_pending = false;
  platform::Nanos last_heard = 0;
};

class ServiceState {
 public:
  ServiceState(std::unique_ptr<Controller> controller, platform::ChannelListener& listener,
               ServiceEnv env, ServiceConfig config);
  ~ServiceState();

  // --- service.cc: changes ---
  template <typename Apply>
  ChangeId run_change(std::string kind, std::string subject, Status& error, Apply&& apply);
  void set_convergence_listener(std::function<void(const ChangeRecord&)> listener) {
    convergence_listener_ = std::move(listener);
  }

  // --- sessions.cc: connections ---
  void accept(platform::ConnectionPtr connection);
  void publish_metrics();

  std::unique_ptr<Controller> controller;
  std::vector<ChangeRecord> changes;
  std::map<std::string, AgentInfo> agents;  // by host
  MessageTotals totals;

 private:
  // service.cc
  void send_deltas(const ChangeSet& change_set, ChangeRecord& record);
  void move_in_index(WorkloadId port, const std::string* new_host);
  // Sends the host's full state (also counted for the host's open changes). False as send().
  bool send_snapshot(Session& session, uint64_t* sent_size = nullptr);
  // Records an ack from `host` for `generation`; returns the changes it converged.
  void note_ack(const std::string& host, uint64_t generation, uint64_t ack_size,
                std::vector<ChangeId>& converged);
  void notify_converged(const std::vector<ChangeId>& ids);

  // sessions.cc
  void on_message(uint64_t session_id, std::span<const uint8_t> bytes);
  void on_disconnected(uint64_t session_id, platform::DisconnectReason reason, std::string_view detail);
  // Each returns false when the session was dropped (the caller must not touch it any more).
  bool handle_hello(Session& session, const protocol::pb::Hello& hello);
  bool handle_ack(Session& session, const protocol::pb::Ack& ack, uint64_t size,
                  std::vector<ChangeId>& converged);
  // Sends and counts one message; false when the connection could not take it (then the session
  // is about to be dropped: by on_disconnected, or by the caller for an oversized message).
  bool send(Session& session, protocol::pb::ControlMessage& message, uint64_t* size = nullptr);
  // Sends an Error (best effort), closes and forgets the session.
  void reject(uint64_t session_id, const std::string& why);
  void drop(uint64_t session_id, AgentState new_state);
  void check_heartbeats();
  void arm_check();
  Session* session_for_host(const std::string& host);
  void log(platform::LogLevel level, const std::string& message);

  platform::ChannelListener& listener_;
  ServiceEnv env_;
  ServiceConfig config_;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::map<std::string, uint64_t> session_by_host_;
  uint64_t next_session_id_ = 1;
  // Where each port lives, as the agents were told.
  std::map<WorkloadId, std::string> port_host_;
  std::map<std::string, std::set<WorkloadId>> host_ports_;
  std::vector<ChangeId> open_changes_;  // not converged yet, in id order
  std::function<void(const ChangeRecord&)> convergence_listener_;
  platform::TimerPtr check_timer_;
};

}  // namespace controller
