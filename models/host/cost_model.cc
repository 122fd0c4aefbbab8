// Calibration files: YAML with a `machine` map and a `coefficients` map (all keys required in
// `coefficients`, none unknown anywhere, so a typo never silently becomes a zero cost).

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iomanip>
#include <sstream>
#include <vector>

#include "models/cost_model.h"

#ifndef SEGSIM_MODELS_CALIBRATION_DIR
#error "SEGSIM_MODELS_CALIBRATION_DIR must be defined by the build"
#endif

namespace models {

namespace {

struct CoefficientField {
  const char* key;
  double CostCoefficients::*member;
};

constexpr CoefficientField kCoefficientFields[] = {
    {"base", &CostCoefficients::base},
    {"per_byte_parsed", &CostCoefficients::per_byte_parsed},
    {"per_hash_probe", &CostCoefficients::per_hash_probe},
    {"per_classifier_step", &CostCoefficients::per_classifier_step},
    {"per_connection_created", &CostCoefficients::per_connection_created},
    {"per_connection_destroyed", &CostCoefficients::per_connection_destroyed},
    {"per_frame_generated", &CostCoefficients::per_frame_generated},
    {"per_extra_segment", &CostCoefficients::per_extra_segment},
    {"per_wire_byte", &CostCoefficients::per_wire_byte},
};

std::string where(const std::string& path, const YAML::Node& node, const std::string& field) {
  const YAML::Mark mark = node.Mark();
  return path + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
         ": " + field + ": ";
}

bool read_map(const std::string& path, const YAML::Node& node, const std::string& field,
              const std::vector<std::string>& allowed, std::string& error) {
  if (!node.IsMap()) {
    error = where(path, node, field) + "expected a map";
    return false;
  }
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (!known) {
      error = where(path, item.first, field + "." + key) + "unknown key";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string default_calibration_path() {
  return std::string(SEGSIM_MODELS_CALIBRATION_DIR) + "/default.yaml";
}

bool load_calibration(const std::string& path, Calibration& out, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    error = path + ": cannot open calibration file";
    return false;
  } catch (const YAML::ParserException& e) {
    error = path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
            ": " + e.msg;
    return false;
  }
  Calibration result;
  if (!read_map(path, root, "calibration", {"machine", "coefficients", "fit"}, error)) return false;
  try {
    if (const YAML::Node machine = root["machine"]) {
      if (!read_map(path, machine, "machine", {"cpu_model", "clock_hz", "measured_at", "method"},
                    error))
        return false;
      if (machine["cpu_model"]) result.machine.cpu_model = machine["cpu_model"].as<std::string>();
      if (machine["measured_at"]) result.machine.measured_at = machine["measured_at"].as<std::string>();
      if (machine["method"]) result.machine.method = machine["method"].as<std::string>();
      if (machine["clock_hz"]) result.machine.clock_hz = machine["clock_hz"].as<uint64_t>();
    }
    if (const YAML::Node fit = root["fit"]) {
      if (!read_map(path, fit, "fit", {"sample_count", "r_squared"}, error)) return false;
      if (fit["sample_count"]) result.sample_count = fit["sample_count"].as<uint64_t>();
      if (fit["r_squared"]) result.r_squared = fit["r_squared"].as<double>();
    }
    const YAML::Node coefficients = root["coefficients"];
    if (!coefficients) {
      error = where(path, root, "coefficients") + "missing";
      return false;
    }
    std::vector<std::string> keys;
    for (const auto& f : kCoefficientFields) keys.emplace_back(f.key);
    if (!read_map(path, coefficients, "coefficients", keys, error)) return false;
    for (const auto& f : kCoefficientFields) {
      const YAML::Node value = coefficients[f.key];
      const std::string field = std::string("coefficients.") + f.key;
      if (!value) {
        error = where(path, coefficients, field) + "missing";
        return false;
      }
      double v = 0;
      try {
        v = value.as<double>();
      } catch (const YAML::Exception&) {
        error = where(path, value, field) + "expected a number of cycles";
        return false;
      }
      if (!std::isfinite(v) || v < 0) {
        error = where(path, value, field) + "must be a finite number >= 0";
        return false;
      }
      result.coefficients.*(f.member) = v;
    }
  } catch (const YAML::Exception& e) {
    error = path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
            ": " + e.msg;
    return false;
  }
  out = result;
  return true;
}

bool save_calibration(const std::string& path, const Calibration& calibration, std::string& error) {
  std::ostringstream text;
  text << std::setprecision(6);
  text << "# segsim cost-model calibration (see docs/cost-model.md).\n";
  text << "machine:\n";
  text << "  cpu_model: " << YAML::Dump(YAML::Node(calibration.machine.cpu_model)) << "\n";
  text << "  clock_hz: " << calibration.machine.clock_hz << "\n";
  text << "  measured_at: " << YAML::Dump(YAML::Node(calibration.machine.measured_at)) << "\n";
  text << "  method: " << YAML::Dump(YAML::Node(calibration.machine.method)) << "\n";
  text << "fit:\n";
  text << "  sample_count: " << calibration.sample_count << "\n";
  text << "  r_squared: " << calibration.r_squared << "\n";
  text << "coefficients:  # cycles\n";
  for (const auto& f : kCoefficientFields)
    text << "  " << f.key << ": " << calibration.coefficients.*(f.member) << "\n";
  std::ofstream file(path, std::ios::trunc);
  if (!file) {
    error = path + ": cannot write calibration file";
    return false;
  }
  file << text.str();
  file.close();
  if (!file) {
    error = path + ": error while writing calibration file";
    return false;
  }
  return true;
}

}  // namespace models
