#pragma once
// The platform::Channel classes of the management network (mgmt_network.h). Internal: users get
// them through MgmtNetwork::listen / connector as platform interfaces.

#include <memory>
#include <string>
#include <vector>

#include "mgmt_impl.h"

namespace models {

class SimConnection final : public platform::Connection {
 public:
  enum class State : uint8_t { kConnecting, kConnected, kClosed };
  SimConnection(MgmtNetwork::Impl& net, uint32_t pipe, uint32_t generation, uint8_t side, State state,
                std::string peer)
      : net_(net), pipe_(pipe), generation_(generation), side_(side), state_(state), peer_(std::move(peer)) {}
  ~SimConnection() override { close(); }

  void set_callbacks(platform::ConnectionCallbacks callbacks) override { callbacks_ = std::move(callbacks); }
  bool connected() const override { return state_ == State::kConnected; }
  bool send(std::span<const uint8_t> message) override;
  void close() override;
  std::string peer() const override { return peer_; }

  // --- called by the network, as events ---
  void connected_event();
  void message_event(std::span<const uint8_t> message);
  // The connection is over (kClosedByPeer, kTransportError, kConnectFailed); detaches first.
  void disconnected_event(platform::DisconnectReason reason, const char* detail);

 private:
  MgmtNetwork::Impl& net_;
  uint32_t pipe_, generation_;
  uint8_t side_;
  State state_;
  std::string peer_;
  platform::ConnectionCallbacks callbacks_;
};

class SimListener final : public platform::ChannelListener {
 public:
  SimListener(MgmtNetwork::Impl& net, MgmtNetwork::NodeId node) : net_(net), node_(node) {}
  ~SimListener() override;
  void set_accept_handler(std::function<void(platform::ConnectionPtr)> handler) override;
  std::string address() const override { return net_.nodes[node_].name; }

  // A SYN arrived: the connection exists on this side, connected.
  void accept(std::unique_ptr<SimConnection> connection, uint32_t pipe, uint32_t generation);

 private:
  struct Waiting {
    std::unique_ptr<SimConnection> connection;
    uint32_t pipe, generation;
  };
  void hand_over(Waiting waiting);

  MgmtNetwork::Impl& net_;
  MgmtNetwork::NodeId node_;
  std::function<void(platform::ConnectionPtr)> handler_;
  std::vector<Waiting> waiting_;  // accepted while no handler was set
};

class SimConnector final : public platform::ChannelConnector {
 public:
  SimConnector(MgmtNetwork::Impl& net, MgmtNetwork::NodeId node) : net_(net), node_(node) {}
  platform::ConnectionPtr connect(std::string_view address, platform::ConnectionCallbacks callbacks) override;

 private:
  MgmtNetwork::Impl& net_;
  MgmtNetwork::NodeId node_;
};

}  // namespace models
