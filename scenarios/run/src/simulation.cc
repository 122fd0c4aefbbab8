#include "scenarios/simulation.h"

#include <sys/resource.h>

#include <deque>

#include "actions.h"
#include "analysis/result_writer.h"
#include "extension.h"
#include "recorder.h"
#include "world.h"

namespace scenarios {

class SimulationImpl {
 public:
  Scenario scenario;
  RunOptions options;
  std::unique_ptr<World> world;
  std::string path;
  std::unique_ptr<analysis::ResultWriter> writer;
  std::unique_ptr<Recorder> recorder;
  Annotations annotations;
  ActionTable actions;
  std::unique_ptr<RunContext> context;
  std::vector<std::unique_ptr<RunExtension>> extensions;
  // Callbacks of at(): the kernel's inline closures hold an index, not the std::function.
  std::deque<std::function<void()>> callbacks;
  // The first failure inside an event (a timeline action with a bad argument); stops the run.
  int failure_code = 0;
  std::string failure;
  bool finished = false;

  void fail(int code, std::string message) {
    if (failure_code != 0) return;
    failure_code = code;
    failure = std::move(message);
    world->kernel.stop();
  }
  bool replay_failed(std::string& error) const;
  void schedule_action(const TimelineEvent& event);
};

namespace {

uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

void write_meta(analysis::ResultWriter& w, const Scenario& s, const World& world) {
  w.set_meta("scenario_name", s.name);
  w.set_meta("scenario_description", s.description);
  w.set_meta("scenario_path", s.source_path);
  w.set_meta("scenario_text", s.source_text);
  w.set_meta("effective_yaml", s.effective_yaml);
  w.set_meta("seed", s.seed);
  w.set_meta("duration_ns", s.duration.ns());
  w.set_meta("sample_interval_ns", s.outputs.interval.ns());
  w.set_meta("calibration_path", world.calibration_path);
  w.set_meta("calibration_cpu_model", world.calibration.machine.cpu_model);
  w.set_meta("calibration_clock_hz", world.calibration.machine.clock_hz);
  w.set_meta("calibration_method", world.calibration.machine.method);
}

std::string where(const TimelineEvent& event) {
  if (event.line > 0) return "timeline (line " + std::to_string(event.line) + "): " + event.action;
  return "at " + sim::to_string(event.at) + ": " + event.action;
}

}  // namespace

// A malformed trace record stops the run: bad input, no result file.
bool SimulationImpl::replay_failed(std::string& error) const {
  for (std::size_t i = 0; i < world->replays.size(); ++i) {
    if (world->replays[i]->failed()) {
      error = "traffic." + std::to_string(world->replay_traffic_index[i]) + ".file: " + world->replays[i]->error();
      return true;
    }
  }
  return false;
}

void SimulationImpl::schedule_action(const TimelineEvent& event) {
  // Past the end the event never happens (and is not an error, as in a scenario's timeline).
  if (event.at >= scenario.duration) return;
  callbacks.emplace_back([this, event] {
    const ActionHandler* handler = actions.find(event.action);
    std::string error;
    if (!(*handler)(event, error)) fail(2, where(event) + ": " + error);
  });
  const std::size_t index = callbacks.size() - 1;
  world->kernel.schedule_at(event.at, sim::kWorld, [this, index] { callbacks[index](); });
}

std::unique_ptr<Simulation> Simulation::create(const Scenario& scenario, RunOptions options, std::string& error,
                                               int& exit_code) {
  auto impl = std::make_unique<SimulationImpl>();
  impl->scenario = scenario;
  impl->options = std::move(options);
  const Scenario& s = impl->scenario;
  impl->world = build_world(s, impl->options.calibration_path, error, exit_code);
  if (!impl->world) return nullptr;
  World& world = *impl->world;

  impl->path = impl->options.output_path;
  if (impl->path.empty()) impl->path = s.outputs.path.empty() ? s.name + ".h5" : s.outputs.path;
  impl->context = std::make_unique<RunContext>(RunContext{s, world, impl->annotations, impl->path});
  if (!create_extensions(*impl->context, impl->extensions, error, exit_code)) return nullptr;
  for (auto& extension : impl->extensions) extension->register_actions(impl->actions);
  for (const TimelineEvent& event : s.timeline) {
    if (!impl->actions.has(event.action)) {
      error = where(event) + ": this action is not implemented in this version; remove it from the timeline to run";
      exit_code = 2;
      return nullptr;
    }
  }

  impl->writer = analysis::ResultWriter::create(impl->path, error);
  if (!impl->writer) {
    exit_code = 1;
    return nullptr;
  }
  write_meta(*impl->writer, s, world);

  impl->recorder = std::make_unique<Recorder>(world, *impl->writer, s.outputs.interval);
  if (!impl->recorder->start(error)) {
    exit_code = 1;
    return nullptr;
  }
  for (auto& extension : impl->extensions) extension->start();
  for (auto& generator : world.generators) generator->start();
  for (auto& replay : world.replays) replay->start();
  for (const TimelineEvent& event : s.timeline) impl->schedule_action(event);
  if (impl->options.progress) world.kernel.set_progress_callback(impl->options.progress_interval, impl->options.progress);
  if (impl->replay_failed(error)) {
    exit_code = 2;
    return nullptr;
  }
  exit_code = 0;
  return std::unique_ptr<Simulation>(new Simulation(std::move(impl)));
}

Simulation::Simulation(std::unique_ptr<SimulationImpl> impl) : impl_(std::move(impl)) {}
Simulation::~Simulation() = default;

const Scenario& Simulation::scenario() const { return impl_->scenario; }
sim::Time Simulation::now() const { return impl_->world->kernel.now(); }
sim::Time Simulation::end() const { return impl_->scenario.duration; }
bool Simulation::finished() const { return impl_->finished; }
Annotations& Simulation::annotations() { return impl_->annotations; }
bool Simulation::has_action(const std::string& action) const { return impl_->actions.has(action); }
void Simulation::stop() { impl_->world->kernel.stop(); }

int Simulation::run_until(sim::Time until, std::string& error) {
  SimulationImpl& s = *impl_;
  if (s.finished || s.failure_code != 0) {
    error = s.finished ? "the simulation has finished" : s.failure;
    return s.finished ? 2 : s.failure_code;
  }
  s.world->kernel.run_until(std::min(until, end()));
  if (s.failure_code != 0) {
    error = s.failure;
    return s.failure_code;
  }
  if (s.replay_failed(error)) {
    s.fail(2, error);
    return 2;
  }
  return 0;
}

bool Simulation::at(sim::Time when, std::function<void()> fn, std::string& error) {
  SimulationImpl& s = *impl_;
  if (when < now() || when > end()) {
    error = "time " + sim::to_string(when) + " is outside the remaining run [" + sim::to_string(now()) + ", " +
            sim::to_string(end()) + "]";
    return false;
  }
  s.callbacks.push_back(std::move(fn));
  const std::size_t index = s.callbacks.size() - 1;
  s.world->kernel.schedule_at(when, sim::kWorld, [&s, index] { s.callbacks[index](); });
  return true;
}

bool Simulation::apply(const TimelineEvent& event, std::string& error) {
  SimulationImpl& s = *impl_;
  if (!s.actions.has(event.action)) {
    error = "unknown or unimplemented action '" + event.action + "'";
    return false;
  }
  if (event.at < now()) {
    error = event.action + " at " + sim::to_string(event.at) + " is in the past (now " + sim::to_string(now()) + ")";
    return false;
  }
  s.schedule_action(event);
  return true;
}

int Simulation::finish(RunSummary& summary, std::string& error) {
  SimulationImpl& s = *impl_;
  if (s.finished) {
    error = "the simulation has already finished";
    return 2;
  }
  s.finished = true;
  World& world = *s.world;
  if (s.world->replay_flows) world.replay_flows->finish();
  for (auto& extension : s.extensions) {
    if (!extension->finish(*s.writer, summary, error)) return 1;
  }
  if (!s.recorder->finish(s.scenario, summary, error)) return 1;
  summary.wall_seconds = world.kernel.wall_seconds();
  summary.events_per_second = summary.wall_seconds > 0 ? static_cast<double>(summary.events) / summary.wall_seconds : 0;
  // The invocation names the output path, so it differs between otherwise identical runs.
  s.writer->set_wall("command_line", s.options.command_line);
  s.writer->set_wall("run_wall_seconds", summary.wall_seconds);
  s.writer->set_wall("events_per_second", summary.events_per_second);
  s.writer->set_wall("packets_per_second",
                     summary.wall_seconds > 0 ? static_cast<double>(summary.packets_from_vms) / summary.wall_seconds : 0);
  s.writer->set_wall("peak_rss_bytes", peak_rss_bytes());
  if (!s.writer->commit(error)) return 1;
  summary.result_path = s.path;
  return 0;
}

}  // namespace scenarios
