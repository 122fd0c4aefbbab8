#pragma once
// Names and constants of the segsim result-file format (docs/results.md is the prose version).
// Writers, readers, `segsim inspect` and `segsim compare` use these instead of string literals so
// that a rename happens in one place.

#include <cstdint>

namespace analysis::format {

// /meta identifies the file: a file without /meta or without these attributes is not a result.
inline constexpr const char* kMetaGroup = "/meta";
inline constexpr const char* kFormatKey = "format";
inline constexpr const char* kFormatName = "segsim-result";
inline constexpr const char* kFormatVersionKey = "format_version";
// Bump when a reader of the previous version would misread a file of the new one.
inline constexpr int64_t kFormatVersion = 1;

// /meta attributes written by the run driver (the writer records the two version keys itself).
inline constexpr const char* kSegsimVersionKey = "segsim_version";
inline constexpr const char* kGitRevisionKey = "git_revision";
inline constexpr const char* kScenarioNameKey = "scenario_name";
inline constexpr const char* kScenarioPathKey = "scenario_path";
inline constexpr const char* kScenarioTextKey = "scenario_text";          // the file as given
inline constexpr const char* kEffectiveScenarioKey = "effective_scenario";  // after --set, as YAML
inline constexpr const char* kOverridesKey = "overrides";  // the --set arguments, one per line
inline constexpr const char* kSeedKey = "seed";

// The only place of wall-clock (non-reproducible) values. `h5diff --exclude-path /meta/wall`
// of two runs with the same scenario and seed reports no difference.
inline constexpr const char* kWallGroup = "/meta/wall";
inline constexpr const char* kWallStartKey = "start_utc";        // writer created (ISO 8601)
inline constexpr const char* kWallEndKey = "end_utc";            // writer committed (ISO 8601)
inline constexpr const char* kWallSecondsKey = "wall_seconds";   // end - start, seconds

// Every dataset carries this string attribute; "1" means dimensionless.
inline constexpr const char* kUnitsKey = "units";

// A one-row table of headline numbers that `segsim inspect` prints.
inline constexpr const char* kSummaryTable = "/summary";

}  // namespace analysis::format
