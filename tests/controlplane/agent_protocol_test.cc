// One side of the protocol against a scripted peer: the test plays the controller (or the
// agent) by hand, to send what a correct peer never would.

#include "control_plane_fixture.h"
#include "protocol/convert.h"

namespace controlplane_test {
namespace {

namespace pb = protocol::pb;

// A peer driven by the test: records what it receives, sends what it is told.
struct ScriptedPeer {
  platform::ConnectionPtr connection;
  std::vector<pb::ControlMessage> received;
  bool disconnected = false;
  platform::ConnectionCallbacks callbacks() {
    platform::ConnectionCallbacks c;
    c.on_message = [this](std::span<const uint8_t> bytes) {
      pb::ControlMessage m;
      std::string error;
      EXPECT_EQ(protocol::decode(bytes, m, error), protocol::DecodeStatus::kOk) << error;
      received.push_back(m);
    };
    c.on_disconnected = [this](platform::DisconnectReason, std::string_view) { disconnected = true; };
    return c;
  }
  void send(pb::ControlMessage message) { ASSERT_TRUE(connection->send(protocol::encode(message))); }
  std::vector<const pb::ControlMessage*> of(pb::ControlMessage::BodyCase kind) const {
    std::vector<const pb::ControlMessage*> out;
    for (const auto& m : received) if (m.body_case() == kind) out.push_back(&m);
    return out;
  }
};

class ScriptedControllerTest : public ControlPlaneTest {
 protected:
  void SetUp() override {
    listener_ = network_.listen(kControllerAddress);
    listener_->set_accept_handler([this](platform::ConnectionPtr c) {
      peer_.connection = std::move(c);
      peer_.connection->set_callbacks(peer_.callbacks());
    });
  }

  // A snapshot for port 1 allowing tcp/8080 towards the set `set_name` (sent with `sent_set`).
  static pb::ControlMessage snapshot(uint64_t generation, const std::string& set_name,
                                     const std::string& sent_set, const char* member) {
    dfw::RuleSetSpec spec;
    spec.version = generation;
    dfw::RuleSpec rule;
    rule.id = 1;
    rule.destination_sets = {set_name};
    rule.protocol = dfw::kProtoTcp;
    rule.destination_ports = {8080, 8080};
    rule.direction = dfw::RuleDirection::kOut;
    spec.sections = {{"application", {rule}}};
    pb::ControlMessage m;
    pb::Snapshot* s = m.mutable_snapshot();
    s->set_generation(generation);
    pb::PortRules* port = s->add_ports();
    port->set_port(1);
    protocol::to_proto(spec, port->mutable_rules());
    dfw::IpPrefix p;
    EXPECT_TRUE(controller::parse_address(member, p));
    protocol::to_proto(sent_set, {p}, s->add_ip_sets());
    return m;
  }

  ScriptedPeer peer_;
};

TEST_F(ScriptedControllerTest, AgentSaysHelloAndAcksASnapshot) {
  add_host("h1");
  loop_.run_for(10 * kMs);
  ASSERT_EQ(peer_.received.size(), 1u);
  EXPECT_EQ(peer_.received[0].hello().host(), "h1");
  EXPECT_EQ(peer_.received[0].hello().last_applied_generation(), 0u);

  peer_.send(snapshot(7, "s", "s", "10.0.0.2"));
  loop_.run_for(10 * kMs);
  auto acks = peer_.of(pb::ControlMessage::kAck);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0]->ack().generation(), 7u);
  EXPECT_TRUE(acks[0]->ack().error().empty());
  ASSERT_EQ(acks[0]->ack().ports_size(), 1);
  EXPECT_EQ(acks[0]->ack().ports(0).version(), 7u);
  EXPECT_EQ(syn("h1", 1, dfw::Direction::kEgress, "10.0.0.1", "10.0.0.2", 8080), dfw::Verdict::kAllow);
}

TEST_F(ScriptedControllerTest, BadSnapshotIsRefusedAndTheOldRulesStay) {
  add_host("h1");
  loop_.run_for(10 * kMs);
  peer_.send(snapshot(7, "s", "s", "10.0.0.2"));
  loop_.run_for(10 * kMs);

  // Names a set it does not send: nothing of it may be applied.
  peer_.send(snapshot(8, "missing", "other", "10.0.0.9"));
  loop_.run_for(10 * kMs);
  auto acks = peer_.of(pb::ControlMessage::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1]->ack().generation(), 8u);
  EXPECT_EQ(acks[1]->ack().error(),
            "snapshot: port 1: names ip_set \"missing\", which the controller never sent");
  EXPECT_EQ(host("h1").agent->status().applied_generation, 7u);
  EXPECT_EQ(host("h1").agent->status().apply_errors, 1u);
  EXPECT_EQ(syn("h1", 1, dfw::Direction::kEgress, "10.0.0.1", "10.0.0.2", 8080), dfw::Verdict::kAllow);
  EXPECT_EQ(syn("h1", 1, dfw::Direction::kEgress, "10.0.0.1", "10.0.0.9", 8080), dfw::Verdict::kDrop);
}

TEST_F(ScriptedControllerTest, DeltaOnTheWrongBaseIsRefused) {
  add_host("h1");
  loop_.run_for(10 * kMs);
  peer_.send(snapshot(7, "s", "s", "10.0.0.2"));
  loop_.run_for(10 * kMs);
  pb::ControlMessage delta;
  delta.mutable_delta()->set_base_generation(5);
  delta.mutable_delta()->set_generation(9);
  delta.mutable_delta()->add_removed_ports(1);
  peer_.send(delta);
  loop_.run_for(10 * kMs);
  auto acks = peer_.of(pb::ControlMessage::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1]->ack().error(), "delta based on generation 5, but generation 7 is applied");
  EXPECT_TRUE(host("h1").datapath.has_port(1));
}

