#pragma once
// Channel: the management-network connection between the policy controller and the host agents,
// as seen by the code under test. Each world provides it: the simulator carries messages over the
// simulated management network (latency, bandwidth, loss, partitions; SimChannel* in models/),
// the daemons over real TCP (LinuxTcp* in dataplane-under-test/daemons/), tests over an in-memory
// pair.
//
// The unit is a whole message (an opaque byte string; the control-plane protocol puts a protobuf
// in it). Framing, retransmission and reordering are the channel's job: while a connection is
// connected, messages arrive completely, exactly once and in the order sent. When a connection
// breaks (peer closed, transport error, partition long enough for the transport to give up),
// messages sent before the break may or may not have arrived; the code under test recovers by
// resynchronizing on the next connection, never by assuming delivery.
//
// Contracts (in addition to those of platform.h):
//  - Every callback runs on the driving thread, never from inside the call that caused it
//    (connect(), send() and close() do not call back synchronously), so a caller's state is
//    consistent when a callback arrives.
//  - A callback may close or destroy its own connection; the implementation does not touch a
//    destroyed connection afterwards.
//  - Destroying a Connection closes it without any callback.
//  - send() never blocks: the channel queues what the transport cannot take yet.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace platform {

// Why a connection ended, for on_disconnected.
enum class DisconnectReason : uint8_t {
  kConnectFailed,    // never connected: refused, unreachable, timed out
  kClosedByPeer,     // the other end closed or was destroyed
  kTransportError,   // reset, keepalive or retransmission timeout, partition detected
  kMessageTooLarge,  // the peer sent a message larger than the limit; the channel gave up
  kProtocolError,    // undecodable framing
};

inline std::string_view disconnect_reason_name(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::kConnectFailed: return "connect_failed";
    case DisconnectReason::kClosedByPeer: return "closed_by_peer";
    case DisconnectReason::kTransportError: return "transport_error";
    case DisconnectReason::kMessageTooLarge: return "message_too_large";
    case DisconnectReason::kProtocolError: return "protocol_error";
  }
  return "unknown";
}

// Largest message any channel must carry (a full snapshot of a large host fits easily). A
// channel may accept larger ones; it never delivers a truncated message.
inline constexpr std::size_t kDefaultMaxMessageSize = 64u << 20;  // bytes

struct ConnectionCallbacks {
  // The connection is established (connector side only; an accepted connection is handed over
  // already connected and never calls this).
  std::function<void()> on_connected;
  // One whole message. The bytes are valid only during the call.
  std::function<void(std::span<const uint8_t> message)> on_message;
  // The connection is over (or never came up: kConnectFailed). Called at most once, and never
  // after close(). `detail` is a human-readable explanation for logs ("connection refused",
  // "frame of 70000000 bytes exceeds the limit of 67108864 bytes").
  std::function<void(DisconnectReason reason, std::string_view detail)> on_disconnected;
};

// One end of a message connection. States: connecting -> connected -> closed (or connecting ->
// closed). A closed connection stays closed; reconnecting means a new Connection.
class Connection {
 public:
  virtual ~Connection() = default;

  // Replaces the callbacks. An accepted connection delivers nothing until the accept handler
  // has returned, so the handler sets them in time.
  virtual void set_callbacks(ConnectionCallbacks callbacks) = 0;
  virtual bool connected() const = 0;
  // Queues one message for delivery. False (and nothing queued) when the connection is not
  // connected or the message exceeds max_message_size(); the caller treats that like a
  // disconnect that on_disconnected will (or did) report.
  virtual bool send(std::span<const uint8_t> message) = 0;
  // Closes the connection locally: nothing more is delivered, no callback follows. Messages
  // already queued may still reach the peer (TCP: flushed best-effort), which then sees
  // kClosedByPeer.
  virtual void close() = 0;
  // The peer, for logs: "10.0.0.1:6500", or the simulated node's name.
  virtual std::string peer() const = 0;
  virtual std::size_t max_message_size() const { return kDefaultMaxMessageSize; }
};
using ConnectionPtr = std::unique_ptr<Connection>;

// The agent side: opens connections to the controller. Retry policy (backoff, jitter) belongs
// to the caller, which arms platform timers between attempts.
class ChannelConnector {
 public:
  virtual ~ChannelConnector() = default;
  // Starts connecting to `address` ("host:port" for TCP, a node name in simulation). Returns
  // a connection in the connecting state; later exactly one of on_connected or
  // on_disconnected(kConnectFailed) follows. Never returns nullptr: a malformed address fails
  // through on_disconnected(kConnectFailed) like an unreachable one.
  virtual ConnectionPtr connect(std::string_view address, ConnectionCallbacks callbacks) = 0;
};

// The controller side: a listening endpoint the world has already bound (the daemon binds
// --listen, the simulator the controller's node). Connections arrive through the accept
// handler, connected, and are owned by whoever takes them.
class ChannelListener {
 public:
  virtual ~ChannelListener() = default;
  // Installs the handler (replacing any previous one). Connections that arrive while no handler
  // is set wait until one is. The handler runs on the driving thread.
  virtual void set_accept_handler(std::function<void(ConnectionPtr connection)> handler) = 0;
  // Where peers reach this listener: "0.0.0.0:6500" (TCP, after binding; the real port when
  // asked for port 0), or the node name.
  virtual std::string address() const = 0;
};

}  // namespace platform
