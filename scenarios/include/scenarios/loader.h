#pragma once
// Loading and validating a scenario file.
//
// Usage (the `segsim validate` / `segsim run` commands do exactly this):
//
//   scenarios::Diagnostics diagnostics;
//   std::optional<scenarios::Scenario> scenario =
//       scenarios::load_scenario("examples/quickstart.yaml", {"seed=7", "traffic.0.load=0.5"}, diagnostics);
//   std::cerr << scenarios::format_diagnostics(diagnostics);  // errors and warnings, one per line
//   if (!scenario) return 2;                                    // bad input
//
// The loader reads the file, applies the --set overrides to the YAML tree, then validates the
// whole document, collecting every problem instead of stopping at the first: syntax errors,
// unknown keys (with a "did you mean"), values without or with the wrong unit, out-of-range
// numbers, names that do not resolve, duplicate names and addresses, unreadable input files.
// It returns a Scenario only when there is no error; warnings alone do not fail the load.
// The schema is docs/scenario.md.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/diagnostics.h"
#include "scenarios/scenario.h"

namespace scenarios {

// `overrides` are "path.to.key=value" strings as given to --set, applied in order; the path
// uses map keys and list indices ("traffic.0.load"), the value is parsed as YAML. Diagnostics
// name `path` as given.
std::optional<Scenario> load_scenario(const std::filesystem::path& path, const std::vector<std::string>& overrides,
                                      Diagnostics& diagnostics);

// The same for a scenario held in memory (tests, Python). `display_name` appears in
// diagnostics and as source_path; relative input paths resolve against `base_directory`.
std::optional<Scenario> load_scenario_text(std::string_view text, const std::string& display_name,
                                           const std::filesystem::path& base_directory,
                                           const std::vector<std::string>& overrides, Diagnostics& diagnostics);

}  // namespace scenarios
