#pragma once
// A run extension: one feature of a run beyond the base world (migrations, failures, the
// control plane, invariants...), kept in its own files and plugged into the Simulation through
// this interface, so that features do not edit each other's code or the run loop.
//
// Lifecycle, all on the simulation thread:
//   1. constructed by create_extensions() (extensions.cc) after the World is built, in list order;
//      may refuse the scenario there (return nullptr from its factory with an error);
//   2. register_actions(): adds the timeline actions it implements;
//   3. start(): just before the kernel first runs (schedule periodic work here);
//   4. finish(): after the last run_until, before the base tables are written; writes its own
//      tables and adds its headline numbers to the summary.

#include <memory>
#include <string>
#include <vector>

#include "actions.h"
#include "analysis/result_writer.h"
#include "scenarios/annotations.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"
#include "world.h"

namespace scenarios {

struct RunContext {
  const Scenario& scenario;
  World& world;
  Annotations& annotations;
  std::string result_path;  // where the result file will be committed (outputs next to it go here)
};

class RunExtension {
 public:
  virtual ~RunExtension() = default;
  virtual void register_actions(ActionTable& /*actions*/) {}
  virtual void start() {}
  virtual bool finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) = 0;
};

// Every extension of a run, in a fixed order (the order they start and finish in). On error
// returns false with `error` set and `exit_code` (2: the scenario asks for something invalid).
bool create_extensions(RunContext& context, std::vector<std::unique_ptr<RunExtension>>& out,
                       std::string& error, int& exit_code);

}  // namespace scenarios
