// traffic: synthetic east-west sources (all-to-all, label tiers, explicit matrix) and replays
// of pcap files or flow logs.

#include <cstring>
#include <fstream>
#include <set>

#include "addresses.h"
#include "flow_size_cdf.h"
#include "sections.h"
#include "suggest.h"

namespace scenarios::detail {
namespace {

const std::vector<std::string> kSyntheticKeys = {"kind",     "pattern",  "tiers",            "tier_label", "matrix",
                                                 "flow_size_cdf", "load", "load_per_vm", "protocol", "destination_port",
                                                 "start", "stop"};
const std::vector<std::string> kReplayKeys = {"kind",    "file",  "mapping",  "address_table",    "speed",
                                              "loops",   "coalesce", "skip_bad_records", "start", "stop"};

void read_tiers(MapReader& r, TrafficSpec& t, const Scenario& s) {
  LoadContext& ctx = r.context();
  if (!r.read_string_list("tiers", t.tiers, Need::required)) return;
  if (t.tiers.size() < 2) {
    ctx.error(*r.find("tiers"), r.field("tiers"), "a tier pattern needs at least two tiers (expected e.g. [web, app, db])");
  }
  std::set<std::string> value_set;
  for (const VmSpec& vm : s.vms) {
    if (const auto it = vm.labels.find(t.tier_label); it != vm.labels.end()) value_set.insert(it->second);
  }
  const std::vector<std::string> values(value_set.begin(), value_set.end());
  for (size_t i = 0; i < t.tiers.size(); ++i) {
    if (value_set.count(t.tiers[i])) continue;
    const std::string what = "tier: no VM has the label " + t.tier_label + ": " + t.tiers[i];
    ctx.error((*r.find("tiers"))[i], join_path(r.field("tiers"), i),
              values.empty() ? what + " (no VM has the label key '" + t.tier_label + "' at all)" : what + suggestion_suffix(t.tiers[i], values));
  }
}

void read_matrix(MapReader& r, TrafficSpec& t, const Scenario& s) {
  LoadContext& ctx = r.context();
  const YAML::Node* matrix = r.require("matrix", "a list of rows of weights, one row and column per VM");
  if (!matrix) return;
  const std::string path = r.field("matrix");
  const size_t n = s.vms.size();
  if (!matrix->IsSequence() || matrix->size() != n) {
    ctx.error(*matrix, path, "expected " + std::to_string(n) + " rows (one per VM, in scenario order), got " +
                                 (matrix->IsSequence() ? std::to_string(matrix->size()) + " rows" : describe_node(*matrix)));
    return;
  }
  bool valid = true;
  double total = 0;
  for (size_t i = 0; i < n && valid; ++i) {
    const YAML::Node row = (*matrix)[i];
    const std::string row_path = join_path(path, i);
    if (!row.IsSequence() || row.size() != n) {
      ctx.error(row, row_path, "expected a row of " + std::to_string(n) + " weights (one per VM)");
      valid = false;
      break;
    }
    std::vector<double> weights;
    for (size_t j = 0; j < n; ++j) {
      const auto w = read_number(ctx, row[j], join_path(row_path, j), 0, 1e300, false);
      if (!w) {
        valid = false;
        break;
      }
      if (i == j && *w > 0) ctx.warning(row[j], join_path(row_path, j), "a VM sending to itself never leaves its host");
      weights.push_back(*w);
      total += *w;
    }
    t.matrix.push_back(std::move(weights));
  }
  if (valid && total <= 0) ctx.error(*matrix, path, "all weights are zero (expected at least one positive weight)");
}

// `load_per_vm: 200Mbps` offers that payload rate from every source VM, so the offered load grows
// with the number of VMs (what a capacity sweep over VMs per host needs); `load` is a fraction of
// the host link shared by the host's sources, so it does not.
void read_load_per_vm(MapReader& r, TrafficSpec& t) {
  sim::DataRate rate;
  if (!r.read_data_rate("load_per_vm", rate)) return;
  LoadContext& ctx = r.context();
  if (rate.bits_per_second() == 0) {
    ctx.error(*r.find("load_per_vm"), r.field("load_per_vm"), "must be a positive data rate (expected e.g. 200Mbps)");
    return;
  }
  if (r.find("load")) {
    ctx.error(*r.find_key_node("load_per_vm"), r.field("load_per_vm"),
              "'load' and 'load_per_vm' are alternatives (expected one of them: a fraction of the host link, or a rate per VM)");
    return;
  }
  t.load_per_vm = rate;
}

void read_synthetic(MapReader& r, TrafficSpec& t, const Scenario& s) {
  LoadContext& ctx = r.context();
  r.check_keys(kSyntheticKeys, " for traffic kind 'synthetic'");
  r.read_choice("pattern", t.pattern, {"all-to-all", "tiers", "matrix"});
  r.read_name("tier_label", t.tier_label);
  if (t.pattern == "tiers") read_tiers(r, t, s);
  if (t.pattern == "matrix") read_matrix(r, t, s);
  for (const char* key : {"tiers", "matrix"}) {
    if (t.pattern != key && r.find_key_node(key)) {
      ctx.error(*r.find_key_node(key), r.field(key), std::string("'") + key + "' applies only to pattern: " + key);
    }
  }
  if (r.read_string("flow_size_cdf", t.flow_size_cdf, Need::required)) {
    t.flow_size_cdf = ctx.resolve(t.flow_size_cdf).string();
    if (auto points = read_flow_size_cdf(ctx, t.flow_size_cdf, *r.find("flow_size_cdf"), r.field("flow_size_cdf"))) {
      t.flow_size_cdf_points = std::move(*points);
    }
  }
  r.read_number("load", t.load, Need::optional, 0, 1, true);
  read_load_per_vm(r, t);
  r.read_choice("protocol", t.protocol, {"tcp", "udp"});
  r.read_unsigned_as("destination_port", t.destination_port, Need::optional, 1, 65535);
}

void read_replay(MapReader& r, TrafficSpec& t, const NameIndex& index) {
  LoadContext& ctx = r.context();
  r.check_keys(kReplayKeys, " for traffic kind '" + t.kind + "'");
  if (r.read_string("file", t.file, Need::required)) {
    t.file = ctx.resolve(t.file).string();
    std::ifstream in(t.file, std::ios::binary);
    if (!in) {
      ctx.error(*r.find("file"), r.field("file"),
                "cannot read '" + t.file + "': " + std::strerror(errno) + " (expected a readable " +
                    (t.kind == "pcap" ? "pcap file" : "flow log") + ")");
    }
  }
  r.read_choice("mapping", t.mapping, {"hash", "round-robin", "table"});
  if (const YAML::Node* table = r.find("address_table")) {
    if (t.mapping != "table") {
      ctx.error(*r.find_key_node("address_table"), r.field("address_table"), "address_table applies only to mapping: table");
    }
    MapReader tr(ctx, *table, r.field("address_table"), "a map of trace address -> VM name");
    for (const std::string& address : tr.keys()) {
      if (!parse_ipv4(address) && !is_valid_ipv6(address)) {
        ctx.error(*tr.find_key_node(address), tr.field(address), "invalid IP address '" + address + "' (expected e.g. 192.0.2.7)");
        continue;
      }
      std::string vm;
      if (!tr.read_string(address, vm, Need::required)) continue;
      // The map lookup first: a trace table can be large, the candidate scan is for the message.
      if (index.vm_by_name.count(vm) || check_reference(ctx, *tr.find(address), tr.field(address), vm, index.vm_names, "VM")) {
        t.address_table[address] = vm;
      }
    }
  } else if (t.mapping == "table") {
    r.require("address_table", "a map of trace address -> VM name, for mapping: table");
  }
  r.read_number("speed", t.speed, Need::optional, 0, 1e6, true);
  r.read_unsigned_as("loops", t.loops, Need::optional, 1, 1'000'000);
  r.read_bool("coalesce", t.coalesce);
  r.read_bool("skip_bad_records", t.skip_bad_records);
}

}  // namespace

void read_traffic(LoadContext& ctx, const YAML::Node& node, Scenario& s, const NameIndex& index) {
  if (!node.IsSequence()) {
    ctx.error(node, "traffic", "expected a list of traffic sources, got " + describe_node(node));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    MapReader r(ctx, node[i], join_path("traffic", i), "a traffic source {kind: synthetic|pcap|flowlog, ...}");
    if (!r.is_map()) continue;
    TrafficSpec t;
    t.line = LoadContext::line_of(node[i]);
    if (!r.read_choice("kind", t.kind, {"synthetic", "pcap", "flowlog"}, Need::required)) continue;
    if (t.kind == "synthetic") read_synthetic(r, t, s);
    else read_replay(r, t, index);
    r.read_duration("start", t.start, Need::optional, ZeroIs::allowed);
    r.read_duration("stop", t.stop, ZeroIs::rejected);
    if (t.stop && *t.stop <= t.start) {
      ctx.error(*r.find("stop"), r.field("stop"), "stop " + sim::to_string(*t.stop) + " is not after start " +
                                                        sim::to_string(t.start) + " (expected stop > start)");
    }
    if (index.duration_valid && t.start >= s.duration && r.find("start")) {
      ctx.warning(*r.find("start"), r.field("start"), "starts at or after the end of the run (duration " + sim::to_string(s.duration) + ")");
    }
    s.traffic.push_back(std::move(t));
  }
}

}  // namespace scenarios::detail
