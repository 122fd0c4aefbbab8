#pragma once
// DatapathDriver: the thin driver binding the pure Datapath core to a platform::Env.
//
// It reads the clock for each call, keeps one platform Timer armed at the core's next expiry
// deadline (calling Datapath::expire when it fires), hands the core Env::frames for the frames
// reject rules generate, logs the decisions of rules with the logging flag to Env::log, and
// publishes the datapath's counters to Env::metrics. Every call is
// made from the environment's single driving thread. The driver does not own the Datapath.

#include <cstdint>
#include <span>
#include <vector>

#include "dfw/datapath.h"
#include "platform/platform.h"

namespace dfw {

class DatapathDriver {
 public:
  DatapathDriver(Datapath& datapath, platform::Env& env);
  ~DatapathDriver();
  DatapathDriver(const DatapathDriver&) = delete;
  DatapathDriver& operator=(const DatapathDriver&) = delete;

  Result process(PortId port, Direction direction, const PacketView& packet);
  void process_batch(PortId port, Direction direction, std::span<const PacketView> packets,
                     std::span<Result> results);

  // Configuration calls that take `now` from the clock and may change the next deadline.
  Status install_rules(PortId port, RuleTablePtr rules);
  Status import_port(PortId port, std::span<const uint8_t> blob, RuleTablePtr rules);
  Status export_port(PortId port, std::vector<uint8_t>& blob) const;

  // Runs expiry now (also what the timer does) and re-arms the timer.
  void run_expiry();
  // Publishes counters and gauges under "dfw." to Env::metrics.
  void publish_metrics();

  Datapath& datapath() { return datapath_; }
  int64_t armed_deadline() const { return armed_deadline_; }

 private:
  void arm(int64_t deadline);
  void after_packets(int64_t now, bool created);
  // Writes one Env::log line for a packet decided by a rule with its logging flag set.
  void log_decision(PortId port, Direction direction, const Result& result);

  Datapath& datapath_;
  platform::Env& env_;
  platform::TimerPtr timer_;
  int64_t armed_deadline_ = INT64_MAX;
  int64_t shortest_timeout_;
};

}  // namespace dfw
