#pragma once
// Which IP sets one agent holds, counted by the ports that name them. The protocol sends a set's
// contents once per host (not once per port) and tells the agent when a set is no longer used;
// this is the bookkeeping behind that. A change is bracketed by begin()/end(): end() reports the
// sets whose count went from zero to positive (to send) and from positive to zero (to drop), so a
// set one port stops using while another starts is neither sent nor dropped.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/policy.h"

namespace controller {

class IpSetRefs {
 public:
  void clear();
  void begin();
  // Replaces the sets `port` names (sorted, unique).
  void set_port(WorkloadId port, std::vector<std::string> names);
  void remove_port(WorkloadId port);
  // Both sorted.
  void end(std::vector<std::string>& added, std::vector<std::string>& removed);

  bool holds(const std::string& name) const { return refs_.contains(name); }
  std::size_t set_count() const { return refs_.size(); }

 private:
  void adjust(const std::string& name, int delta);

  std::map<WorkloadId, std::vector<std::string>> port_sets_;
  std::map<std::string, uint32_t> refs_;
  std::map<std::string, uint32_t> count_before_;  // names touched since begin(), with their count then
};

}  // namespace controller
