// dfw-agent: the host agent as a process. Keeps a real dfw datapath with this host's ports,
// programmed by the dfw-controller over TCP (docs/control-plane.md).
//
//   dfw-agent --controller 127.0.0.1:6500 --host h1 [--status FILE] [--probe NAME=...]...
//
// The status file (JSON, replaced atomically after every change) tells a test or an operator
// what the agent enforces: connection state, applied generation, per-port versions, and the
// verdict of every --probe.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "agent/agent.h"
#include "command_line.h"
#include "daemons/linux_platform.h"
#include "daemons/probe.h"
#include "daemons/status_file.h"
#include "daemons/tcp_channel.h"

namespace po = boost::program_options;

namespace {

constexpr int kBadInput = 2;

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

std::string status_json(const std::string& host, const agent::AgentStatus& s,
                        const std::vector<std::pair<std::string, std::string>>& verdicts) {
  std::string out = "{\n";
  out += "  \"host\": \"" + json_escape(host) + "\",\n";
  out += std::string("  \"connected\": ") + (s.connected ? "true" : "false") + ",\n";
  out += std::string("  \"synced\": ") + (s.synced ? "true" : "false") + ",\n";
  out += "  \"applied_generation\": " + std::to_string(s.applied_generation) + ",\n";
  out += "  \"connections\": " + std::to_string(s.connections) + ",\n";
  out += "  \"disconnections\": " + std::to_string(s.disconnections) + ",\n";
  out += "  \"snapshots_applied\": " + std::to_string(s.snapshots_applied) + ",\n";
  out += "  \"deltas_applied\": " + std::to_string(s.deltas_applied) + ",\n";
  out += "  \"apply_errors\": " + std::to_string(s.apply_errors) + ",\n";
  out += "  \"last_error\": \"" + json_escape(s.last_error) + "\",\n";
  out += "  \"port_versions\": {";
  bool first = true;
  for (const auto& [port, version] : s.port_versions) {
    out += (first ? "" : ", ") + std::string("\"") + std::to_string(port) + "\": " + std::to_string(version);
    first = false;
  }
  out += "},\n  \"probes\": {";
  first = true;
  for (const auto& [name, verdict] : verdicts) {
    out += (first ? "" : ", ") + std::string("\"") + json_escape(name) + "\": \"" + verdict + "\"";
    first = false;
  }
  out += "}\n}\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string controller_address, host, status_path, log_level = "info";
  std::vector<std::string> probe_texts;
  int64_t heartbeat_ms = 1000, stats_ms = 10000, reconnect_initial_ms = 100, reconnect_max_ms = 5000;
  unsigned missed = 3;
  po::options_description options("dfw-agent options");
  options.add_options()
      ("help", "show this help")
      ("controller", po::value(&controller_address)->required(), "the controller's HOST:PORT")
      ("host", po::value(&host)->required(), "this host's name, as the workloads file names it")
      ("status", po::value(&status_path), "JSON status file, replaced atomically after every change")
      ("probe", po::value(&probe_texts)->composing(),
       "NAME=PORT:DIRECTION:PROTOCOL:SOURCE:DESTINATION:DESTINATION_PORT; repeatable")
      ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(1000), "heartbeat interval")
      ("missed-heartbeats", po::value(&missed)->default_value(3), "silent intervals before the controller is lost")
      ("stats-ms", po::value(&stats_ms)->default_value(10000), "port statistics interval (0: never)")
      ("reconnect-initial-ms", po::value(&reconnect_initial_ms)->default_value(100), "first reconnect delay")
      ("reconnect-max-ms", po::value(&reconnect_max_ms)->default_value(5000), "longest reconnect delay (doubling)")
      ("log-level", po::value(&log_level)->default_value("info"), "debug, info, warning or error");
  platform::LogLevel level;
  if (const int exit_code = daemons::parse_command_line("dfw-agent", argc, argv, options, log_level, level);
      exit_code >= 0) {
    return exit_code;
  }
  if (heartbeat_ms <= 0 || missed == 0 || stats_ms < 0 || reconnect_initial_ms <= 0 ||
      reconnect_max_ms < reconnect_initial_ms) {
    std::cerr << "dfw-agent: --heartbeat-ms, --missed-heartbeats and --reconnect-initial-ms must be positive, "
                 "--stats-ms >= 0, --reconnect-max-ms >= --reconnect-initial-ms\n";
    return kBadInput;
  }
  std::string error, ignored_host;
  uint16_t ignored_port = 0;
  if (!daemons::split_host_port(controller_address, ignored_host, ignored_port, error)) {
    std::cerr << "dfw-agent: --controller " << error << "\n";
    return kBadInput;
  }
  std::vector<daemons::Probe> probes(probe_texts.size());
  for (std::size_t i = 0; i < probe_texts.size(); ++i) {
    if (!daemons::parse_probe(probe_texts[i], probes[i], error)) {
      std::cerr << "dfw-agent: --probe " << error << "\n";
      return kBadInput;
    }
  }

  boost::asio::io_context io;
  daemons::LinuxClock clock;
  daemons::AsioTimerService timers(io);
  daemons::StderrLog log(level);
  platform::NullMetrics metrics;
  platform::NullFrames frames;
  platform::Env env{clock, timers, log, metrics, frames};
  dfw::Datapath datapath{dfw::DatapathConfig{}};
  dfw::DatapathDriver driver(datapath, env);
  daemons::TcpConnector connector(io);

  agent::AgentConfig config;
  config.host = host;
  config.controller_address = controller_address;
  config.heartbeat_interval = heartbeat_ms * 1'000'000;
  config.missed_heartbeats = missed;
  config.stats_interval = stats_ms * 1'000'000;
  config.reconnect_initial = reconnect_initial_ms * 1'000'000;
  config.reconnect_max = reconnect_max_ms * 1'000'000;
  config.manage_ports = true;
  agent::Agent agent(config, driver, connector, agent::AgentEnv{clock, timers, log, metrics});

  uint16_t next_source_port = 40000;
  agent.set_status_listener([&](const agent::AgentStatus& status) {
    if (status_path.empty()) return;
    std::vector<std::pair<std::string, std::string>> verdicts;
    for (daemons::Probe& probe : probes) {
      verdicts.emplace_back(probe.name, daemons::run_probe(probe, driver, next_source_port));
      next_source_port = next_source_port >= 60000 ? 40000 : next_source_port + 1;
    }
    std::string write_error;
    if (!daemons::write_file_atomically(status_path, status_json(host, status, verdicts), write_error)) {
      log.write(platform::LogLevel::kError, "agent", write_error);
    }
  });

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log.write(platform::LogLevel::kInfo, "agent", "stopping");
    agent.stop();
    io.stop();
  });
  agent.start();
  io.run();
  return 0;
}
