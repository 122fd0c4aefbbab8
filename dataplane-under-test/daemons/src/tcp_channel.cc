#include "daemons/tcp_channel.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <deque>
#include <vector>

namespace daemons {

namespace asio = boost::asio;
using asio::ip::tcp;

bool split_host_port(const std::string& text, std::string& host, uint16_t& port, std::string& error) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    error = "\"" + text + "\": expected HOST:PORT (e.g. 127.0.0.1:6500)";
    return false;
  }
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = text.substr(colon + 1);
  unsigned long value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || value > 65535) {
      error = "\"" + text + "\": port \"" + port_text + "\" is not a number in 0..65535";
      return false;
    }
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535) {
    error = "\"" + text + "\": port " + port_text + " is beyond 65535";
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

namespace {

std::string endpoint_text(const tcp::endpoint& e) {
  const auto a = e.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(e.port());
}

// The connection's state, shared with its pending asynchronous operations, which may complete
// after the owner destroyed the TcpConnection: `closed` tells them to do nothing.
struct ConnCore : std::enable_shared_from_this<ConnCore> {
  ConnCore(asio::io_context& io, std::size_t limit) : socket(io), resolver(io), max_size(limit) {}

  tcp::socket socket;
  tcp::resolver resolver;
  std::size_t max_size;
  platform::ConnectionCallbacks callbacks;
  bool connected = false;
  bool closed = false;  // locally closed, or over (callback delivered)
  std::string peer;
  std::array<uint8_t, 4> header{};
  std::vector<uint8_t> body;
  std::deque<std::vector<uint8_t>> outgoing;  // each a complete frame
  bool writing = false;

  // Ends the connection and reports it (once).
  void fail(platform::DisconnectReason reason, const std::string& detail) {
    if (closed) return;
    closed = true;
    connected = false;
    boost::system::error_code ignored;
    socket.close(ignored);
    if (callbacks.on_disconnected) {
      auto callback = callbacks.on_disconnected;  // may destroy the owner, and with it nothing here
      callback(reason, detail);
    }
  }

  void start_reading() {
    asio::async_read(socket, asio::buffer(header),
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       self->on_header(ec);
                     });
  }

  void on_header(const boost::system::error_code& ec) {
    if (closed) return;
    if (ec) {
      fail(ec == asio::error::eof ? platform::DisconnectReason::kClosedByPeer
                                  : platform::DisconnectReason::kTransportError,
           ec == asio::error::eof ? "the peer closed the connection" : ec.message());
      return;
    }
    const std::size_t size = (std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) |
                             (std::size_t{header[2]} << 8) | std::size_t{header[3]};
    if (size > max_size) {
      fail(platform::DisconnectReason::kMessageTooLarge,
           "frame of " + std::to_string(size) + " bytes exceeds the limit of " + std::to_string(max_size) +
               " bytes");
      return;
    }
    body.resize(size);
    asio::async_read(socket, asio::buffer(body),
                     [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                       self->on_body(e);
                     });
  }

  void on_body(const boost::system::error_code& ec) {
    if (closed) return;
    if (ec) {
      fail(ec == asio::error::eof ? platform::DisconnectReason::kClosedByPeer
                                  : platform::DisconnectReason::kTransportError,
           ec == asio::error::eof ? "the peer closed the connection in the middle of a frame" : ec.message());
      return;
    }
    auto keep = shared_from_this();  // the callback may destroy the owner
    if (callbacks.on_message) {
      auto callback = callbacks.on_message;
      callback(body);
    }
    if (!closed) start_reading();
  }

  bool send(std::span<const uint8_t> message) {
    if (!connected || closed || message.size() > max_size) return false;
    std::vector<uint8_t> frame(4 + message.size());
    const uint32_t size = static_cast<uint32_t>(message.size());
    frame[0] = static_cast<uint8_t>(size >> 24);
    frame[1] = static_cast<uint8_t>(size >> 16);
    frame[2] = static_cast<uint8_t>(size >> 8);
    frame[3] = static_cast<uint8_t>(size);
    std::copy(message.begin(), message.end(), frame.begin() + 4);
    outgoing.push_back(std::move(frame));
    if (!writing) write_next();
    return true;
  }

  void write_next() {
    if (outgoing.empty() || closed) {
      writing = false;
      return;
    }
    writing = true;
    asio::async_write(socket, asio::buffer(outgoing.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                        if (self->closed) return;
                        if (ec) {
                          self->fail(platform::DisconnectReason::kTransportError, ec.message());
                          return;
                        }
                        self->outgoing.pop_front();
                        self->write_next();
                      });
  }

  void established() {
    connected = true;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (!ec) peer = endpoint_text(remote);
    start_reading();
  }
};

class TcpConnection final : public platform::Connection {
 public:
  explicit TcpConnection(std::shared_ptr<ConnCore> core) : core_(std::move(core)) {}
  ~TcpConnection() override { close(); }

  void set_callbacks(platform::ConnectionCallbacks callbacks) override { core_->callbacks = std::move(callbacks); }
  bool connected() const override { return core_->connected && !core_->closed; }
  bool send(std::span<const uint8_t> message) override { return core_->send(message); }
  void close() override {
    if (core_->closed) return;
    core_->closed = true;
    core_->connected = false;
    core_->callbacks = {};
    boost::system::error_code ignored;
    core_->resolver.cancel();
    // Best effort: a graceful shutdown lets the peer read what is already in the socket.
    core_->socket.shutdown(tcp::socket::shutdown_both, ignored);
    core_->socket.close(ignored);
  }
  std::string peer() const override { return core_->peer; }
  std::size_t max_message_size() const override { return core_->max_size; }

 private:
  std::shared_ptr<ConnCore> core_;
};

}  // namespace

