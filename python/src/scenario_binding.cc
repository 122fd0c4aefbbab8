// Scenario loading for Python: the loader's own validation, its diagnostics raised as
// segsim._native.ScenarioError (one formatted "file:line:column: error: field: message" per line).

#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "native.h"
#include "scenarios/loader.h"
#include "scenarios/scenario.h"
#include "scenarios/units_parse.h"

namespace py = pybind11;

namespace segsim_python {
namespace {

std::vector<std::string> warnings_of(const scenarios::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const scenarios::Diagnostic& d : diagnostics.entries()) {
    if (d.severity == scenarios::Severity::warning) out.push_back(scenarios::format_diagnostic(d));
  }
  return out;
}

// (scenario, warnings) or ScenarioError with every diagnostic.
py::tuple checked(std::optional<scenarios::Scenario> scenario, scenarios::Diagnostics& diagnostics) {
  diagnostics.sort_by_location();
  if (!scenario) {
    std::string message = scenarios::format_diagnostics(diagnostics);
    if (!message.empty() && message.back() == '\n') message.pop_back();
    if (message.empty()) message = "the scenario is invalid";
    raise_with_code("ScenarioError", message, 2);
  }
  return py::make_tuple(std::make_shared<scenarios::Scenario>(std::move(*scenario)), warnings_of(diagnostics));
}

py::list names_of(const auto& specs) {
  py::list out;
  for (const auto& spec : specs) out.append(spec.name);
  return out;
}

}  // namespace

void bind_scenario(py::module_& m) {
  py::class_<scenarios::Scenario, ScenarioPtr>(m, "Scenario")
      .def_property_readonly("name", [](const scenarios::Scenario& s) { return s.name; })
      .def_property_readonly("description", [](const scenarios::Scenario& s) { return s.description; })
      .def_property_readonly("source_path", [](const scenarios::Scenario& s) { return s.source_path; })
      .def_property_readonly("source_text", [](const scenarios::Scenario& s) { return s.source_text; })
      .def_property_readonly("effective_yaml", [](const scenarios::Scenario& s) { return s.effective_yaml; })
      .def_property_readonly("duration_ns", [](const scenarios::Scenario& s) { return s.duration.ns(); })
      .def_property_readonly("seed", [](const scenarios::Scenario& s) { return s.seed; })
      .def_property_readonly("output_path", [](const scenarios::Scenario& s) { return s.outputs.path; })
      .def_property_readonly("hosts", [](const scenarios::Scenario& s) { return names_of(s.hosts); })
      .def_property_readonly("vms", [](const scenarios::Scenario& s) { return names_of(s.vms); })
      .def_property_readonly("timeline_actions", [](const scenarios::Scenario& s) {
        py::list out;
        for (const auto& event : s.timeline) out.append(py::make_tuple(event.at.ns(), event.action));
        return out;
      });

  m.def(
      "load_scenario",
      [](const std::string& path, const std::vector<std::string>& overrides) {
        scenarios::Diagnostics diagnostics;
        auto scenario = scenarios::load_scenario(path, overrides, diagnostics);
        return checked(std::move(scenario), diagnostics);
      },
      py::arg("path"), py::arg("overrides"),
      "Loads and validates a scenario file; returns (scenario, warnings) or raises ScenarioError.");

  m.def(
      "load_scenario_text",
      [](const std::string& text, const std::string& display_name, const std::string& base_directory,
         const std::vector<std::string>& overrides) {
        scenarios::Diagnostics diagnostics;
        auto scenario = scenarios::load_scenario_text(text, display_name, base_directory, overrides, diagnostics);
        return checked(std::move(scenario), diagnostics);
      },
      py::arg("text"), py::arg("display_name"), py::arg("base_directory"), py::arg("overrides"),
      "Loads and validates scenario YAML held in memory; returns (scenario, warnings) or raises ScenarioError.");

  m.def(
      "parse_duration",
      [](const std::string& text) {
        auto parsed = scenarios::parse_duration(text, scenarios::ZeroIs::allowed);
        if (!parsed) throw py::value_error("'" + text + "': " + parsed.error);
        return parsed.value->ns();
      },
      py::arg("text"), "A duration written as in scenarios ('500ms', '1.5us') in nanoseconds.");
}

}  // namespace segsim_python
