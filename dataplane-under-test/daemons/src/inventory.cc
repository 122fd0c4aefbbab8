#include "daemons/inventory.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "controller/address.h"

namespace daemons {
namespace {

class Reader {
 public:
  Reader(std::string file, std::vector<std::string>& errors) : file_(std::move(file)), errors_(errors) {}

  void error(const YAML::Node& node, const std::string& field, const std::string& message) {
    const YAML::Mark mark = node.Mark();
    errors_.push_back(file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
                      ": " + field + ": " + message);
  }

  bool scalar(const YAML::Node& node, const std::string& field, std::string& out) {
    if (!node.IsScalar()) {
      error(node, field, "expected a scalar");
      return false;
    }
    out = node.Scalar();
    return true;
  }

  void labels(const YAML::Node& node, const std::string& field, controller::Labels& out) {
    if (!node.IsMap()) {
      error(node, field, "expected a map of label key to value");
      return;
    }
    for (const auto& kv : node) {
      std::string key, value;
      if (scalar(kv.first, field, key) && scalar(kv.second, field + "." + key, value)) out[key] = value;
    }
  }

  void listening_port(const YAML::Node& node, const std::string& field, controller::Process& process) {
    std::string text;
    if (!scalar(node, field, text)) return;
    const auto slash = text.find('/');
    const std::string proto = text.substr(0, slash);
    controller::ListeningPort port;
    if (slash == std::string::npos || (proto != "tcp" && proto != "udp")) {
      error(node, field, "\"" + text + "\": expected tcp/PORT or udp/PORT");
      return;
    }
    port.protocol = proto == "tcp" ? dfw::kProtoTcp : dfw::kProtoUdp;
    try {
      std::size_t used = 0;
      const unsigned long value = std::stoul(text.substr(slash + 1), &used);
      if (used != text.size() - slash - 1 || value > 65535) throw std::out_of_range("port");
      port.port = static_cast<uint16_t>(value);
    } catch (const std::exception&) {
      error(node, field, "\"" + text + "\": the port must be a number in 0..65535");
      return;
    }
    process.listening_ports.push_back(port);
  }

  void process(const YAML::Node& node, const std::string& field, controller::Workload& w) {
    if (!node.IsMap()) {
      error(node, field, "expected a map with name, labels, listening_ports");
      return;
    }
    controller::Process p;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (key == "name") {
        scalar(kv.second, field + ".name", p.name);
      } else if (key == "labels") {
        labels(kv.second, field + ".labels", p.labels);
      } else if (key == "listening_ports") {
        if (!kv.second.IsSequence()) {
          error(kv.second, field + ".listening_ports", "expected a list such as [tcp/5432]");
          continue;
        }
        for (std::size_t i = 0; i < kv.second.size(); ++i) {
          listening_port(kv.second[i], field + ".listening_ports[" + std::to_string(i) + "]", p);
        }
      } else {
        error(kv.first, field + "." + key, "unknown key; expected one of: name, labels, listening_ports");
      }
    }
    w.processes.push_back(std::move(p));
  }

  void workload(const YAML::Node& node, const std::string& field, std::set<controller::WorkloadId>& ids,
                std::vector<controller::Workload>& out) {
    if (!node.IsMap()) {
      error(node, field, "expected a map with id, name, host, addresses, labels");
      return;
    }
    controller::Workload w;
    bool has_id = false, has_host = false, has_addresses = false;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      const std::string where = field + "." + key;
      if (key == "id") {
        std::string text;
        if (!scalar(kv.second, where, text)) continue;
        try {
          std::size_t used = 0;
          const unsigned long long value = std::stoull(text, &used);
          if (used != text.size() || value > UINT32_MAX) throw std::out_of_range("id");
          w.id = static_cast<controller::WorkloadId>(value);
          has_id = true;
        } catch (const std::exception&) {
          error(kv.second, where, "\"" + text + "\": expected a port id in 0..4294967295");
          continue;
        }
        if (!ids.insert(w.id).second) error(kv.second, where, "duplicate id " + text);
      } else if (key == "name") {
        scalar(kv.second, where, w.name);
      } else if (key == "host") {
        has_host = scalar(kv.second, where, w.host) && !w.host.empty();
      } else if (key == "addresses") {
        if (!kv.second.IsSequence()) {
          error(kv.second, where, "expected a list of addresses such as [10.0.0.1]");
          continue;
        }
        for (std::size_t i = 0; i < kv.second.size(); ++i) {
          std::string text;
          const std::string item = where + "[" + std::to_string(i) + "]";
          if (!scalar(kv.second[i], item, text)) continue;
          dfw::IpPrefix address;
          if (!controller::parse_address(text, address)) {
            error(kv.second[i], item, "\"" + text + "\" is not an IPv4 or IPv6 host address");
            continue;
          }
          w.addresses.push_back(address);
          has_addresses = true;
        }
      } else if (key == "labels") {
        labels(kv.second, where, w.labels);
      } else if (key == "processes") {
        if (!kv.second.IsSequence()) {
          error(kv.second, where, "expected a list of processes");
          continue;
        }
        for (std::size_t i = 0; i < kv.second.size(); ++i) {
          process(kv.second[i], where + "[" + std::to_string(i) + "]", w);
        }
      } else {
        error(kv.first, where, "unknown key; expected one of: id, name, host, addresses, labels, processes");
      }
    }
    if (!has_id) error(node, field + ".id", "missing");
    if (!has_host) error(node, field + ".host", "missing; name the host whose agent programs this port");
    if (!has_addresses) error(node, field + ".addresses", "missing; give at least one address");
    if (w.name.empty()) w.name = "workload-" + std::to_string(w.id);
    out.push_back(std::move(w));
  }

 private:
  std::string file_;
  std::vector<std::string>& errors_;
};

}  // namespace

InventoryLoadResult load_inventory_text(const std::string& text, const std::string& file_name) {
  InventoryLoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    result.errors.push_back(file_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                            std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
    return result;
  }
  Reader reader(file_name, result.errors);
  if (!root.IsMap() || !root["workloads"]) {
    result.errors.push_back(file_name + ":1:1: workloads: missing; expected a map with a workloads: list");
    return result;
  }
  for (const auto& kv : root) {
    if (kv.first.Scalar() != "workloads") reader.error(kv.first, kv.first.Scalar(), "unknown key; expected workloads");
  }
  const YAML::Node list = root["workloads"];
  if (!list.IsSequence()) {
    reader.error(list, "workloads", "expected a list of workloads");
    return result;
  }
  std::set<controller::WorkloadId> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    reader.workload(list[i], "workloads[" + std::to_string(i) + "]", ids, result.workloads);
  }
  if (!result.ok()) result.workloads.clear();
  return result;
}

InventoryLoadResult load_inventory_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    InventoryLoadResult result;
    result.errors.push_back(path + ": cannot open the workloads file");
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_inventory_text(text.str(), path);
}

}  // namespace daemons
