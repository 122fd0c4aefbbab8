#pragma once
// Shared fixture for datapath tests: one datapath, port 1 for the VM 10.0.0.1 / 2001:db8::1,
// the peer 10.0.0.2 / 2001:db8::2, a frame sink that keeps what it is given, and distinct
// per-state timeouts so tests can tell states apart by deadlines.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dfw/datapath.h"
#include "frame_builder.h"
#include "test_rule_table.h"

namespace dfw::testing {

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t kT0 = 1000 * kSecond;
inline const std::string kVm = "10.0.0.1";
inline const std::string kPeer = "10.0.0.2";

struct CapturedFrame {
  uint32_t port;
  bool toward_vm;
  Bytes bytes;
};

class CapturingFrames final : public platform::FrameSink {
 public:
  void transmit(uint32_t port, bool toward_vm, const uint8_t* frame, uint32_t size) override {
    frames.push_back({port, toward_vm, Bytes(frame, frame + size)});
  }
  std::vector<CapturedFrame> frames;
};

inline Timeouts distinct_timeouts() {
  Timeouts t;
  t.tcp_syn_sent = 11 * kSecond;
  t.tcp_syn_recv = 12 * kSecond;
  t.tcp_established = 13 * kSecond;
  t.tcp_fin_wait = 14 * kSecond;
  t.tcp_close_wait = 15 * kSecond;
  t.tcp_last_ack = 16 * kSecond;
  t.tcp_time_wait = 17 * kSecond;
  t.tcp_close = 18 * kSecond;
  t.udp_unreplied = 21 * kSecond;
  t.udp_replied = 22 * kSecond;
  t.icmp = 23 * kSecond;
  t.fragment = 24 * kSecond;
  return t;
}

class DatapathTest : public ::testing::Test {
 protected:
  DatapathTest() { config.timeouts = distinct_timeouts(); }

  // Allow everything by default unless a test installs its own table.
  void start(RuleTablePtr rules = make_table({}, Action::kAllow)) {
    dp = std::make_unique<Datapath>(config);
    dp->set_frame_sink(&frames);
    ASSERT_TRUE(dp->add_port(1, std::move(rules)));
  }
  Result egress(const Bytes& f, int64_t now = kT0) {
    return dp->process(1, Direction::kEgress, view(f), now);
  }
  Result ingress(const Bytes& f, int64_t now = kT0) {
    return dp->process(1, Direction::kIngress, view(f), now);
  }
  // The state name of the connection `f` belongs to (seen on `d`), or "none".
  std::string state_of(const Bytes& f, Direction d = Direction::kEgress, int64_t now = kT0) {
    ConnectionInfo info;
    if (!dp->lookup_connection(1, d, view(f), now, info)) return "none";
    return std::string(info.state);
  }
  int64_t deadline_of(const Bytes& f, Direction d = Direction::kEgress, int64_t now = kT0) {
    ConnectionInfo info;
    if (!dp->lookup_connection(1, d, view(f), now, info)) return -1;
    return info.deadline;
  }
  uint64_t drops(DropReason r) const {
    return dp->port_counters(1)->drops_by_reason[static_cast<std::size_t>(r)];
  }

  DatapathConfig config;
  std::unique_ptr<Datapath> dp;
  CapturingFrames frames;
};

}  // namespace dfw::testing
