// The Linux world's Channel and timers over real loopback TCP: framing keeps message boundaries
// and order, the size limit is enforced with a clear reason, and connection failures and closes
// are reported as the Channel contract says (never synchronously).

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>

#include "daemons/linux_platform.h"
#include "daemons/tcp_channel.h"

namespace {

using platform::DisconnectReason;

struct Recorder {
  std::vector<std::vector<uint8_t>> messages;
  bool connected = false;
  bool disconnected = false;
  DisconnectReason reason = DisconnectReason::kConnectFailed;
  std::string detail;
  platform::ConnectionCallbacks callbacks() {
    platform::ConnectionCallbacks c;
    c.on_connected = [this] { connected = true; };
    c.on_message = [this](std::span<const uint8_t> m) { messages.emplace_back(m.begin(), m.end()); };
    c.on_disconnected = [this](DisconnectReason r, std::string_view d) {
      disconnected = true;
      reason = r;
      detail = std::string(d);
    };
    return c;
  }
};

class TcpChannelTest : public ::testing::Test {
 protected:
  // Runs the io_context until `done` or 5 s.
  template <typename Done>
  bool run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  std::unique_ptr<daemons::TcpListener> listen(std::size_t limit = platform::kDefaultMaxMessageSize) {
    std::string error;
    auto listener = daemons::TcpListener::create(io_, "127.0.0.1:0", error, limit);
    EXPECT_TRUE(listener) << error;
    listener->set_accept_handler([this](platform::ConnectionPtr c) {
      c->set_callbacks(server_.callbacks());
      server_connection_ = std::move(c);
    });
    return listener;
  }

