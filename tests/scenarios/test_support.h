#pragma once
// Helpers shared by the scenario loader tests.

#include <optional>
#include <string>
#include <vector>

#include "scenarios/loader.h"

namespace scenarios::testing {

inline std::string data_path(const std::string& name) {
  return std::string(SEGSIM_SOURCE_DIR) + "/tests/scenarios/data/" + name;
}

struct LoadResult {
  std::optional<Scenario> scenario;
  Diagnostics diagnostics;
  std::string text;  // formatted diagnostics
};

inline LoadResult load_file(const std::string& path, const std::vector<std::string>& overrides = {}) {
  LoadResult r;
  r.scenario = load_scenario(path, overrides, r.diagnostics);
  r.text = format_diagnostics(r.diagnostics);
  return r;
}

inline LoadResult load_text(const std::string& text, const std::vector<std::string>& overrides = {}) {
  LoadResult r;
  r.scenario = load_scenario_text(text, "inline.yaml", data_path(""), overrides, r.diagnostics);
  r.text = format_diagnostics(r.diagnostics);
  return r;
}

// A small valid scenario that tests extend.
inline constexpr const char* kMinimalScenario = R"(duration: 100ms
topology:
  fabric: {kind: star}
  hosts: [{name: a}, {name: b}]
  vms:
    - {name: vm1, host: a}
    - {name: vm2, host: b}
)";

}  // namespace scenarios::testing
