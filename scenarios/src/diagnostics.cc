#include "scenarios/diagnostics.h"

#include <algorithm>
#include <map>

namespace scenarios {

void Diagnostics::error(SourceLocation location, std::string field, std::string message) {
  entries_.push_back({Severity::error, std::move(location), std::move(field), std::move(message)});
  ++error_count_;
}

void Diagnostics::warning(SourceLocation location, std::string field, std::string message) {
  entries_.push_back({Severity::warning, std::move(location), std::move(field), std::move(message)});
}

void Diagnostics::sort_by_location() {
  std::map<std::string, size_t> file_rank;
  for (const Diagnostic& d : entries_) file_rank.emplace(d.location.file, file_rank.size());
  std::stable_sort(entries_.begin(), entries_.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    const size_t ra = file_rank.at(a.location.file);
    const size_t rb = file_rank.at(b.location.file);
    if (ra != rb) return ra < rb;
    if (a.location.line != b.location.line) return a.location.line < b.location.line;
    return a.location.column < b.location.column;
  });
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.location.file;
  if (d.location.line > 0) {
    out += ":" + std::to_string(d.location.line);
    if (d.location.column > 0) out += ":" + std::to_string(d.location.column);
  }
  out += d.severity == Severity::error ? ": error: " : ": warning: ";
  if (!d.field.empty()) out += d.field + ": ";
  out += d.message;
  return out;
}

std::string format_diagnostics(const Diagnostics& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics.entries()) out += format_diagnostic(d) + "\n";
  return out;
}

}  // namespace scenarios
