#pragma once
// Presenting a Comparison (analysis/compare.h): the aligned table `segsim compare` prints and the
// JUnit XML file CI systems read (one test case per metric).

#include <ostream>
#include <string>

#include "analysis/compare.h"

namespace analysis {

struct ReportOptions {
  bool changes_only = false;  // leave out the metrics that are "ok" and unchanged, or "not present"
};

// Header (both files), notes, one row per metric (metric, units, base, new, change, limit,
// status), the examples of failing metrics and a one-line verdict.
void print_comparison(const Comparison& comparison, const ReportOptions& options, std::ostream& out);

// JUnit XML: one <testsuite name="segsim compare">, one <testcase> per metric (classname
// "segsim.compare.<family>"), <failure> with base, new and limit for a failing metric, <skipped>
// for metrics not present or ignored.
std::string format_junit(const Comparison& comparison);

// Writes format_junit() to `path` atomically (a temporary file renamed into place). False with
// `error` if it cannot.
bool write_junit(const Comparison& comparison, const std::string& path, std::string& error);

// A number for people: integers in full, others with up to 6 significant digits.
std::string format_metric_value(double value);

}  // namespace analysis
