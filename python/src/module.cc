// The segsim._native extension module: exception types, then the bindings.

#include <string>

#include "native.h"

namespace py = pybind11;

namespace segsim_python {

void raise_with_code(const char* type_name, const std::string& message, int exit_code) {
  py::object type = py::module_::import("segsim._native").attr(type_name);
  py::object exception = type(message);
  exception.attr("exit_code") = exit_code;
  PyErr_SetObject(type.ptr(), exception.ptr());
  throw py::error_already_set();
}

}  // namespace segsim_python

PYBIND11_MODULE(_native, m) {
  m.doc() = "segsim native bindings (use the segsim package, not this module)";
  // Bad scenario input: the message is the loader's diagnostics, one "file:line:column: error: ..." per line.
  m.attr("ScenarioError") = py::reinterpret_steal<py::object>(
      PyErr_NewException("segsim._native.ScenarioError", PyExc_ValueError, nullptr));
  // A run that cannot go on (bad action argument, I/O error writing the result): exit_code 1 or 2.
  m.attr("SimulationError") = py::reinterpret_steal<py::object>(
      PyErr_NewException("segsim._native.SimulationError", PyExc_RuntimeError, nullptr));
  segsim_python::bind_scenario(m);
  segsim_python::bind_simulation(m);
}