platform::ConnectionPtr TcpConnector::connect(std::string_view address, platform::ConnectionCallbacks callbacks) {
  auto core = std::make_shared<ConnCore>(io_, max_message_size_);
  core->callbacks = std::move(callbacks);
  core->peer = std::string(address);
  std::string host, error;
  uint16_t port = 0;
  if (!split_host_port(core->peer, host, port, error)) {
    // Never synchronously from connect() (Channel contract).
    asio::post(io_, [core, error] { core->fail(platform::DisconnectReason::kConnectFailed, error); });
    return std::make_unique<TcpConnection>(core);
  }
  core->resolver.async_resolve(
      host, std::to_string(port),
      [core](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (core->closed) return;
        if (ec) {
          core->fail(platform::DisconnectReason::kConnectFailed, "cannot resolve " + core->peer + ": " + ec.message());
          return;
        }
        asio::async_connect(core->socket, results,
                            [core](const boost::system::error_code& e, const tcp::endpoint&) {
                              if (core->closed) return;
                              if (e) {
                                core->fail(platform::DisconnectReason::kConnectFailed,
                                           core->peer + ": " + e.message());
                                return;
                              }
                              core->established();
                              if (core->callbacks.on_connected) {
                                auto callback = core->callbacks.on_connected;
                                callback();
                              }
                            });
      });
  return std::make_unique<TcpConnection>(core);
}

struct TcpListener::Core : std::enable_shared_from_this<TcpListener::Core> {
  Core(asio::io_context& io_context, std::size_t limit) : io(io_context), acceptor(io_context), max_size(limit) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  std::size_t max_size;
  std::function<void(platform::ConnectionPtr)> handler;
  std::vector<platform::ConnectionPtr> waiting;
  bool stopped = false;

  void accept_next() {
    auto core = std::make_shared<ConnCore>(io, max_size);
    acceptor.async_accept(core->socket, [self = shared_from_this(), core](const boost::system::error_code& ec) {
      if (self->stopped) return;
      if (!ec) {
        core->established();
        auto connection = std::make_unique<TcpConnection>(core);
        if (self->handler) {
          self->handler(std::move(connection));
        } else {
          self->waiting.push_back(std::move(connection));
        }
      }
      // Transient accept errors (EMFILE, a connection reset before accept) must not stop the
      // listener.
      if (!self->stopped) self->accept_next();
    });
  }
};

std::unique_ptr<TcpListener> TcpListener::create(asio::io_context& io, const std::string& address,
                                                 std::string& error, std::size_t max_message_size) {
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(address, host, port, error)) return nullptr;
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) {
    error = "\"" + address + "\": \"" + host + "\" is not an IP address to listen on";
    return nullptr;
  }
  auto core = std::make_shared<Core>(io, max_message_size);
  const tcp::endpoint endpoint(ip, port);
  core->acceptor.open(endpoint.protocol(), ec);
  if (!ec) core->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) core->acceptor.bind(endpoint, ec);
  if (!ec) core->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + address + ": " + ec.message();
    return nullptr;
  }
  core->accept_next();
  return std::unique_ptr<TcpListener>(new TcpListener(core));
}

TcpListener::TcpListener(std::shared_ptr<Core> core) : core_(std::move(core)) {}

TcpListener::~TcpListener() {
  core_->stopped = true;
  core_->handler = {};
  boost::system::error_code ignored;
  core_->acceptor.close(ignored);
}

void TcpListener::set_accept_handler(std::function<void(platform::ConnectionPtr)> handler) {
  core_->handler = std::move(handler);
  if (!core_->handler) return;
  std::vector<platform::ConnectionPtr> waiting = std::move(core_->waiting);
  core_->waiting.clear();
  for (platform::ConnectionPtr& c : waiting) core_->handler(std::move(c));
}

std::string TcpListener::address() const {
  boost::system::error_code ec;
  const tcp::endpoint e = core_->acceptor.local_endpoint(ec);
  return ec ? std::string() : endpoint_text(e);
}

}  // namespace daemons
