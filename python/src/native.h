#pragma once
// segsim._native: the pybind11 bindings of the scenario loader and the steerable Simulation.
// The Python package (python/segsim/) wraps these in its public API; nothing here is meant to be
// called directly by users.

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

namespace scenarios {
struct Scenario;
}

namespace segsim_python {

// The holder of scenarios bound to Python (pybind11 holders cannot be shared_ptr<const T>).
using ScenarioPtr = std::shared_ptr<scenarios::Scenario>;

void bind_scenario(pybind11::module_& m);
void bind_simulation(pybind11::module_& m);

// Raises segsim._native.<type_name>(message) with `exit_code` set as an attribute (the runner's
// convention: 1 runtime failure, 2 bad input). Never returns.
[[noreturn]] void raise_with_code(const char* type_name, const std::string& message, int exit_code);

}  // namespace segsim_python
