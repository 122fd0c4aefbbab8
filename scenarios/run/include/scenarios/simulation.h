#pragma once
// One run of a scenario that its driver can step and steer: build the world, run the kernel to
// any simulated time, call code at simulated times, apply timeline actions (migrate a VM, fail a
// host, change the policy) as the run goes, listen to annotations, and finally write the result
// file. `segsim run` (run_scenario) and Python's segsim.Simulation both drive this class.
//
//   std::string error; int exit_code = 0;
//   auto simulation = scenarios::Simulation::create(scenario, options, error, exit_code);
//   if (!simulation) return exit_code;
//   simulation->at(sim::Millis(100), [&] { ... });              // runs as a world event
//   simulation->apply({.at = sim::Millis(200), .action = "migrate",
//                      .args = {{"vm", "web-1"}, {"to", "h2"}}}, error);  // scheduled
//   if (int rc = simulation->run_until(sim::Millis(500), error)) return rc;
//   RunSummary summary;
//   return simulation->finish(summary, error);  // 0 and the result file, or an error
//
// Errors follow the runner's convention: 0 ok, 1 runtime failure (I/O), 2 bad input. After a
// failed run_until or after finish() the simulation cannot run any further.

#include <functional>
#include <memory>
#include <string>

#include "scenarios/annotations.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"
#include "sim/time.h"

namespace scenarios {

class SimulationImpl;

class Simulation {
 public:
  // Builds every model of `scenario` (copied: the caller may drop or edit its own) and opens the
  // result file's temporary. The scenario's timeline is scheduled; an action this build does not
  // implement refuses the scenario (exit code 2).
  static std::unique_ptr<Simulation> create(const Scenario& scenario, RunOptions options, std::string& error,
                                            int& exit_code);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  const Scenario& scenario() const;
  sim::Time now() const;
  sim::Time end() const;  // the scenario's duration: the run never goes past it
  bool finished() const;

  // Runs every event before min(until, end()). Returns 0, or an exit code with `error` set (a
  // malformed trace record: 2; a failed callback: the code it gave).
  int run_until(sim::Time until, std::string& error);
  int run(std::string& error) { return run_until(end(), error); }
  // Stops the current run_until after the running event (callable from callbacks).
  void stop();

  // Calls fn at simulated time `when` (>= now(), <= end()) as a world event. fn may call apply(),
  // at(), stop(). Returns false if `when` is out of range.
  bool at(sim::Time when, std::function<void()> fn, std::string& error);
  // Schedules a timeline action at event.at (>= now(); == now() applies it at the current time
  // once the running event, if any, returns). The action and its arguments are checked now
  // against the handlers this build has; argument values are checked when it runs, and a bad one
  // then fails the run (exit code 2). Events after end() are accepted and never happen, as in a
  // scenario's timeline.
  bool apply(const TimelineEvent& event, std::string& error);
  bool has_action(const std::string& action) const;

  Annotations& annotations();

  // Finishes the run at now() (normally end()): writes every table and commits the result file.
  // Returns 0 with `summary` filled and summary.result_path set, or an exit code with `error`.
  int finish(RunSummary& summary, std::string& error);

 private:
  explicit Simulation(std::unique_ptr<SimulationImpl> impl);
  std::unique_ptr<SimulationImpl> impl_;
};

}  // namespace scenarios
