#include "memory_channel.h"

#include <vector>

namespace controlplane_test {
namespace {

class MemoryConnection;

// The two ends of one connection. An end that is destroyed clears its slot, so that queued
// deliveries to it do nothing.
struct Link {
  MemoryConnection* ends[2] = {nullptr, nullptr};
  std::string client;  // the connector's name, for partitions
  std::string server;  // the listener's address
};

enum class State { kConnecting, kConnected, kClosed };

class MemoryConnection final : public platform::Connection {
 public:
  MemoryConnection(MemoryNetwork& network, std::shared_ptr<Link> link, int side, State state,
                   platform::ConnectionCallbacks callbacks)
      : network_(network), link_(std::move(link)), side_(side), state_(state),
        callbacks_(std::move(callbacks)) {
    link_->ends[side_] = this;
  }
  ~MemoryConnection() override {
    link_->ends[side_] = nullptr;
    if (state_ != State::kClosed) notify_peer_closed();
  }

  void set_callbacks(platform::ConnectionCallbacks callbacks) override { callbacks_ = std::move(callbacks); }
  bool connected() const override { return state_ == State::kConnected; }

  bool send(std::span<const uint8_t> message) override {
    if (state_ != State::kConnected) return false;
    if (network_.partitioned(link_->client)) return true;  // lost in the partition
    std::vector<uint8_t> copy(message.begin(), message.end());
    network_.loop().post(network_.loop().now() + network_.latency(),
                         [link = link_, to = 1 - side_, copy = std::move(copy)] {
                           MemoryConnection* peer = link->ends[to];
                           if (peer && peer->state_ == State::kConnected && peer->callbacks_.on_message) {
                             // A copy: the callback may destroy the connection, and the function with it.
                             auto callback = peer->callbacks_.on_message;
                             callback(copy);
                           }
                         });
    return true;
  }

  void close() override {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    notify_peer_closed();
  }

  std::string peer() const override { return side_ == 0 ? link_->server : link_->client; }

  // Connection establishment (connector side).
  void establish() {
    state_ = State::kConnected;
    if (callbacks_.on_connected) {
      auto callback = callbacks_.on_connected;
      callback();
    }
  }
  void fail(platform::DisconnectReason reason, std::string detail) {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    if (callbacks_.on_disconnected) {
      auto callback = callbacks_.on_disconnected;
      callback(reason, detail);
    }
  }
  State state() const { return state_; }

 private:
  void notify_peer_closed() {
    network_.loop().post(network_.loop().now() + network_.latency(), [link = link_, to = 1 - side_] {
      MemoryConnection* peer = link->ends[to];
      if (peer && peer->state_ != State::kClosed) {
        peer->fail(platform::DisconnectReason::kClosedByPeer, "peer closed the connection");
      }
    });
  }

  MemoryNetwork& network_;
  std::shared_ptr<Link> link_;
  int side_;
  State state_;
  platform::ConnectionCallbacks callbacks_;
};

}  // namespace

class MemoryListener final : public platform::ChannelListener {
 public:
  MemoryListener(MemoryNetwork& network, std::string address)
      : network_(network), address_(std::move(address)) {}
  ~MemoryListener() override { network_.unregister(address_); }

  void set_accept_handler(std::function<void(platform::ConnectionPtr)> handler) override {
    handler_ = std::move(handler);
    if (!handler_) return;
    std::vector<platform::ConnectionPtr> waiting = std::move(waiting_);
    waiting_.clear();
    for (platform::ConnectionPtr& c : waiting) handler_(std::move(c));
  }
  std::string address() const override { return address_; }

  void accept(platform::ConnectionPtr connection) {
    if (handler_) {
      handler_(std::move(connection));
    } else {
      waiting_.push_back(std::move(connection));
    }
  }

 private:
  MemoryNetwork& network_;
  std::string address_;
  std::function<void(platform::ConnectionPtr)> handler_;
  std::vector<platform::ConnectionPtr> waiting_;
};

namespace {

class MemoryConnector final : public platform::ChannelConnector {
 public:
  MemoryConnector(MemoryNetwork& network, std::string name) : network_(network), name_(std::move(name)) {}

  platform::ConnectionPtr connect(std::string_view address, platform::ConnectionCallbacks callbacks) override {
    auto link = std::make_shared<Link>();
    link->client = name_;
    link->server = std::string(address);
    auto client = std::make_unique<MemoryConnection>(network_, link, 0, State::kConnecting,
                                                     std::move(callbacks));
    // A partitioned client's SYN is lost: the attempt never completes (the agent times it out).
    if (network_.partitioned(name_)) return client;
    // The task captures the network, not this connector, which the agent may destroy meanwhile.
    MemoryNetwork* network = &network_;
    network_.loop().post(network_.loop().now() + network_.latency(), [network, link] {
      MemoryConnection* end = link->ends[0];
      if (!end || end->state() != State::kConnecting) return;
      MemoryListener* listener = network->listener_at(link->server);
      if (!listener) {
        end->fail(platform::DisconnectReason::kConnectFailed, "connection refused");
        return;
      }
      auto server = std::make_unique<MemoryConnection>(*network, link, 1, State::kConnected,
                                                       platform::ConnectionCallbacks{});
      listener->accept(std::move(server));
      if (MemoryConnection* still = link->ends[0]) still->establish();
    });
    return client;
  }

 private:
  MemoryNetwork& network_;
  std::string name_;
};

}  // namespace

std::unique_ptr<platform::ChannelListener> MemoryNetwork::listen(const std::string& address) {
  auto listener = std::make_unique<MemoryListener>(*this, address);
  listeners_[address] = listener.get();
  return listener;
}

std::unique_ptr<platform::ChannelConnector> MemoryNetwork::connector(const std::string& name) {
  return std::make_unique<MemoryConnector>(*this, name);
}

void MemoryNetwork::set_partitioned(const std::string& client, bool partitioned) {
  if (partitioned) {
    partitioned_.insert(client);
  } else {
    partitioned_.erase(client);
  }
}

MemoryListener* MemoryNetwork::listener_at(const std::string& address) {
  auto it = listeners_.find(address);
  return it == listeners_.end() ? nullptr : it->second;
}

}  // namespace controlplane_test
