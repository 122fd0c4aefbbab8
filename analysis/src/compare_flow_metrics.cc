// Metrics of `segsim compare` from /flows: outcome counts, the firewall's verdict per flow, and
// the flows whose verdict changed between two files (matched by 5-tuple and start time).

#include <cinttypes>
#include <cstdio>
#include <map>
#include <tuple>

#include "compare_metrics.h"

namespace analysis::detail {
namespace {

// The outcomes of docs/traffic.md, in its order; a file may lack some (counted as zero).
constexpr const char* kOutcomes[] = {"completed", "failed_rejected", "failed_timeout", "failed_aborted",
                                     "incomplete_at_end"};

// A flow the firewall stopped never got past its first packet: refused with a RST or ICMP
// unreachable, or its SYNs (a replayed one-way flow: its packets) never answered. A flow that
// connected and failed later (data_retries_exhausted) was allowed. Congestion that loses every
// SYN of a flow looks the same as a drop rule; the drop counters tell the two apart.
bool is_denied(const std::string& reason) {
  return reason == "rst_during_handshake" || reason == "icmp_unreachable" || reason == "syn_retries_exhausted" ||
         reason == "packets_lost";
}

struct FlowTable {
  std::vector<int64_t> protocol, source_port, destination_port, start_ns;
  std::vector<std::string> source_address, destination_address, outcome, reason;

  std::size_t size() const { return reason.size(); }
};

// Reads the columns the flow metrics need; `present` false if the file has no /flows.
bool read_flows(const ResultReader& reader, FlowTable& flows, bool& present, std::string& error) {
  const std::optional<TableInfo> table = reader.table("/flows");
  present = table.has_value();
  if (!present) return true;
  const char* needed[] = {"protocol", "source_address", "source_port", "destination_address", "destination_port",
                          "start_ns", "outcome",  "reason"};
  for (const char* column : needed) {
    if (!has_column(*table, column)) {
      error = reader.path() + ": /flows has no column '" + column + "'";
      return false;
    }
  }
  const bool ok = reader.read_int64("/flows/protocol", flows.protocol, error) &&
                  reader.read_strings("/flows/source_address", flows.source_address, error) &&
                  reader.read_int64("/flows/source_port", flows.source_port, error) &&
                  reader.read_strings("/flows/destination_address", flows.destination_address, error) &&
                  reader.read_int64("/flows/destination_port", flows.destination_port, error) &&
                  reader.read_int64("/flows/start_ns", flows.start_ns, error) &&
                  reader.read_strings("/flows/outcome", flows.outcome, error) &&
                  reader.read_strings("/flows/reason", flows.reason, error);
  if (!ok) {
    error = reader.path() + ": " + error;
    return false;
  }
  if (!table->equal_lengths) {
    error = reader.path() + ": /flows has columns of unequal length";
    return false;
  }
  return true;
}

using FlowKey = std::tuple<int64_t, std::string, int64_t, std::string, int64_t, int64_t, std::size_t>;

// 5-tuple and start time, plus the occurrence number so that two flows with the same key (a
// replayed trace may hold them) pair up in order. Keys in row order.
std::vector<FlowKey> flow_keys(const FlowTable& f) {
  std::vector<FlowKey> keys;
  std::map<FlowKey, std::size_t> occurrences;
  for (std::size_t i = 0; i < f.size(); ++i) {
    FlowKey key{f.protocol[i], f.source_address[i], f.source_port[i], f.destination_address[i],
                f.destination_port[i], f.start_ns[i], 0};
    std::get<6>(key) = occurrences[key]++;
    keys.push_back(std::move(key));
  }
  return keys;
}

std::string describe_flow(const FlowTable& f, std::size_t i) {
  const char* protocol = f.protocol[i] == 6 ? "tcp" : f.protocol[i] == 17 ? "udp" : nullptr;
  char start[32];
  std::snprintf(start, sizeof start, "%.6f ms", static_cast<double>(f.start_ns[i]) / 1e6);
  return (protocol ? std::string(protocol) : "protocol " + std::to_string(f.protocol[i])) + " " +
         f.source_address[i] + ":" + std::to_string(f.source_port[i]) + " -> " + f.destination_address[i] + ":" +
         std::to_string(f.destination_port[i]) + " started at " + start;
}

}  // namespace

bool flow_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  out.table = "/flows";
  FlowTable flows;
  if (!read_flows(reader, flows, out.present, error)) return false;
  std::map<std::string, double> by_outcome;
  double allowed = 0, denied = 0;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    by_outcome[flows.outcome[i]] += 1;
    (is_denied(flows.reason[i]) ? denied : allowed) += 1;
  }
  auto value = [&](double v) { return out.present ? std::optional<double>(v) : std::nullopt; };
  // Either way a verdict count moves is suspect: more denials break traffic, fewer open holes.
  out.metrics.push_back({"verdicts.allowed", "flows", Direction::kAnyChange, value(allowed), false, ""});
  out.metrics.push_back({"verdicts.denied", "flows", Direction::kAnyChange, value(denied), false, ""});
  for (const char* outcome : kOutcomes) {
    const Direction direction =
        std::string(outcome) == "completed" ? Direction::kLowerIsWorse : Direction::kHigherIsWorse;
    out.metrics.push_back(
        {std::string("flows.") + outcome, "flows", direction, value(by_outcome[outcome]), true, ""});
  }
  return true;
}

bool pair_flows(const ResultReader& base, const ResultReader& candidate, std::size_t max_examples,
                FlowPairMetrics& out, std::string& error) {
  FlowTable a, b;
  if (!read_flows(base, a, out.present_in_base, error) || !read_flows(candidate, b, out.present_in_new, error)) {
    return false;
  }
  if (!out.present_in_base || !out.present_in_new) return true;
  std::map<FlowKey, std::size_t> in_new;
  for (std::size_t j = 0; FlowKey& key : flow_keys(b)) in_new.emplace(std::move(key), j++);
  const std::vector<FlowKey> in_base = flow_keys(a);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < in_base.size(); ++i) {
    const auto it = in_new.find(in_base[i]);
    if (it == in_new.end()) {
      ++out.only_in_base;
      continue;
    }
    ++matched;
    const std::size_t j = it->second;
    const bool was_denied = is_denied(a.reason[i]);
    const bool now_denied = is_denied(b.reason[j]);
    if (was_denied == now_denied) continue;
    const std::string example =
        describe_flow(a, i) + ": " + (was_denied ? "denied" : "allowed") + " (" + a.reason[i] + ") -> " +
        (now_denied ? "denied" : "allowed") + " (" + b.reason[j] + ")";
    if (was_denied) {
      ++out.newly_allowed;
      if (out.newly_allowed_examples.size() < max_examples) out.newly_allowed_examples.push_back(example);
    } else {
      ++out.newly_denied;
      if (out.newly_denied_examples.size() < max_examples) out.newly_denied_examples.push_back(example);
    }
  }
  out.only_in_new = b.size() - matched;
  return true;
}

}  // namespace analysis::detail
