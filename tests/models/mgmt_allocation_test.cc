// The management network allocates nothing per message in steady state: flights, their byte
// buffers and the pipes' queues are recycled (mgmt_network.h).

#include <gtest/gtest.h>

#include <array>

#include "allocation_counter.h"
#include "models/mgmt_network.h"

namespace models {
namespace {

TEST(MgmtNetworkAllocation, SteadyStateMessagesAllocateNothing) {
  sim::Kernel kernel(1);
  MgmtNetwork net(kernel);
  MgmtLinkParams link;
  link.latency = sim::Micros(100);
  link.loss = 0.1;  // retransmission delays too
  const auto controller = net.add_node("controller", link);
  const auto host = net.add_node("host-1", link);
  auto listener = net.listen(controller);
  platform::ConnectionPtr server;
  uint64_t received = 0, bytes = 0;
  listener->set_accept_handler([&](platform::ConnectionPtr c) {
    platform::ConnectionCallbacks cb;
    cb.on_message = [&](std::span<const uint8_t> m) {
      ++received;
      bytes += m.size();
      server->send(m);  // echo
    };
    c->set_callbacks(std::move(cb));
    server = std::move(c);
  });
  auto connector = net.connector(host);
  uint64_t echoed = 0;
  platform::ConnectionCallbacks cb;
  cb.on_message = [&](std::span<const uint8_t>) { ++echoed; };
  auto client = connector->connect("controller", std::move(cb));
  kernel.run_until(sim::Seconds(30));
  ASSERT_TRUE(client->connected());
  std::array<uint8_t, 3000> message{};
  auto burst = [&] {
    for (int i = 0; i < 50; ++i) client->send(message);
    kernel.run_until(kernel.now() + sim::Seconds(60));
  };
  burst();  // warm-up: buffers and queues reach their size
  const uint64_t before = segsim::testing::allocation_count();
  burst();
  burst();
  EXPECT_EQ(segsim::testing::allocation_count() - before, 0u);
  EXPECT_EQ(received, 150u);
  EXPECT_EQ(echoed, 150u);
  EXPECT_EQ(bytes, 150u * message.size());
}

}  // namespace
}  // namespace models
