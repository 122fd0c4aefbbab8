// dfw-controller: the policy controller as a process. Serves the agents over TCP
// (docs/control-plane.md).
//
//   dfw-controller --policy policy.yaml --workloads workloads.yaml --listen 127.0.0.1:6500
//
// On SIGHUP it reloads both files and applies the difference as changes (a new policy, then
// workloads added, removed or updated); a file with errors is reported and the running state
// kept. stdout gets one line per event a test or an operator waits for:
//   listening 127.0.0.1:6500
//   change 2 kind=policy subject="3 rules" generation=2 ports=4 hosts=2 pending=h1,h2
//   converged 2 kind=policy generation=2 convergence_ns=1234567 ports=4 hosts=2 messages=4 bytes=1234 compute_ns=56789

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <iostream>
#include <map>

#include "controller/address.h"
#include "controller/policy_loader.h"
#include "controller/service.h"
#include "daemons/inventory.h"
#include "command_line.h"
#include "daemons/linux_platform.h"
#include "daemons/status_file.h"
#include "daemons/tcp_channel.h"

namespace po = boost::program_options;

namespace {

constexpr int kBadInput = 2;

bool load_policy(const std::string& path, controller::Policy& out, platform::Log* log) {
  controller::PolicyLoadResult loaded = controller::load_policy_file(path);
  for (const controller::LoadError& e : loaded.errors) {
    if (log) {
      log->write(platform::LogLevel::kError, "controller", e.to_string());
    } else {
      std::cerr << e.to_string() << "\n";
    }
  }
  if (!loaded.ok()) return false;
  out = std::move(loaded.policy);
  return true;
}

bool load_workloads(const std::string& path, std::vector<controller::Workload>& out, platform::Log* log) {
  daemons::InventoryLoadResult loaded = daemons::load_inventory_file(path);
  for (const std::string& e : loaded.errors) {
    if (log) {
      log->write(platform::LogLevel::kError, "controller", e);
    } else {
      std::cerr << e << "\n";
    }
  }
  if (!loaded.ok()) return false;
  out = std::move(loaded.workloads);
  return true;
}

bool same_workload(const controller::Workload& a, const controller::Workload& b) {
  auto same_addresses = [](const std::vector<dfw::IpPrefix>& x, const std::vector<dfw::IpPrefix>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!controller::prefix_equal(x[i], y[i])) return false;
    }
    return true;
  };
  auto same_processes = [](const std::vector<controller::Process>& x, const std::vector<controller::Process>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i].name != y[i].name || x[i].labels != y[i].labels ||
          x[i].listening_ports.size() != y[i].listening_ports.size()) {
        return false;
      }
      for (std::size_t j = 0; j < x[i].listening_ports.size(); ++j) {
        if (x[i].listening_ports[j].protocol != y[i].listening_ports[j].protocol ||
            x[i].listening_ports[j].port != y[i].listening_ports[j].port) {
          return false;
        }
      }
    }
    return true;
  };
  return a.name == b.name && a.host == b.host && a.labels == b.labels && same_addresses(a.addresses, b.addresses) &&
         same_processes(a.processes, b.processes);
}

