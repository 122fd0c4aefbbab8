#pragma once
// An in-memory platform::Channel for tests, on a ManualLoop: every message and connection event
// takes `latency`; messages on one connection keep their order. The test can cut a client off
// (`set_partitioned`: its messages and connection attempts vanish silently, as in a network
// partition, so only heartbeats notice) and listeners come and go like a controller process.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "manual_loop.h"
#include "platform/channel.h"

namespace controlplane_test {

class MemoryListener;

class MemoryNetwork {
 public:
  MemoryNetwork(ManualLoop& loop, Nanos latency) : loop_(loop), latency_(latency) {}

  // A listener at `address`; destroying it refuses later connection attempts.
  std::unique_ptr<platform::ChannelListener> listen(const std::string& address);
  // A connector for the client called `name` (used by set_partitioned and as its peer name).
  std::unique_ptr<platform::ChannelConnector> connector(const std::string& name);
  void set_partitioned(const std::string& client, bool partitioned);
  bool partitioned(const std::string& client) const { return partitioned_.contains(client); }

  ManualLoop& loop() { return loop_; }
  Nanos latency() const { return latency_; }
  MemoryListener* listener_at(const std::string& address);
  void unregister(const std::string& address) { listeners_.erase(address); }

 private:
  friend class MemoryListener;
  ManualLoop& loop_;
  Nanos latency_;
  std::map<std::string, MemoryListener*> listeners_;
  std::set<std::string> partitioned_;
};

}  // namespace controlplane_test
