#include "actions.h"

#include <cstdio>
#include <cstdlib>

namespace scenarios {

void ActionTable::add(const std::string& name, ActionHandler handler) {
  if (!handlers_.emplace(name, std::move(handler)).second) {
    std::fprintf(stderr, "segsim: internal error: timeline action '%s' registered twice\n", name.c_str());
    std::abort();
  }
}

const ActionHandler* ActionTable::find(const std::string& name) const {
  auto it = handlers_.find(name);
  return it == handlers_.end() ? nullptr : &it->second;
}

}  // namespace scenarios
