// The random failure process (scenario section `failures.random`): every target of an entry
// alternates up (exponential, mean mtbf) and down (exponential, mean mttr), with its own random
// stream, so that adding a target or an entry does not shift any other target's times.

#include <cmath>

#include "failures.h"
#include "scenarios/fabric_layout.h"

namespace scenarios {

class Failures::RandomProcess {
 public:
  RandomProcess(Failures& owner, const RandomFailureSpec& spec, std::string target)
      : owner_(owner),
        spec_(spec),
        target_(std::move(target)),
        rng_(owner.context_.world.kernel.rng_for("failures/" + spec.component + "/" + target_)) {}

  void start() { schedule(spec_.mtbf, [this] { fail(); }); }

 private:
  template <class F>
  void schedule(sim::Time mean, F&& fn) {
    // At least 1 ns: an exponential draw can round to 0, and a zero-length up or down time would
    // let a failure and its repair land on the same instant.
    const double ns = rng_.exponential(static_cast<double>(mean.ns()));
    const int64_t delay = std::max<int64_t>(1, static_cast<int64_t>(std::llround(ns)));
    sim::Kernel& kernel = owner_.context_.world.kernel;
    if (delay > (sim::Time::max() - kernel.now()).ns()) return;
    kernel.schedule(sim::Nanos(delay), sim::kWorld, std::forward<F>(fn));
  }

  // A target that something else (the timeline, Python) already took down is left alone: this
  // period is skipped, and the process goes on from its repair time.
  void fail() {
    World& world = owner_.context_.world;
    bool failed = false;
    std::string error;
    if (spec_.component == "host") {
      const uint32_t host = owner_.find_host(target_, error);
      if (host != UINT32_MAX && !world.hosts[host]->down()) {
        const std::size_t record = owner_.crash_host(host, "host_crash", "random");
        if (spec_.restart_after) {
          Failures* owner = &owner_;
          world.kernel.schedule(*spec_.restart_after, sim::kWorld, [owner, record] { owner->ha_restart(record); });
        }
        failed = true;
      }
    } else if (spec_.component == "link") {
      std::string name;
      const std::size_t edge = owner_.find_edge(target_, name, error);
      if (edge != SIZE_MAX && owner_.find_open("link_down", name) == nullptr) {
        owner_.take_edge_down(edge, name, "random");
        failed = true;
      }
    } else {
      const std::size_t index = owner_.find_switch(target_, error);
      if (index != SIZE_MAX && world.fabric->switch_up(index)) {
        owner_.take_switch_down(index, target_, "random");
        failed = true;
      }
    }
    failed_ = failed;
    schedule(spec_.mttr, [this] { repair(); });
  }

  void repair() {
    World& world = owner_.context_.world;
    std::string error;
    if (failed_) {
      if (spec_.component == "host") {
        const uint32_t host = owner_.find_host(target_, error);
        if (owner_.find_open("host_crash", target_) != nullptr) owner_.bring_host_up(host);
      } else if (spec_.component == "link") {
        std::string name;
        const std::size_t edge = owner_.find_edge(target_, name, error);
        if (owner_.find_open("link_down", name) != nullptr) {
          world.fabric->set_edge_up(edge, true);
          owner_.close("link_down", name);
        }
      } else {
        const std::size_t index = owner_.find_switch(target_, error);
        if (!world.fabric->switch_up(index)) {
          world.fabric->set_switch_up(index, true);
          owner_.close("switch_down", target_);
        }
      }
    }
    failed_ = false;
    schedule(spec_.mtbf, [this] { fail(); });
  }

  Failures& owner_;
  const RandomFailureSpec& spec_;
  std::string target_;
  sim::Rng rng_;
  bool failed_ = false;
};

// Here, where RandomProcess is complete.
Failures::Failures(RunContext& context) : context_(context) {
  // topology.fabric.routing.reconvergence_delay: how long the switches keep their old routes
  // after a link or switch changes state (switched_fabric.h).
  context.world.fabric->set_reconvergence_delay(context.scenario.fabric.reconvergence_delay);
}
Failures::~Failures() = default;

void Failures::start() {
  const Scenario& s = context_.scenario;
  for (const RandomFailureSpec& spec : s.failures.random) {
    std::vector<std::string> targets = spec.targets;
    if (targets.empty()) {
      if (spec.component == "host") {
        for (const HostSpec& h : s.hosts) targets.push_back(h.name);
      } else {
        const FabricLayout layout = layout_fabric(s.fabric, s.hosts);
        if (spec.component == "switch") {
          targets = layout.switches;
        } else {
          for (const FabricLink& l : layout.links) targets.push_back(l.name);
        }
      }
    }
    for (std::string& target : targets) {
      random_.push_back(std::make_unique<RandomProcess>(*this, spec, std::move(target)));
      random_.back()->start();
    }
  }
}

}  // namespace scenarios