  boost::asio::io_context io_;
  Recorder server_;
  platform::ConnectionPtr server_connection_;
};

TEST_F(TcpChannelTest, MessagesArriveWholeAndInOrder) {
  auto listener = listen();
  daemons::TcpConnector connector(io_);
  Recorder client;
  auto connection = connector.connect(listener->address(), client.callbacks());
  EXPECT_FALSE(client.connected);  // never from inside connect()
  ASSERT_TRUE(run_until([&] { return client.connected && server_connection_; }));

  std::vector<std::vector<uint8_t>> sent = {{}, {1}, std::vector<uint8_t>(100'000, 7), {1, 2, 3}};
  for (std::size_t i = 0; i < sent[2].size(); ++i) sent[2][i] = static_cast<uint8_t>(i * 31);
  for (const auto& m : sent) ASSERT_TRUE(connection->send(m));
  ASSERT_TRUE(run_until([&] { return server_.messages.size() == sent.size(); }));
  EXPECT_EQ(server_.messages, sent);

  // And back.
  ASSERT_TRUE(server_connection_->send(std::vector<uint8_t>{9, 9}));
  ASSERT_TRUE(run_until([&] { return client.messages.size() == 1; }));
  EXPECT_EQ(client.messages[0], (std::vector<uint8_t>{9, 9}));
}

TEST_F(TcpChannelTest, OversizedFrameEndsTheConnectionWithAClearReason) {
  auto listener = listen(1000);
  daemons::TcpConnector connector(io_);  // the default (larger) limit on this side
  Recorder client;
  auto connection = connector.connect(listener->address(), client.callbacks());
  ASSERT_TRUE(run_until([&] { return client.connected && server_connection_; }));
  ASSERT_TRUE(connection->send(std::vector<uint8_t>(1000, 1)));  // at the limit: fine
  ASSERT_TRUE(connection->send(std::vector<uint8_t>(2000, 1)));
  ASSERT_TRUE(run_until([&] { return server_.disconnected; }));
  EXPECT_EQ(server_.messages.size(), 1u);
  EXPECT_EQ(server_.reason, DisconnectReason::kMessageTooLarge);
  EXPECT_EQ(server_.detail, "frame of 2000 bytes exceeds the limit of 1000 bytes");
  EXPECT_FALSE(server_connection_->connected());
  EXPECT_FALSE(server_connection_->send(std::vector<uint8_t>{1}));
  // The server closed with the rest of the frame unread, so Linux resets the connection.
  ASSERT_TRUE(run_until([&] { return client.disconnected; }));
  EXPECT_EQ(client.reason, DisconnectReason::kTransportError);
  EXPECT_EQ(client.detail, "Connection reset by peer");
}

TEST_F(TcpChannelTest, SendRefusesWhatExceedsTheLocalLimit) {
  auto listener = listen();
  daemons::TcpConnector connector(io_, 10);
  Recorder client;
  auto connection = connector.connect(listener->address(), client.callbacks());
  EXPECT_FALSE(connection->send(std::vector<uint8_t>{1}));  // not connected yet
  ASSERT_TRUE(run_until([&] { return client.connected; }));
  EXPECT_FALSE(connection->send(std::vector<uint8_t>(11, 0)));
  EXPECT_TRUE(connection->send(std::vector<uint8_t>(10, 0)));
  EXPECT_TRUE(connection->connected());
}

TEST_F(TcpChannelTest, RefusedAndMalformedAddressesFailAsynchronously) {
  std::string address;
  {
    auto listener = listen();
    address = listener->address();
  }  // closed: nothing listens there any more
  daemons::TcpConnector connector(io_);
  Recorder refused, malformed;
  auto a = connector.connect(address, refused.callbacks());
  auto b = connector.connect("no-port-here", malformed.callbacks());
  EXPECT_FALSE(malformed.disconnected);
  ASSERT_TRUE(run_until([&] { return refused.disconnected && malformed.disconnected; }));
  EXPECT_EQ(refused.reason, DisconnectReason::kConnectFailed);
  EXPECT_FALSE(refused.connected);
  EXPECT_EQ(malformed.reason, DisconnectReason::kConnectFailed);
  EXPECT_EQ(malformed.detail, "\"no-port-here\": expected HOST:PORT (e.g. 127.0.0.1:6500)");
}

TEST_F(TcpChannelTest, DestroyingOneEndIsAPeerCloseForTheOther) {
  auto listener = listen();
  daemons::TcpConnector connector(io_);
  Recorder client;
  auto connection = connector.connect(listener->address(), client.callbacks());
  ASSERT_TRUE(run_until([&] { return client.connected && server_connection_; }));
  server_connection_.reset();
  ASSERT_TRUE(run_until([&] { return client.disconnected; }));
  EXPECT_EQ(client.reason, DisconnectReason::kClosedByPeer);
  EXPECT_FALSE(server_.disconnected);  // a local close reports nothing
}

TEST(ListenAddress, BadAddressesAreRefusedWithTheReason) {
  boost::asio::io_context io;
  std::string error;
  EXPECT_FALSE(daemons::TcpListener::create(io, "127.0.0.1:70000", error));
  EXPECT_EQ(error, "\"127.0.0.1:70000\": port 70000 is beyond 65535");
  EXPECT_FALSE(daemons::TcpListener::create(io, "localhost:80", error));
  EXPECT_EQ(error, "\"localhost:80\": \"localhost\" is not an IP address to listen on");
}

TEST(AsioTimers, FireOnceAtTheDeadlineAndNeverAfterCancelOrDestruction) {
  boost::asio::io_context io;
  daemons::LinuxClock clock;
  daemons::AsioTimerService timers(io);
  int fired = 0, cancelled = 0, destroyed = 0;
  platform::Nanos fired_at = 0;
  auto timer = timers.create_timer([&] {
    ++fired;
    fired_at = clock.now();
  });
  auto cancelled_timer = timers.create_timer([&] { ++cancelled; });
  auto destroyed_timer = timers.create_timer([&] { ++destroyed; });
  const platform::Nanos deadline = clock.now() + 20'000'000;
  timer->arm(clock.now() + 1'000'000'000);
  timer->arm(deadline);  // re-arming replaces the first deadline
  cancelled_timer->arm(deadline);
  destroyed_timer->arm(deadline);
  cancelled_timer->cancel();
  destroyed_timer.reset();
  EXPECT_TRUE(timer->armed());
  EXPECT_FALSE(cancelled_timer->armed());
  io.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, deadline);
  EXPECT_FALSE(timer->armed());
  EXPECT_EQ(cancelled, 0);
  EXPECT_EQ(destroyed, 0);
}

}  // namespace
