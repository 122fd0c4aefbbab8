// `segsim calibrate -o FILE [--rules 10,100,...] [--flows 1000,...] [--sweeps N] [--repetitions N]`:
// runs the real dfw library natively over a sweep, fits the cost model and writes a calibration
// file naming this machine. Only this command measures time; simulations use its output.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "models/calibrate.h"
#include "options.h"

namespace segsim::cli {
namespace {

bool parse_counts(const std::string& text, const char* option, std::vector<uint32_t>& out) {
  out.clear();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      std::size_t used = 0;
      const unsigned long v = std::stoul(item, &used);
      if (used != item.size() || v == 0 || v > 10'000'000) throw std::out_of_range(item);
      out.push_back(static_cast<uint32_t>(v));
    } catch (const std::exception&) {
      std::cerr << "segsim calibrate: --" << option << ": '" << item
                << "' is not a count (expected positive integers separated by commas)\n";
      return false;
    }
  }
  return !out.empty();
}

}  // namespace

int calibrate_command(int argc, char** argv) {
  po::options_description options("calibrate options");
  std::string output, rules = "10,100,1000,5000", flows = "1000,20000";
  models::CalibrationOptions c;
  options.add_options()
      ("output,o", po::value(&output)->required(), "calibration file to write (YAML)")
      ("rules", po::value(&rules), "rules per port, one sweep point each (comma-separated)")
      ("flows", po::value(&flows), "live connections, one sweep point each (comma-separated)")
      ("sweeps", po::value(&c.sweeps), "whole sweeps, pooled (default 3)")
      ("repetitions", po::value(&c.repetitions), "timed runs per sample; the fastest is kept (default 5)")
      ("clock-hz", po::value(&c.clock_hz), "nominal clock in Hz (default: from /proc/cpuinfo)")
      ("quiet,q", "print nothing but errors");
  po::positional_options_description positional;
  po::variables_map vm;
  int exit_code = kExitOk;
  if (!parse_options(argc, argv, "segsim calibrate -o FILE [--rules LIST] [--flows LIST] [--sweeps N]", options,
                     positional, vm, exit_code)) {
    return exit_code;
  }
  if (!parse_counts(rules, "rules", c.rule_counts) || !parse_counts(flows, "flows", c.flow_counts)) {
    return kExitBadInput;
  }
  const bool quiet = vm.count("quiet") != 0;
  if (!quiet) c.progress = [](std::string_view line) { std::cerr << "  " << line << "\n"; };

  models::Calibration calibration;
  std::string error;
  if (!models::calibrate(c, calibration, error)) {
    std::cerr << "segsim calibrate: " << error << "\n";
    return kExitBadInput;
  }
  if (!models::save_calibration(output, calibration, error)) {
    std::cerr << "segsim calibrate: " << error << "\n";
    return kExitFailure;
  }
  if (!quiet) {
    const models::CostCoefficients& k = calibration.coefficients;
    std::cout << "calibrated on " << calibration.machine.cpu_model << " (" << calibration.machine.clock_hz
              << " Hz), " << calibration.sample_count << " samples, R^2 " << calibration.r_squared << "\n"
              << "  base " << k.base << ", per hash probe " << k.per_hash_probe << ", per classifier step "
              << k.per_classifier_step << ", per connection created " << k.per_connection_created
              << ", destroyed " << k.per_connection_destroyed << ", per generated frame " << k.per_frame_generated
              << " (cycles)\nwrote " << output << "\n";
  }
  return kExitOk;
}

}  // namespace segsim::cli
