#pragma once
// Timeline actions by name. The scenario's timeline, Python's sim.migrate / sim.fail_host / ...
// and any other driver of a run change the world through the same handlers, so an action means
// the same thing whoever asks for it.
//
// A handler runs at the current simulated time. It returns false (with `error` saying why) only
// for a request that cannot be carried out as given (an unknown VM, a malformed argument); a
// request that the world's state makes moot (migrating a VM that died in a host crash) is
// carried out as far as it makes sense and recorded by the feature, not an error.

#include <functional>
#include <map>
#include <string>

#include "scenarios/scenario.h"

namespace scenarios {

using ActionHandler = std::function<bool(const TimelineEvent& event, std::string& error)>;

class ActionTable {
 public:
  // Registers `name`; registering the same name twice is a programming error (aborts).
  void add(const std::string& name, ActionHandler handler);
  const ActionHandler* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }

 private:
  std::map<std::string, ActionHandler> handlers_;
};

}  // namespace scenarios