void print_change(const controller::ChangeRecord& r) {
  std::string pending;
  for (const std::string& h : r.pending_hosts) pending += (pending.empty() ? "" : ",") + h;
  std::cout << "change " << r.id << " kind=" << r.kind << " subject=\"" << r.subject << "\" generation=" << r.generation
            << " ports=" << r.ports_impacted << " hosts=" << r.hosts_impacted << " pending=" << pending << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  std::string policy_path, workloads_path, listen_address, log_level = "info";
  int64_t heartbeat_ms = 1000;
  unsigned missed = 3;
  po::options_description options("dfw-controller options");
  options.add_options()
      ("help", "show this help")
      ("policy", po::value(&policy_path)->required(), "policy YAML (docs/policy.md)")
      ("workloads", po::value(&workloads_path)->required(), "workload inventory YAML (docs/control-plane.md)")
      ("listen", po::value(&listen_address)->required(), "ADDRESS:PORT to accept agents on (port 0: any free port)")
      ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(1000), "the agents' heartbeat interval")
      ("missed-heartbeats", po::value(&missed)->default_value(3), "silent intervals before an agent is lost")
      ("log-level", po::value(&log_level)->default_value("info"), "debug, info, warning or error");
  platform::LogLevel level;
  if (const int exit_code = daemons::parse_command_line("dfw-controller", argc, argv, options, log_level, level);
      exit_code >= 0) {
    return exit_code;
  }
  if (heartbeat_ms <= 0 || missed == 0) {
    std::cerr << "dfw-controller: --heartbeat-ms and --missed-heartbeats must be positive\n";
    return kBadInput;
  }

  controller::Policy policy;
  std::vector<controller::Workload> workloads;
  const bool policy_ok = load_policy(policy_path, policy, nullptr);
  const bool workloads_ok = load_workloads(workloads_path, workloads, nullptr);
  if (!policy_ok || !workloads_ok) return kBadInput;
  dfw::Status status;
  auto ctl = controller::Controller::create(policy, workloads, status);
  if (!ctl) {
    std::cerr << workloads_path << ": " << status.message() << "\n";
    return kBadInput;
  }

  boost::asio::io_context io;
  std::string error;
  auto listener = daemons::TcpListener::create(io, listen_address, error);
  if (!listener) {
    std::cerr << "dfw-controller: --listen " << error << "\n";
    return error.find("cannot listen") == 0 ? 1 : kBadInput;
  }
  daemons::LinuxClock clock;
  daemons::AsioTimerService timers(io);
  daemons::StderrLog log(level);
  platform::NullMetrics metrics;
  controller::ServiceConfig config;
  config.heartbeat_interval = heartbeat_ms * 1'000'000;
  config.missed_heartbeats = missed;
  controller::ControllerService service(std::move(ctl), *listener,
                                        controller::ServiceEnv{clock, timers, log, metrics}, config);
  service.set_convergence_listener([](const controller::ChangeRecord& r) {
    std::cout << "converged " << r.id << " kind=" << r.kind << " generation=" << r.generation
              << " convergence_ns=" << r.convergence_ns() << " ports=" << r.ports_impacted
              << " hosts=" << r.hosts_impacted << " messages=" << r.messages << " bytes=" << r.bytes
              << " compute_ns=" << r.compute_ns << std::endl;
  });
  std::cout << "listening " << listener->address() << std::endl;

  // SIGHUP: reload both files and apply what differs.
  auto reload = [&] {
    controller::Policy new_policy;
    std::vector<controller::Workload> new_workloads;
    const bool p_ok = load_policy(policy_path, new_policy, &log);
    const bool w_ok = load_workloads(workloads_path, new_workloads, &log);
    if (!p_ok || !w_ok) {
      log.write(platform::LogLevel::kError, "controller", "reload refused; keeping the running policy and workloads");
      return;
    }
    log.write(platform::LogLevel::kInfo, "controller", "reloading " + policy_path + " and " + workloads_path);
    auto apply = [&](controller::ChangeId id, const dfw::Status& e, const std::string& what) {
      if (id == 0) {
        log.write(platform::LogLevel::kError, "controller", what + ": " + e.message());
      } else {
        print_change(*service.change(id));
      }
    };
    dfw::Status e;
    std::map<controller::WorkloadId, const controller::Workload*> wanted;
    for (const controller::Workload& w : new_workloads) wanted[w.id] = &w;
    // Removals first, so that a policy relying on their absence (or an id reused) applies.
    for (controller::WorkloadId id : service.controller().port_ids()) {
      if (!wanted.contains(id)) apply(service.remove_workload(id, e), e, "removing workload " + std::to_string(id));
    }
    apply(service.set_policy(std::move(new_policy), e), e, policy_path);
    for (const auto& [id, w] : wanted) {
      const controller::Workload* current = service.controller().workload(id);
      if (!current) {
        apply(service.add_workload(*w, e), e, "adding workload " + w->name);
      } else if (!same_workload(*current, *w)) {
        apply(service.update_workload(*w, e), e, "updating workload " + w->name);
      }
    }
  };
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload();
      wait_hangup();
    });
  };
  wait_hangup();
  boost::asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log.write(platform::LogLevel::kInfo, "controller", "stopping");
    io.stop();
  });
  io.run();
  return 0;
}
