#pragma once
// Problems found in scenario input, collected rather than thrown, so that one run of
// `segsim validate` reports all of them.
//
// Each diagnostic names where (file, 1-based line and column; 0 when unknown), which field
// (a dotted path such as `traffic.0.load`, the same syntax `--set` uses) and what was wrong,
// usually ending in "(expected ...)". format_diagnostic renders it compiler-style:
//
//   quickstart.yaml:12:11: error: topology.fabric.host_link.rate: negative data rate '-10Gbps' (expected a value >= 0)
//
// Problems in a --set override carry the override as their "file":
//
//   --set traffic.7.load=0.5: error: traffic.7: index 7 is out of range (traffic has 2 entries)

#include <cstddef>
#include <string>
#include <vector>

namespace scenarios {

enum class Severity { error, warning };

struct SourceLocation {
  std::string file;  // as the user named it (scenario path, a referenced file, or "--set k=v")
  int line = 0;      // 1-based; 0 when the problem has no position (e.g. unreadable file)
  int column = 0;    // 1-based; 0 when unknown
};

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLocation location;
  std::string field;    // dotted field path; empty for whole-file problems
  std::string message;  // what was wrong and, where it helps, "(expected ...)"
};

class Diagnostics {
 public:
  void error(SourceLocation location, std::string field, std::string message);
  void warning(SourceLocation location, std::string field, std::string message);

  bool has_errors() const { return error_count_ > 0; }
  size_t error_count() const { return error_count_; }
  size_t warning_count() const { return entries_.size() - error_count_; }
  const std::vector<Diagnostic>& entries() const { return entries_; }

  // Orders entries by file (in order of first appearance), then line, then column, keeping
  // the order of entries at the same position.
  void sort_by_location();

 private:
  std::vector<Diagnostic> entries_;
  size_t error_count_ = 0;
};

// "file:line:column: error: field: message" (position parts omitted when unknown).
std::string format_diagnostic(const Diagnostic& diagnostic);
// Every entry, one per line, each line ending in '\n'.
std::string format_diagnostics(const Diagnostics& diagnostics);

}  // namespace scenarios
