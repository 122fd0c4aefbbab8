// The steerable Simulation for Python. Python callbacks (at(), on(), the progress hook) run as
// world events on this thread, with the GIL held (the kernel is single-threaded, so there is no
// point in releasing it). A callback that raises never unwinds through the kernel: the exception
// is kept, the kernel is stopped after the running event, and run_until re-raises it.

#include <pybind11/stl.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "native.h"
#include "scenarios/annotations.h"
#include "scenarios/run.h"
#include "scenarios/simulation.h"

namespace py = pybind11;

namespace segsim_python {
namespace {

py::object to_python(const scenarios::AnnotationValue& value) {
  return std::visit([](const auto& v) -> py::object { return py::cast(v); }, value);
}

py::dict to_dict(const scenarios::Annotation& record) {
  py::dict out;
  out["time_ns"] = record.time_ns;
  out["annotation"] = std::string(scenarios::annotation_kind_name(record.kind));
  for (const auto& [name, value] : record.fields) out[py::str(name)] = to_python(value);
  return out;
}

py::dict to_dict(const scenarios::RunSummary& s) {
  py::dict out;
  out["result_path"] = s.result_path;
  out["simulated_ns"] = s.simulated_ns;
  out["events"] = s.events;
  out["packets_from_vms"] = s.packets_from_vms;
  out["packets_delivered"] = s.packets_delivered;
  out["flows_started"] = s.flows_started;
  out["flows_completed"] = s.flows_completed;
  out["flows_failed"] = s.flows_failed;
  out["flows_incomplete"] = s.flows_incomplete;
  out["drops_total"] = s.drops_total;
  out["drops_by_reason"] = s.drops_by_reason;
  out["firewall_cycles_per_packet"] = s.firewall_cycles_per_packet;
  out["peak_core_utilization"] = s.peak_core_utilization;
  out["busiest_core_mean_utilization"] = s.busiest_core_mean_utilization;
  out["busiest_host_mean_utilization"] = s.busiest_host_mean_utilization;
  out["latency_p50_ns"] = s.latency_p50_ns;
  out["latency_p99_ns"] = s.latency_p99_ns;
  out["latency_p999_ns"] = s.latency_p999_ns;
  out["peak_live_connections"] = s.peak_live_connections;
  out["wall_seconds"] = s.wall_seconds;
  out["events_per_second"] = s.events_per_second;
  for (const auto& field : s.extra) {
    out[py::str(field.name)] = std::visit([](auto v) -> py::object { return py::cast(v); }, field.value);
  }
  return out;
}

class PySimulation {
 public:
  PySimulation(ScenarioPtr scenario, const std::string& output, const std::string& calibration,
               const std::string& command_line) {
    scenarios::RunOptions options;
    options.output_path = output;
    options.calibration_path = calibration;
    options.command_line = command_line;
    // Always installed: it is also where Ctrl-C is noticed during a long run_until.
    options.progress = [this](const sim::Progress& p) { on_progress(p); };
    options.progress_interval = std::chrono::milliseconds(200);
    std::string error;
    int exit_code = 0;
    simulation_ = scenarios::Simulation::create(*scenario, std::move(options), error, exit_code);
    if (!simulation_) raise_with_code("SimulationError", error, exit_code);
  }

  int64_t now_ns() const { return simulation_ ? simulation_->now().ns() : final_now_ns_; }
  int64_t end_ns() const { return live().end().ns(); }
  bool finished() const { return !simulation_ || simulation_->finished(); }

  void run_until(int64_t until_ns, py::object progress) {
    scenarios::Simulation& s = live();
    if (running_) throw py::value_error("run() cannot be called from a callback (use sim.stop())");
    progress_ = std::move(progress);
    running_ = true;
    std::string error;
    const int rc = s.run_until(sim::Time::from_ns(until_ns), error);
    running_ = false;
    progress_ = py::none();
    rethrow_pending();
    if (rc != 0) raise_with_code("SimulationError", error, rc);
  }

  void stop() { live().stop(); }

  void at(int64_t when_ns, py::function fn) {
    std::string error;
    if (!live().at(sim::Time::from_ns(when_ns), [this, fn = std::move(fn)] { guarded([&] { fn(); }); }, error))
      throw py::value_error(error);
  }

  void apply(int64_t at_ns, const std::string& action, const std::map<std::string, std::string>& args) {
    scenarios::TimelineEvent event;
    event.at = sim::Time::from_ns(at_ns);
    event.action = action;
    event.args = args;
    std::string error;
    if (!live().apply(event, error)) raise_with_code("SimulationError", error, 2);
  }