TEST_F(ScriptedControllerTest, SilentControllerIsAbandonedAndRulesStay) {
  add_host("h1");
  loop_.run_for(10 * kMs);
  peer_.send(snapshot(7, "s", "s", "10.0.0.2"));
  loop_.run_for(10 * kMs);
  // The scripted controller never answers heartbeats. The agent checks at each 1 s heartbeat
  // tick; silence beyond 3 s is noticed at the 4 s tick, not before.
  loop_.run_for(3500 * kMs);
  EXPECT_FALSE(peer_.disconnected);
  loop_.run_for(1000 * kMs);
  EXPECT_TRUE(peer_.disconnected);
  EXPECT_EQ(host("h1").agent->status().disconnections, 1u);
  EXPECT_EQ(peer_.of(pb::ControlMessage::kHeartbeat).size(), 3u);  // at 1 s, 2 s and 3 s
  EXPECT_EQ(syn("h1", 1, dfw::Direction::kEgress, "10.0.0.1", "10.0.0.2", 8080), dfw::Verdict::kAllow);
}

// The controller side against a hand-written agent.
class ScriptedAgentTest : public ControlPlaneTest {
 protected:
  void connect() {
    connector_ = network_.connector("rogue");
    agent_.connection = connector_->connect(kControllerAddress, agent_.callbacks());
    loop_.run_for(5 * kMs);
  }
  std::unique_ptr<platform::ChannelConnector> connector_;
  ScriptedPeer agent_;
};

TEST_F(ScriptedAgentTest, OtherProtocolVersionGetsAnErrorAndIsClosed) {
  start_controller(policy(kPolicy), estate());
  connect();
  pb::ControlMessage hello;
  hello.set_protocol_version(2);
  hello.mutable_hello()->set_host("h1");
  std::string bytes = hello.SerializeAsString();
  ASSERT_TRUE(agent_.connection->send({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}));
  loop_.run_for(10 * kMs);
  ASSERT_EQ(agent_.received.size(), 1u);
  EXPECT_EQ(agent_.received[0].error().message(),
            "protocol version 2 is not supported; this side speaks version 1");
  EXPECT_EQ(agent_.received[0].error().supported_version(), 1u);
  EXPECT_TRUE(agent_.disconnected);
  EXPECT_EQ(service().totals().rejected_connections, 1u);
  EXPECT_EQ(service().agent("h1"), nullptr);
}

TEST_F(ScriptedAgentTest, AckBeforeHelloIsRefused) {
  start_controller(policy(kPolicy), estate());
  connect();
  pb::ControlMessage ack;
  ack.mutable_ack()->set_generation(1);
  agent_.send(ack);
  loop_.run_for(10 * kMs);
  ASSERT_EQ(agent_.received.size(), 1u);
  EXPECT_EQ(agent_.received[0].error().message(), "expected Hello first, got ack");
  EXPECT_TRUE(agent_.disconnected);
}

TEST_F(ScriptedAgentTest, RefusedSnapshotIsResentLaterNotInALoop) {
  start_controller(policy(kPolicy), estate());
  connect();
  pb::ControlMessage hello;
  hello.mutable_hello()->set_host("h2");
  agent_.send(hello);
  loop_.run_for(10 * kMs);
  ASSERT_EQ(agent_.of(pb::ControlMessage::kSnapshot).size(), 1u);
  pb::ControlMessage ack;
  ack.mutable_ack()->set_generation(1);
  ack.mutable_ack()->set_error("could not compile");
  agent_.send(ack);
  loop_.run_for(10 * kMs);
  // The same state would be refused again: no immediate resend...
  EXPECT_EQ(agent_.of(pb::ControlMessage::kSnapshot).size(), 1u);
  // ...but one at the next heartbeat check (1 s after the connection).
  loop_.run_for(1 * kSecond);
  auto snapshots = agent_.of(pb::ControlMessage::kSnapshot);
  ASSERT_EQ(snapshots.size(), 2u);
  EXPECT_EQ(snapshots[1]->snapshot().ports_size(), 1);
  EXPECT_EQ(snapshots[1]->snapshot().ports(0).port(), 2u);
  EXPECT_EQ(service().agent("h2")->snapshots, 2u);
  EXPECT_EQ(service().agent("h2")->state, controller::AgentState::kSyncing);
}

TEST_F(ScriptedAgentTest, AfterARefusedSnapshotAChangeComesAsASnapshot) {
  start_controller(policy(kPolicy), estate());
  connect();
  pb::ControlMessage hello;
  hello.mutable_hello()->set_host("h2");
  agent_.send(hello);
  loop_.run_for(10 * kMs);
  pb::ControlMessage ack;
  ack.mutable_ack()->set_generation(1);
  ack.mutable_ack()->set_error("could not compile");
  agent_.send(ack);
  loop_.run_for(10 * kMs);
  dfw::Status error;
  const controller::ChangeId id = service().set_labels(3, {{"role", "cache"}}, error);
  ASSERT_NE(id, 0u) << error.message();
  loop_.run_for(10 * kMs);
  EXPECT_TRUE(agent_.of(pb::ControlMessage::kDelta).empty());
  auto snapshots = agent_.of(pb::ControlMessage::kSnapshot);
  ASSERT_EQ(snapshots.size(), 2u);
  EXPECT_EQ(snapshots[1]->snapshot().generation(), 2u);
  // The change travelled in that snapshot, and is counted so.
  EXPECT_EQ(service().change(id)->messages, 1u);
  EXPECT_EQ(service().change(id)->bytes, snapshots[1]->ByteSizeLong());
}

}  // namespace
}  // namespace controlplane_test
