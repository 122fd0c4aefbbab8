#pragma once
// The index file of a parameter sweep (`segsim sweep`, docs/sweep.md): one HDF5 file next to the
// points' result files, listing every point with its parameter values, how its run ended, and
// the headline numbers of its /summary, so that a sweep is plotted without opening each result.
//
// Layout (a segsim result file with /meta kind = "sweep-index"):
//   /points       one row per point: point, one string column per parameter (the value as
//                 given), result_path (relative to the index's directory), exit_code (the run's
//                 exit status; -N if killed by signal N), status (ok | failed | killed), error
//                 (the run's last error lines; "" when ok), then every numeric /summary column of
//                 the points' results as float64 (NaN for a point without a result).
//   /parameters   one row per parameter: key, values (as given on the command line).
// A /summary column whose name equals a column before it is left out.

#include <string>
#include <vector>

namespace analysis {

// /meta `kind` of an index file; run results have no `kind`.
inline constexpr const char* kSweepIndexKind = "sweep-index";

struct SweepPoint {
  std::vector<std::string> values;  // one per parameter, in SweepIndex::parameters order
  std::string result_path;          // as the run was told to write it
  int exit_code = 0;                // exit status; -N if killed by signal N
  std::string status;               // "ok", "failed", "killed"
  std::string error;                // empty when ok
};

struct SweepIndex {
  std::string scenario_path;
  std::vector<std::string> parameters;       // keys, e.g. "traffic.0.load"
  std::vector<std::string> parameter_values; // the values as given, e.g. "0.1,0.2"
  std::vector<std::string> common_overrides; // --set applied to every point
  std::vector<SweepPoint> points;            // in point order
};

// Column names of /points that a parameter may not take.
const std::vector<std::string>& sweep_index_reserved_columns();

// Writes the index to `path` atomically (analysis::ResultWriter): a failure or a signal leaves no
// file. Reads /summary of every point whose status is "ok". False with `error` on failure.
bool write_sweep_index(const SweepIndex& index, const std::string& path, std::string& error);

}  // namespace analysis
