// Control-plane message benchmark (docs/performance.md, "Policy controller"): the real
// ControllerService and one real agent per host (each with its own dfw datapath, so agents really
// compile and install what they receive) over the in-memory channel on a manual clock
// (tests/controlplane/memory_channel.h). Three phases, each timed in process CPU time (the
// machine may be loaded; wall time would measure the neighbours):
//   1. snapshot fan-out: every agent connects, gets its host's full snapshot, installs it, acks;
//   2. relabel delta fan-out: one workload of a large scope changes role, so every port whose
//      peer sets held it gets a delta; timed from the call until the last impacted host's ack;
//   3. incremental changes: N single-workload relabels one after the other, each from the call
//      to its convergence (CPU time per change; the compute core's own part reported apart).
// Messages and bytes are the service's own counts (protobuf payloads, no channel framing).
// Everything runs on one thread, so CPU time covers the controller and all agents together.
//
//   controlplane_fanout_bench [--hosts 1000] [--ports-per-host 10] [--rules 1000] [--changes 50] [--json]

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "controller/service.h"
#include "controller_policy_generator.h"
#include "dfw/driver.h"
#include "memory_channel.h"

namespace {

using controlplane_test::kMs;
using controlplane_test::ManualLoop;
using controlplane_test::MemoryNetwork;

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Host {
  Host(const std::string& host_name, ManualLoop& loop, MemoryNetwork& network)
      : name(host_name), env{loop, loop, log, metrics, frames}, datapath(config()), driver(datapath, env),
        connector(network.connector(host_name)) {}
  static dfw::DatapathConfig config() {
    dfw::DatapathConfig c;
    c.connection_limit = 1024;  // no traffic here: keep 1,000 datapaths small
    return c;
  }
  std::string name;
  platform::NullLog log;
  platform::NullMetrics metrics;
  platform::NullFrames frames;
  platform::Env env;
  dfw::Datapath datapath;
  dfw::DatapathDriver driver;
  std::unique_ptr<platform::ChannelConnector> connector;
  std::unique_ptr<agent::Agent> agent;
};

struct Counts {
  uint64_t messages = 0, bytes = 0;
};

Counts totals(const controller::MessageTotals& t) {
  Counts c;
  for (const auto* m : {&t.messages_sent, &t.messages_received})
    for (const auto& [type, n] : *m)
      if (type != "heartbeat" && type != "port_stats") c.messages += n;
  for (const auto* m : {&t.bytes_sent, &t.bytes_received})
    for (const auto& [type, n] : *m)
      if (type != "heartbeat" && type != "port_stats") c.bytes += n;
  return c;
}

struct Phase {
  std::string name;
  double cpu_s = 0;
  uint64_t messages = 0, bytes = 0, ports = 0, hosts = 0;
};

void usage() {
  std::fprintf(stderr,
               "usage: controlplane_fanout_bench [--hosts N] [--ports-per-host N] [--rules N] [--changes N] [--json]\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t hosts = 1000, ports_per_host = 10, rules = 1000, changes = 50;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto number = [&](std::size_t& out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || v == 0) return false;
      out = static_cast<std::size_t>(v);
      return true;
    };
    bool ok = true;
    if (a == "--hosts") ok = number(hosts);
    else if (a == "--ports-per-host") ok = number(ports_per_host);
    else if (a == "--rules") ok = number(rules);
    else if (a == "--changes") ok = number(changes);
    else if (a == "--json") json = true;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "controlplane_fanout_bench: bad argument '%s'\n", a.c_str());
      usage();
      return 2;
    }
  }

  controller::bench::EstateShape shape;
  shape.hosts = hosts;
  shape.workloads = hosts * ports_per_host;
  shape.rules = rules;
  std::vector<controller::Workload> workloads = controller::bench::make_workloads(shape);
  const controller::Policy policy = controller::bench::make_policy(shape);

  ManualLoop loop;
  MemoryNetwork network(loop, 100'000);  // 100 us each way: simulated, costs no CPU
  platform::NullLog log;
  platform::NullMetrics metrics;
  dfw::Status status;
  auto computed = controller::Controller::create(policy, workloads, status);
  if (!computed) {
    std::fprintf(stderr, "controlplane_fanout_bench: %s\n", status.message().c_str());
    return 1;
  }
  auto listener = network.listen("controller");
  controller::ServiceConfig config;
  config.heartbeat_interval = 3600 * controlplane_test::kSecond;  // no heartbeats inside the phases
  controller::ControllerService service(std::move(computed), *listener,
                                        controller::ServiceEnv{loop, loop, log, metrics}, config);
  std::vector<std::unique_ptr<Host>> estate;
  for (std::size_t h = 0; h < hosts; ++h) {
    estate.push_back(std::make_unique<Host>("host-" + std::to_string(h), loop, network));
    Host& host = *estate.back();
    agent::AgentConfig ac;
    ac.host = host.name;
    ac.controller_address = "controller";
    ac.heartbeat_interval = config.heartbeat_interval;
    ac.stats_interval = 0;
    host.agent = std::make_unique<agent::Agent>(ac, host.driver, *host.connector,
                                                agent::AgentEnv{loop, loop, host.log, host.metrics});
  }
  auto all_synced = [&] {
    for (const auto& info : service.agents())
      if (info.state != controller::AgentState::kSynced) return false;
    return service.agents().size() == hosts;
  };
  // Runs the loop in small steps until `done` (the manual clock has no CPU cost of its own).
  auto run_until = [&](const auto& done) {
    for (int step = 0; step < 100'000 && !done(); ++step) loop.run_for(kMs);
    return done();
  };

  std::vector<Phase> phases;
  // 1. Snapshot fan-out.
  {
    const Counts before = totals(service.totals());
    const double t0 = cpu_seconds();
    for (auto& h : estate) h->agent->start();
    if (!run_until(all_synced)) {
      std::fprintf(stderr, "controlplane_fanout_bench: agents did not sync\n");
      return 1;
    }
    const Counts after = totals(service.totals());
    phases.push_back({"snapshot_fanout", cpu_seconds() - t0, after.messages - before.messages,
                      after.bytes - before.bytes, workloads.size(), hosts});
  }
  // 2. Relabel delta fan-out: the workload whose change impacts the most ports among the first
  //    few hundred (found by trying them on a copy of the compute core, outside the timing).
  {
    auto probe = controller::Controller::create(policy, workloads, status);
    controller::WorkloadId best = workloads[0].id;
    std::size_t best_ports = 0;
    controller::Labels best_labels;
    for (std::size_t i = 0; i < std::min<std::size_t>(workloads.size(), 300); ++i) {
      controller::Labels l = workloads[i].labels;
      l["role"] = l["role"] == "role0" ? "role1" : "role0";
      const controller::ChangeSet cs = probe->set_labels(workloads[i].id, l, status);
      if (cs.changed_ports.size() > best_ports) {
        best_ports = cs.changed_ports.size();
        best = workloads[i].id;
        best_labels = l;
      }
      probe->set_labels(workloads[i].id, workloads[i].labels, status);  // back
    }
    const double t0 = cpu_seconds();
    const controller::ChangeId id = service.set_labels(best, best_labels, status);
    if (id == 0 || !run_until([&] { return service.change(id)->converged(); })) {
      std::fprintf(stderr, "controlplane_fanout_bench: the relabel did not converge\n");
      return 1;
    }
    const controller::ChangeRecord& r = *service.change(id);
    phases.push_back({"relabel_fanout", cpu_seconds() - t0, r.messages, r.bytes, r.ports_impacted, r.hosts_impacted});
  }
  // 3. Incremental single-workload changes (each a different workload's env).
  std::vector<double> change_cpu_us, compute_us;
  uint64_t change_ports = 0;
  for (std::size_t c = 0; c < changes; ++c) {
    const controller::Workload& w = workloads[(c * 7919) % workloads.size()];
    controller::Labels l = w.labels;
    l["env"] = l["env"] == "env0" ? "env1" : "env0";
    const double t0 = cpu_seconds();
    const controller::ChangeId id = service.set_labels(w.id, l, status);
    if (id == 0 || !run_until([&] { return service.change(id)->converged(); })) {
      std::fprintf(stderr, "controlplane_fanout_bench: change %zu did not converge\n", c);
      return 1;
    }
    change_cpu_us.push_back((cpu_seconds() - t0) * 1e6);
    compute_us.push_back(static_cast<double>(service.change(id)->compute_ns) / 1e3);
    change_ports += service.change(id)->ports_impacted;
  }
  std::sort(change_cpu_us.begin(), change_cpu_us.end());
  std::sort(compute_us.begin(), compute_us.end());
  auto pct = [](const std::vector<double>& v, double p) {
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
  };

  if (json) {
    std::printf("{\"hosts\": %zu, \"ports\": %zu, \"rules\": %zu, \"phases\": [", hosts, workloads.size(), rules);
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const Phase& p = phases[i];
      std::printf("%s{\"name\": \"%s\", \"cpu_s\": %.6f, \"messages\": %llu, \"bytes\": %llu, \"ports\": %llu, "
                  "\"hosts\": %llu, \"messages_per_s\": %.1f, \"bytes_per_s\": %.1f}",
                  i ? ", " : "", p.name.c_str(), p.cpu_s, static_cast<unsigned long long>(p.messages),
                  static_cast<unsigned long long>(p.bytes), static_cast<unsigned long long>(p.ports),
                  static_cast<unsigned long long>(p.hosts), p.messages / p.cpu_s, p.bytes / p.cpu_s);
    }
    std::printf("], \"changes\": {\"count\": %zu, \"mean_ports\": %.1f, \"cpu_us_p50\": %.1f, \"cpu_us_p90\": %.1f, "
                "\"cpu_us_max\": %.1f, \"compute_us_p50\": %.1f}}\n",
                changes, static_cast<double>(change_ports) / static_cast<double>(changes), pct(change_cpu_us, 0.5),
                pct(change_cpu_us, 0.9), pct(change_cpu_us, 1.0), pct(compute_us, 0.5));
  } else {
    std::printf("%zu hosts x %zu ports, %zu rules (CPU time, controller and all agents on one thread)\n", hosts,
                ports_per_host, rules);
    for (const Phase& p : phases) {
      std::printf("%-16s %8.3f s CPU  %8llu messages  %12llu bytes  %6llu ports on %5llu hosts  "
                  "%10.0f messages/s  %8.1f MB/s\n",
                  p.name.c_str(), p.cpu_s, static_cast<unsigned long long>(p.messages),
                  static_cast<unsigned long long>(p.bytes), static_cast<unsigned long long>(p.ports),
                  static_cast<unsigned long long>(p.hosts), p.messages / p.cpu_s, p.bytes / p.cpu_s / 1e6);
    }
    std::printf("single changes   %zu, %.1f ports each on average: CPU per change p50 %.1f us, p90 %.1f us, max %.1f us "
                "(compute core p50 %.1f us)\n",
                changes, static_cast<double>(change_ports) / static_cast<double>(changes), pct(change_cpu_us, 0.5),
                pct(change_cpu_us, 0.9), pct(change_cpu_us, 1.0), pct(compute_us, 0.5));
  }
  return 0;
}
