#pragma once
// What the agent knows from the controller: the host's IP set table and, per port, the compiled
// rule table and its version. Updates are prepared (decoded, resolved against the IP sets,
// compiled) without touching the store, then committed, so that a bad message changes nothing.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dfw/rules.h"
#include "protocol/messages.h"

namespace agent {

struct PortTable {
  uint64_t version = 0;
  dfw::RuleTablePtr table;
};

// A prepared Snapshot or Delta.
struct Update {
  bool replaces_all = false;  // a Snapshot: sets and ports not named here are dropped
  uint64_t generation = 0;
  std::map<std::string, std::vector<dfw::IpPrefix>> added_sets;
  std::vector<std::string> removed_sets;
  std::map<dfw::PortId, PortTable> ports;  // to install
  std::vector<dfw::PortId> removed_ports;  // known ports the update removes
};

class RuleStore {
 public:
  bool prepare_snapshot(const protocol::pb::Snapshot& snapshot, Update& update, std::string& error) const;
  bool prepare_delta(const protocol::pb::Delta& delta, Update& update, std::string& error) const;
  void commit(Update& update);

  const std::map<dfw::PortId, PortTable>& ports() const { return ports_; }
  std::size_t ip_set_count() const { return ip_sets_.size(); }

 private:
  // Decodes one port's rules, fills in the IP sets they name (from `added` first, then the
  // store) and compiles them.
  bool prepare_port(const protocol::pb::PortRules& rules,
                    const std::map<std::string, std::vector<dfw::IpPrefix>>& added,
                    bool use_store_sets, PortTable& out, std::string& error) const;

  std::map<std::string, std::vector<dfw::IpPrefix>> ip_sets_;
  std::map<dfw::PortId, PortTable> ports_;
};

}  // namespace agent
