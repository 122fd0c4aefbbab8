#pragma once
// platform::Channel over real TCP with Boost.Asio, for the daemons and the emulation.
//
// Framing: each message is a 4-byte big-endian length followed by that many bytes. A frame
// longer than the limit (platform::kDefaultMaxMessageSize unless configured) is refused: send()
// returns false for an outgoing one; an incoming one ends the connection with
// DisconnectReason::kMessageTooLarge ("frame of N bytes exceeds the limit of M bytes"), since the
// stream cannot be resynchronized after it. TCP_NODELAY is set: control messages are small and
// latency matters more than segment count. Callbacks run on the io_context's thread.

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "platform/channel.h"

namespace daemons {

// Splits "host:port" ("127.0.0.1:6500", "[::1]:6500", "controller.local:6500"). False with `error`
// set when the text is not of that form or the port is not 0..65535.
bool split_host_port(const std::string& text, std::string& host, uint16_t& port, std::string& error);

class TcpConnector final : public platform::ChannelConnector {
 public:
  explicit TcpConnector(boost::asio::io_context& io, std::size_t max_message_size = platform::kDefaultMaxMessageSize)
      : io_(io), max_message_size_(max_message_size) {}
  platform::ConnectionPtr connect(std::string_view address, platform::ConnectionCallbacks callbacks) override;

 private:
  boost::asio::io_context& io_;
  std::size_t max_message_size_;
};

class TcpListener final : public platform::ChannelListener {
 public:
  // Binds and listens on `address` ("0.0.0.0:6500"; port 0 picks a free port). Returns nullptr
  // with `error` set when the address is malformed or cannot be bound.
  static std::unique_ptr<TcpListener> create(boost::asio::io_context& io, const std::string& address,
                                             std::string& error,
                                             std::size_t max_message_size = platform::kDefaultMaxMessageSize);
  ~TcpListener() override;

  void set_accept_handler(std::function<void(platform::ConnectionPtr)> handler) override;
  std::string address() const override;

  struct Core;

 private:
  explicit TcpListener(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace daemons
