// `segsim compare BASE.h5 NEW.h5 [--budget FILE] [--junit OUT.xml]`: regression check for CI.
// Exit 0 within budget, 1 regression, 2 bad input. The logic is analysis/compare.h.

#include <iostream>
#include <string>

#include "analysis/compare.h"
#include "analysis/compare_budget.h"
#include "analysis/compare_report.h"
#include "analysis/result_reader.h"
#include "commands.h"
#include "options.h"

namespace segsim::cli {

int compare_command(int argc, char** argv) {
  po::options_description options("compare options");
  std::string base_path, new_path, budget_path, junit_path;
  options.add_options()
      ("base", po::value(&base_path), "the reference result file (HDF5)")
      ("new", po::value(&new_path), "the result file to check (HDF5)")
      ("budget", po::value(&budget_path), "tolerances per metric (YAML, docs/compare.md); default: built-in")
      ("junit", po::value(&junit_path), "also write JUnit XML, one test case per metric")
      ("changes-only", "print only the metrics that changed or fail")
      ("allow-incompatible", "compare runs of different scenarios or durations anyway")
      ("print-default-budget", "print the built-in budget as a budget file and exit");
  po::positional_options_description positional;
  positional.add("base", 1).add("new", 1);
  po::variables_map vm;
  int exit_code = kExitOk;
  const char* usage = "segsim compare BASE.h5 NEW.h5 [--budget budget.yaml] [--junit out.xml]";
  if (!parse_options(argc, argv, usage, options, positional, vm, exit_code)) return exit_code;
  if (vm.count("print-default-budget")) {
    std::cout << analysis::format_default_budget();
    return kExitOk;
  }
  if (base_path.empty() || new_path.empty()) {
    std::cerr << "segsim compare: expected two result files\nusage: " << usage << "\n";
    return kExitBadInput;
  }

  std::string error;
  analysis::Budget budget;
  if (!budget_path.empty() && !analysis::load_budget(budget_path, budget, error)) {
    std::cerr << "segsim compare: " << error << "\n";
    return kExitBadInput;
  }
  const auto base = analysis::ResultReader::open(base_path, error);
  if (!base) {
    std::cerr << "segsim compare: " << error << "\n";
    return kExitBadInput;
  }
  const auto candidate = analysis::ResultReader::open(new_path, error);
  if (!candidate) {
    std::cerr << "segsim compare: " << error << "\n";
    return kExitBadInput;
  }
  analysis::CompareOptions compare_options;
  compare_options.allow_incompatible = vm.count("allow-incompatible") != 0;
  analysis::Comparison comparison;
  if (!analysis::compare_results(*base, *candidate, budget, compare_options, comparison, error)) {
    std::cerr << "segsim compare: " << error << "\n";
    return kExitBadInput;
  }

  analysis::ReportOptions report_options;
  report_options.changes_only = vm.count("changes-only") != 0;
  analysis::print_comparison(comparison, report_options, std::cout);
  if (!junit_path.empty() && !analysis::write_junit(comparison, junit_path, error)) {
    std::cerr << "segsim compare: " << error << "\n";
    return kExitBadInput;
  }
  return comparison.has_regression() ? kExitFailure : kExitOk;
}

}  // namespace segsim::cli
