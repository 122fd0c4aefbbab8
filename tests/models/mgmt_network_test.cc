// The simulated management network: times from the model (latency, serialization, RTO), order,
// partitions, connect failures, close, and the channel contracts (no synchronous callbacks, a
// callback may destroy its connection).

#include "models/mgmt_network.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace models {
namespace {

using platform::DisconnectReason;

// 8 Mbit/s: one byte takes exactly 1 us on the wire.
constexpr sim::DataRate k8Mbps = sim::DataRate::bps(8'000'000);

MgmtLinkParams link(sim::Time latency, sim::DataRate bandwidth = k8Mbps, double loss = 0) {
  MgmtLinkParams p;
  p.latency = latency;
  p.bandwidth = bandwidth;
  p.loss = loss;
  return p;
}

// A record of everything that happened to one connection end.
struct Events {
  std::vector<int64_t> connected_at;
  std::vector<std::pair<int64_t, std::string>> messages;
  std::vector<std::pair<int64_t, DisconnectReason>> disconnects;
};

platform::ConnectionCallbacks record(sim::Kernel& kernel, Events& e) {
  platform::ConnectionCallbacks cb;
  cb.on_connected = [&kernel, &e] { e.connected_at.push_back(kernel.now().ns()); };
  cb.on_message = [&kernel, &e](std::span<const uint8_t> m) {
    e.messages.emplace_back(kernel.now().ns(), std::string(m.begin(), m.end()));
  };
  cb.on_disconnected = [&kernel, &e](DisconnectReason r, std::string_view) {
    e.disconnects.emplace_back(kernel.now().ns(), r);
  };
  return cb;
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A controller node (no latency, unlimited bandwidth: the host links are the model) and hosts.
struct Fixture {
  explicit Fixture(MgmtLinkParams host_link, MgmtTransportParams transport = {})
      : kernel(7), net(kernel, transport) {
    controller = net.add_node("controller", link(sim::Time::zero(), sim::DataRate::bps(0)));
    host = net.add_node("host-1", host_link);
    listener = net.listen(controller);
    listener->set_accept_handler([this](platform::ConnectionPtr c) {
      c->set_callbacks(record(kernel, server_events));
      accepted_at.push_back(kernel.now().ns());
      server = std::move(c);
    });
    connector = net.connector(host);
  }
  void connect() { client = connector->connect("controller", record(kernel, client_events)); }

  sim::Kernel kernel;
  MgmtNetwork net;
  MgmtNetwork::NodeId controller, host;
  std::unique_ptr<platform::ChannelListener> listener;
  std::unique_ptr<platform::ChannelConnector> connector;
  platform::ConnectionPtr client, server;
  Events client_events, server_events;
  std::vector<int64_t> accepted_at;
};

TEST(MgmtNetwork, ConnectTakesOneRoundTripAndMessagesTakeSerializationPlusLatency) {
  Fixture f(link(sim::Millis(1)));
  f.connect();
  EXPECT_FALSE(f.client->connected());  // nothing synchronous
  f.kernel.run_until(sim::Millis(10));
  EXPECT_EQ(f.accepted_at, std::vector<int64_t>{1'000'000});       // SYN: host link latency
  EXPECT_EQ(f.client_events.connected_at, std::vector<int64_t>{2'000'000});  // + SYN-ACK
  ASSERT_TRUE(f.server && f.client->connected());

  // At 10 ms the host sends 1000 bytes then 500 bytes: 1 ms and 0.5 ms of serialization on its
  // link, back to back, then 1 ms of latency each; the controller's link adds nothing.
  ASSERT_TRUE(f.client->send(bytes(std::string(1000, 'a'))));
  ASSERT_TRUE(f.client->send(bytes(std::string(500, 'b'))));
  // The controller answers with 2000 bytes: serialized on the host's link toward the host.
  ASSERT_TRUE(f.server->send(bytes(std::string(2000, 'c'))));
  f.kernel.run_until(sim::Millis(20));
  ASSERT_EQ(f.server_events.messages.size(), 2u);
  EXPECT_EQ(f.server_events.messages[0].first, 12'000'000);
  EXPECT_EQ(f.server_events.messages[0].second.size(), 1000u);
  EXPECT_EQ(f.server_events.messages[1].first, 12'500'000);
  EXPECT_EQ(f.server_events.messages[1].second, std::string(500, 'b'));
  ASSERT_EQ(f.client_events.messages.size(), 1u);
  EXPECT_EQ(f.client_events.messages[0].first, 13'000'000);
  EXPECT_EQ(f.net.stats(f.host).messages_sent, 2u);
  EXPECT_EQ(f.net.stats(f.host).bytes_sent, 1500u);
  EXPECT_EQ(f.net.stats(f.controller).bytes_received, 1500u);
  EXPECT_EQ(f.net.stats(f.host).messages_received, 1u);
}

TEST(MgmtNetwork, LossDelaysByRetransmissionTimeoutsButKeepsEveryMessageInOrder) {
  MgmtLinkParams lossy = link(sim::Millis(1), sim::DataRate::bps(0), 0.2);
  lossy.mss = 100;
  MgmtTransportParams patient;
  patient.connect_timeout = sim::Seconds(100);  // SYNs are lost too
  Fixture f(lossy, patient);
  f.connect();
  f.kernel.run_until(sim::Seconds(100));  // SYNs at 0, 1, 3, 7, 15, 31, 63 s until one gets through
  ASSERT_TRUE(f.client && f.client->connected());
  const int64_t sent_at = f.kernel.now().ns();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(f.client->send(bytes(std::to_string(i) + std::string(300, 'x'))));
  f.kernel.run_until(sim::Seconds(300));
  ASSERT_EQ(f.server_events.messages.size(), 50u);
  int64_t previous = 0;
  int late = 0;
  for (int i = 0; i < 50; ++i) {
    const auto& [at, text] = f.server_events.messages[i];
    EXPECT_EQ(text.substr(0, std::to_string(i).size()), std::to_string(i)) << "message " << i << " out of order";
    EXPECT_GE(at, previous);
    previous = at;
    // Unlimited bandwidth: 1 ms latency plus whole retransmission timeouts (200 ms doubling).
    const int64_t extra = at - sent_at - 1'000'000;
    EXPECT_GE(extra, 0);
    if (extra > 0) ++late;
  }
  EXPECT_GT(late, 0);
  EXPECT_GT(f.net.stats(f.host).segments_retransmitted, 0u);
  // Nothing arrives early, and the first message's delay is a sum of 200 ms * 2^k timeouts.
  EXPECT_EQ((f.server_events.messages[0].first - sent_at - 1'000'000) % 200'000'000, 0);
}

TEST(MgmtNetwork, PartitionHoldsMessagesUntilTheHeal) {
  Fixture f(link(sim::Millis(1), sim::DataRate::bps(0)));
  f.connect();
  f.kernel.run_until(sim::Millis(10));
  f.net.set_partitioned(f.host, true);
  ASSERT_TRUE(f.server->send(bytes("delta-1")));
  ASSERT_TRUE(f.client->send(bytes("ack-0")));
  f.kernel.run_until(sim::Millis(510));
  EXPECT_TRUE(f.client_events.messages.empty());
  EXPECT_TRUE(f.server_events.messages.empty());
  f.net.set_partitioned(f.host, false);  // at 510 ms
  f.kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(f.client_events.messages.size(), 1u);
  EXPECT_EQ(f.client_events.messages[0].first, 511'000'000);
  ASSERT_EQ(f.server_events.messages.size(), 1u);
  EXPECT_EQ(f.server_events.messages[0].first, 511'000'000);
  EXPECT_TRUE(f.client_events.disconnects.empty());
  EXPECT_EQ(f.net.stats(f.host).messages_held, 2u);
}

TEST(MgmtNetwork, APartitionLongerThanTheUserTimeoutBreaksBothEnds) {
  MgmtTransportParams transport;
  transport.user_timeout = sim::Seconds(5);
  Fixture f(link(sim::Millis(1)), transport);
  f.connect();
  f.kernel.run_until(sim::Millis(10));
  f.net.set_partitioned(f.host, true);
  ASSERT_TRUE(f.server->send(bytes("delta")));
  f.kernel.run_until(sim::Seconds(20));
  ASSERT_EQ(f.server_events.disconnects.size(), 1u);
  EXPECT_EQ(f.server_events.disconnects[0], std::make_pair(int64_t{5'010'000'000}, DisconnectReason::kTransportError));
  ASSERT_EQ(f.client_events.disconnects.size(), 1u);
  EXPECT_EQ(f.client_events.disconnects[0].second, DisconnectReason::kTransportError);
  EXPECT_FALSE(f.client->connected());
  EXPECT_FALSE(f.client->send(bytes("late")));
  f.net.set_partitioned(f.host, false);
  f.kernel.run_until(sim::Seconds(21));
  EXPECT_TRUE(f.client_events.messages.empty());  // the held message died with the connection
}

TEST(MgmtNetwork, ConnectFailures) {
  MgmtTransportParams transport;
  transport.syn_rto = sim::Seconds(1);
  transport.connect_timeout = sim::Seconds(3);
  Fixture f(link(sim::Millis(2)), transport);
  Events unknown, refused, partitioned;
  auto a = f.connector->connect("nowhere", record(f.kernel, unknown));
  f.net.add_node("host-2", link(sim::Millis(3)));  // no listener there: RST after a round trip
  auto b = f.connector->connect("host-2", record(f.kernel, refused));
  f.kernel.run_until(sim::Millis(100));
  ASSERT_EQ(unknown.disconnects.size(), 1u);
  EXPECT_EQ(unknown.disconnects[0], std::make_pair(int64_t{0}, DisconnectReason::kConnectFailed));
  ASSERT_EQ(refused.disconnects.size(), 1u);
  EXPECT_EQ(refused.disconnects[0], std::make_pair(int64_t{10'000'000}, DisconnectReason::kConnectFailed));

  f.net.set_partitioned(f.host, true);
  auto c = f.connector->connect("controller", record(f.kernel, partitioned));
  f.kernel.run_until(sim::Seconds(10));
  ASSERT_EQ(partitioned.disconnects.size(), 1u);  // SYNs at 0.1 s, 1.1 s; timeout at 3.1 s
  EXPECT_EQ(partitioned.disconnects[0], std::make_pair(int64_t{3'100'000'000}, DisconnectReason::kConnectFailed));
  EXPECT_TRUE(partitioned.connected_at.empty());
  EXPECT_EQ(f.net.stats(f.host).connects_failed, 3u);

  // A listener that is gone refuses (a crashed controller process).
  f.net.set_partitioned(f.host, false);
  f.listener.reset();
  Events after_crash;
  auto d = f.connector->connect("controller", record(f.kernel, after_crash));
  f.kernel.run_until(sim::Seconds(11));
  ASSERT_EQ(after_crash.disconnects.size(), 1u);
  EXPECT_EQ(after_crash.disconnects[0].second, DisconnectReason::kConnectFailed);
}

TEST(MgmtNetwork, CloseDeliversQueuedMessagesThenClosedByPeer) {
  Fixture f(link(sim::Millis(1)));
  f.connect();
  f.kernel.run_until(sim::Millis(10));
  ASSERT_TRUE(f.server->send(bytes("last words")));
  f.server->close();
  EXPECT_FALSE(f.server->connected());
  f.kernel.run_until(sim::Millis(20));
  ASSERT_EQ(f.client_events.messages.size(), 1u);
  ASSERT_EQ(f.client_events.disconnects.size(), 1u);
  EXPECT_EQ(f.client_events.disconnects[0].second, DisconnectReason::kClosedByPeer);
  EXPECT_GE(f.client_events.disconnects[0].first, f.client_events.messages[0].first);
  EXPECT_TRUE(f.server_events.disconnects.empty());  // close() is followed by no callback

  // Destroying a connection is a close too.
  Events second;
  auto again = f.connector->connect("controller", record(f.kernel, second));
  f.kernel.run_until(sim::Millis(30));
  ASSERT_TRUE(again->connected());
  f.server.reset();
  f.kernel.run_until(sim::Millis(40));
  ASSERT_EQ(second.disconnects.size(), 1u);
  EXPECT_EQ(second.disconnects[0].second, DisconnectReason::kClosedByPeer);
}

TEST(MgmtNetwork, ACallbackMayDestroyItsOwnConnection) {
  Fixture f(link(sim::Millis(1)));
  f.connect();
  f.kernel.run_until(sim::Millis(10));
  int delivered = 0;
  platform::ConnectionCallbacks cb;
  cb.on_message = [&](std::span<const uint8_t>) {
    ++delivered;
    f.client.reset();  // destroys the connection running this callback
  };
  f.client->set_callbacks(std::move(cb));
  ASSERT_TRUE(f.server->send(bytes("one")));
  ASSERT_TRUE(f.server->send(bytes("two")));
  f.kernel.run_until(sim::Millis(20));
  EXPECT_EQ(delivered, 1);
  ASSERT_EQ(f.server_events.disconnects.size(), 1u);
  EXPECT_EQ(f.server_events.disconnects[0].second, DisconnectReason::kClosedByPeer);
}

TEST(MgmtNetwork, RunsAreDeterministicForAGivenSeed) {
  auto run = [] {
    MgmtTransportParams patient;
    patient.connect_timeout = sim::Seconds(100);
    Fixture f(link(sim::Millis(1), k8Mbps, 0.2), patient);
    f.connect();
    f.kernel.run_until(sim::Seconds(100));
    for (int i = 0; i < 20; ++i) f.client->send(bytes(std::string(3000, 'x')));
    f.kernel.run_until(sim::Seconds(300));
    std::vector<int64_t> times;
    for (const auto& m : f.server_events.messages) times.push_back(m.first);
    return times;
  };
  const auto first = run();
  EXPECT_EQ(first.size(), 20u);
  EXPECT_EQ(first, run());
}

}  // namespace
}  // namespace models