  bool has_action(const std::string& action) const { return live().has_action(action); }

  int on(const std::string& kind_name, py::function fn, uint64_t every) {
    scenarios::AnnotationKind kind = scenarios::AnnotationKind::kCount;
    if (!scenarios::parse_annotation_kind(kind_name, kind)) {
      throw py::value_error("unknown annotation kind '" + kind_name + "' (expected one of " +
                            scenarios::annotation_kind_names() + ")");
    }
    if (every == 0) throw py::value_error("every must be >= 1");
    return live().annotations().subscribe(
        kind, [this, fn = std::move(fn)](const scenarios::Annotation& record) { guarded([&] { fn(to_dict(record)); }); },
        every);
  }

  void off(int handle) { live().annotations().unsubscribe(handle); }

  py::dict finish() {
    scenarios::Simulation& s = live();
    if (running_) throw py::value_error("finish() cannot be called from a callback (use sim.stop())");
    scenarios::RunSummary summary;
    std::string error;
    const int rc = s.finish(summary, error);
    close();
    if (rc != 0) raise_with_code("SimulationError", error, rc);
    return to_dict(summary);
  }

  // Drops the world and every callback; an unfinished run's temporary result file is removed.
  void close() {
    if (running_) throw py::value_error("close() cannot be called from a callback");
    if (!simulation_) return;
    final_now_ns_ = simulation_->now().ns();
    simulation_.reset();
  }

 private:
  scenarios::Simulation& live() const {
    if (!simulation_) raise_with_code("SimulationError", "the simulation has finished or was closed", 2);
    return *simulation_;
  }

  // Runs Python code from inside the kernel. The first exception stops the run; later callbacks
  // of the same run_until are skipped so that the first error is the one re-raised.
  template <class Fn>
  void guarded(Fn&& fn) {
    if (pending_) return;
    try {
      fn();
    } catch (py::error_already_set& e) {
      pending_.emplace(std::move(e));
      simulation_->stop();
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
      pending_.emplace();
      simulation_->stop();
    }
  }

  void on_progress(const sim::Progress& p) {
    if (pending_) return;
    if (PyErr_CheckSignals() != 0) {  // Ctrl-C: KeyboardInterrupt out of run()
      pending_.emplace();
      simulation_->stop();
      return;
    }
    if (progress_.is_none()) return;
    guarded([&] { progress_(p.now.ns(), p.end.ns(), p.events, p.wall_seconds, p.events_per_second); });
  }

  void rethrow_pending() {
    if (!pending_) return;
    py::error_already_set error = std::move(*pending_);
    pending_.reset();
    throw error;
  }

  std::unique_ptr<scenarios::Simulation> simulation_;
  py::object progress_ = py::none();
  std::optional<py::error_already_set> pending_;
  bool running_ = false;
  int64_t final_now_ns_ = 0;
};

}  // namespace

void bind_simulation(py::module_& m) {
  py::class_<PySimulation>(m, "Simulation")
      .def(py::init<ScenarioPtr, const std::string&, const std::string&, const std::string&>(), py::arg("scenario"),
           py::arg("output"), py::arg("calibration"), py::arg("command_line"))
      .def_property_readonly("now_ns", &PySimulation::now_ns)
      .def_property_readonly("end_ns", &PySimulation::end_ns)
      .def_property_readonly("finished", &PySimulation::finished)
      .def("run_until", &PySimulation::run_until, py::arg("until_ns"), py::arg("progress"))
      .def("stop", &PySimulation::stop)
      .def("at", &PySimulation::at, py::arg("when_ns"), py::arg("fn"))
      .def("apply", &PySimulation::apply, py::arg("at_ns"), py::arg("action"), py::arg("args"))
      .def("has_action", &PySimulation::has_action, py::arg("action"))
      .def("on", &PySimulation::on, py::arg("kind"), py::arg("fn"), py::arg("every"))
      .def("off", &PySimulation::off, py::arg("handle"))
      .def("finish", &PySimulation::finish)
      .def("close", &PySimulation::close);
  m.def("annotation_kinds", [] {
    py::list out;
    for (std::size_t i = 0; i < static_cast<std::size_t>(scenarios::AnnotationKind::kCount); ++i)
      out.append(std::string(scenarios::annotation_kind_name(static_cast<scenarios::AnnotationKind>(i))));
    return out;
  });
}

}  // namespace segsim_python
