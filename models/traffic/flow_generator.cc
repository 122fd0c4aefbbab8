// Synthetic flow generator: pattern, load -> Poisson arrival rate, per-source streams.
#include "models/traffic/flow_generator.h"

#include <algorithm>
#include <cmath>

namespace models::traffic {

FlowGenerator::FlowGenerator(sim::Kernel& kernel, const std::vector<TransportStack*>& stacks,
                             const FlowSizeCdf& sizes, const FlowGeneratorParams& params)
    : kernel_(kernel), stacks_(stacks), sizes_(sizes), params_(params) {}

std::unique_ptr<FlowGenerator> FlowGenerator::create(sim::Kernel& kernel, const VmTable& vms,
                                                     const std::vector<TransportStack*>& stacks,
                                                     const FlowSizeCdf& sizes,
                                                     const FlowGeneratorParams& params,
                                                     std::string& error) {
  const std::string where = "traffic '" + params.name + "': ";
  const std::size_t n = vms.size();
  if (!(params.load > 0) || !std::isfinite(params.load)) {
    error = where + "load: must be a positive fraction (got " + std::to_string(params.load) + ")";
    return nullptr;
  }
  if (sizes.points().empty() || !(sizes.mean() > 0)) {
    error = where + "flow_size_cdf: empty distribution";
    return nullptr;
  }
  if (stacks.size() != n) {
    error = where + "internal: one stack slot per VM is required";
    return nullptr;
  }
  if (params.stop <= params.start) {
    error = where + "stop: must be after start";
    return nullptr;
  }
  if (params.load_reference == LoadReference::kHostLink &&
      params.host_link_rate.bits_per_second() == 0) {
    error = where + "host_link_rate: must be positive";
    return nullptr;
  }
  if (params.load_reference == LoadReference::kSourceRate && params.source_rate.bits_per_second() == 0) {
    error = where + "source_rate: must be positive";
    return nullptr;
  }
  std::unique_ptr<FlowGenerator> g(new FlowGenerator(kernel, stacks, sizes, params));
  for (VmIndex v = 0; v < n; ++v) g->all_vms_.push_back(v);

  // Who sends, and to whom (weights only for the matrix).
  std::vector<VmIndex> sources;
  std::vector<double> row_weight;  // matrix: rowsum per source
  double total_weight = 0;
  switch (params.pattern) {
    case CommunicationPattern::kAllToAll:
      if (n < 2) {
        error = where + "pattern all-to-all needs at least two VMs";
        return nullptr;
      }
      sources = g->all_vms_;
      break;
    case CommunicationPattern::kTiers: {
      if (params.tiers.size() < 2) {
        error = where + "tiers: at least two tiers are needed (sender and receiver)";
        return nullptr;
      }
      g->destination_lists_.resize(params.tiers.size());
      for (VmIndex v = 0; v < n; ++v) {
        const auto it = vms[v].labels.find(params.tier_label);
        if (it == vms[v].labels.end()) continue;
        for (std::size_t t = 0; t < params.tiers.size(); ++t)
          if (it->second == params.tiers[t]) g->destination_lists_[t].push_back(v);
      }
      for (std::size_t t = 0; t < params.tiers.size(); ++t) {
        if (g->destination_lists_[t].empty()) {
          error = where + "tiers[" + std::to_string(t) + "]: no VM has label " +
                  params.tier_label + "=" + params.tiers[t];
          return nullptr;
        }
      }
      break;
    }
    case CommunicationPattern::kMatrix: {
      if (params.matrix.size() != n) {
        error = where + "matrix: expected " + std::to_string(n) + " rows (one per VM), got " +
                std::to_string(params.matrix.size());
        return nullptr;
      }
      for (std::size_t s = 0; s < n; ++s) {
        if (params.matrix[s].size() != n) {
          error = where + "matrix[" + std::to_string(s) + "]: expected " + std::to_string(n) +
                  " columns, got " + std::to_string(params.matrix[s].size());
          return nullptr;
        }
        double sum = 0;
        for (std::size_t d = 0; d < n; ++d) {
          const double w = params.matrix[s][d];
          if (!(w >= 0) || !std::isfinite(w) || (s == d && w != 0)) {
            error = where + "matrix[" + std::to_string(s) + "][" + std::to_string(d) +
                    "]: weights must be finite, >= 0, and 0 on the diagonal";
            return nullptr;
          }
          sum += w;
        }
        if (sum > 0) {
          sources.push_back(static_cast<VmIndex>(s));
          row_weight.push_back(sum);
          total_weight += sum;
        }
      }
      if (sources.empty()) {
        error = where + "matrix: all weights are zero";
        return nullptr;
      }
      break;
    }
  }
  if (params.pattern == CommunicationPattern::kTiers) {
    for (std::size_t t = 0; t + 1 < params.tiers.size(); ++t)
      for (VmIndex v : g->destination_lists_[t]) sources.push_back(v);
  }
  if (params.ipv6) {
    for (VmIndex v = 0; v < n; ++v) {
      if (!vms[v].has_ipv6) {
        error = where + "ipv6: VM " + vms[v].name + " has no IPv6 address";
        return nullptr;
      }
    }
  }

  // Reference capacity per source.
  std::vector<double> capacity(sources.size());
  std::vector<uint32_t> sources_per_host;
  if (params.load_reference == LoadReference::kHostLink) {
    for (VmIndex v : sources) {
      if (vms[v].host >= sources_per_host.size()) sources_per_host.resize(vms[v].host + 1, 0);
      ++sources_per_host[vms[v].host];
    }
  }
  double total_capacity = 0;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const Vm& vm = vms[sources[i]];
    switch (params.load_reference) {
      case LoadReference::kVnic: capacity[i] = static_cast<double>(vm.vnic_rate.bits_per_second()); break;
      case LoadReference::kHostLink:
        capacity[i] = static_cast<double>(params.host_link_rate.bits_per_second()) / sources_per_host[vm.host];
        break;
      case LoadReference::kSourceRate: capacity[i] = static_cast<double>(params.source_rate.bits_per_second()); break;
    }
    total_capacity += capacity[i];
  }
  g->offered_bps_ = params.load * total_capacity;
  const double bits_per_flow = 8.0 * sizes.mean();

  g->sources_.resize(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    Source& s = g->sources_[i];
    s.vm = sources[i];
    if (stacks[s.vm] == nullptr) {
      error = where + "VM " + vms[s.vm].name + " sends but has no transport stack";
      return nullptr;
    }
    s.rng = kernel.rng_for("traffic/" + params.name + "/" + vms[s.vm].name);
    double offered = params.load * capacity[i];
    switch (params.pattern) {
      case CommunicationPattern::kAllToAll:
        s.uniform = &g->all_vms_;
        break;
      case CommunicationPattern::kTiers: {
        const auto& labels = vms[s.vm].labels;
        const std::string& tier = labels.at(params.tier_label);
        for (std::size_t t = 0; t + 1 < params.tiers.size(); ++t)
          if (params.tiers[t] == tier) s.uniform = &g->destination_lists_[t + 1];
        break;
      }
      case CommunicationPattern::kMatrix: {
        offered = g->offered_bps_ * row_weight[i] / total_weight;
        double running = 0;
        for (VmIndex d = 0; d < n; ++d) {
          const double w = params.matrix[s.vm][d];
          if (w <= 0) continue;
          running += w;
          s.weighted.push_back(d);
          s.cumulative.push_back(running);
        }
        break;
      }
    }
    s.rate = offered / bits_per_flow;
  }
  return g;
}

double FlowGenerator::arrival_rate(VmIndex source) const {
  for (const Source& s : sources_)
    if (s.vm == source) return s.rate;
  return 0;
}

bool FlowGenerator::add_vm(const VmTable& vms, VmIndex vm, TransportStack* stack, std::string& error) {
  if (params_.pattern != CommunicationPattern::kTiers) return true;
  const Vm& v = vms[vm];
  const auto label = v.labels.find(params_.tier_label);
  if (label == v.labels.end()) return true;
  const auto tier = std::find(params_.tiers.begin(), params_.tiers.end(), label->second);
  if (tier == params_.tiers.end()) return true;
  const std::string where = "traffic '" + params_.name + "': VM " + v.name + ": ";
  if (stack == nullptr) {
    error = where + "has no transport stack";
    return false;
  }
  if (params_.ipv6 && !v.has_ipv6) {
    error = where + "has no IPv6 address (the traffic uses IPv6)";
    return false;
  }
  if (vm >= stacks_.size()) stacks_.resize(static_cast<std::size_t>(vm) + 1, nullptr);
  stacks_[vm] = stack;
  const std::size_t t = static_cast<std::size_t>(tier - params_.tiers.begin());
  destination_lists_[t].push_back(vm);
  if (t + 1 == params_.tiers.size()) return true;  // the last tier only receives

  double capacity = 0;
  switch (params_.load_reference) {
    case LoadReference::kVnic: capacity = static_cast<double>(v.vnic_rate.bits_per_second()); break;
    case LoadReference::kHostLink: {
      uint32_t on_host = 1;
      for (const Source& s : sources_)
        if (s.rate > 0 && vms[s.vm].host == v.host) ++on_host;
      capacity = static_cast<double>(params_.host_link_rate.bits_per_second()) / on_host;
      break;
    }
    case LoadReference::kSourceRate: capacity = static_cast<double>(params_.source_rate.bits_per_second()); break;
  }
  Source s;
  s.vm = vm;
  s.rng = kernel_.rng_for("traffic/" + params_.name + "/" + v.name);
  s.uniform = &destination_lists_[t + 1];
  s.rate = params_.load * capacity / (8.0 * sizes_.mean());
  offered_bps_ += params_.load * capacity;
  sources_.push_back(std::move(s));
  if (started_) schedule_next(static_cast<uint32_t>(sources_.size() - 1), std::max(params_.start, kernel_.now()));
  return true;
}

void FlowGenerator::remove_vm(VmIndex vm) {
  for (std::vector<VmIndex>& list : destination_lists_) list.erase(std::remove(list.begin(), list.end(), vm), list.end());
  for (Source& s : sources_) {
    if (s.vm != vm || !(s.rate > 0)) continue;
    offered_bps_ -= s.rate * 8.0 * sizes_.mean();
    s.rate = 0;  // its pending arrival finds the rate at zero and ends the chain
  }
}

void FlowGenerator::start() {
  started_ = true;
  // Started late (after `start`): arrivals begin now, never in the past.
  const sim::Time from = std::max(params_.start, kernel_.now());
  for (uint32_t i = 0; i < sources_.size(); ++i) schedule_next(i, from);
}

void FlowGenerator::schedule_next(uint32_t source, sim::Time after) {
  Source& s = sources_[source];
  if (!(s.rate > 0)) return;
  const sim::Time gap = sim::SecondsF(s.rng.exponential(1.0 / s.rate));
  const sim::Time at = after + gap;
  if (at >= params_.stop || at < after) return;  // past the end (or overflow)
  kernel_.schedule_at(at, stacks_[s.vm]->entity(), [this, source] { on_arrival(source); });
}

VmIndex FlowGenerator::pick_destination(Source& s) {
  if (s.uniform == &all_vms_) {
    // Uniform over every VM but the source itself.
    VmIndex d = static_cast<VmIndex>(s.rng.below(all_vms_.size() - 1));
    return d >= s.vm ? d + 1 : d;
  }
  if (s.uniform != nullptr) return (*s.uniform)[s.rng.below(s.uniform->size())];
  const double x = s.rng.uniform() * s.cumulative.back();
  const auto it = std::upper_bound(s.cumulative.begin(), s.cumulative.end(), x);
  const std::size_t i = std::min<std::size_t>(it - s.cumulative.begin(), s.weighted.size() - 1);
  return s.weighted[i];
}

void FlowGenerator::on_arrival(uint32_t source) {
  Source& s = sources_[source];
  if (!(s.rate > 0)) return;  // removed since this arrival was scheduled
  if (s.uniform != nullptr && s.uniform->empty()) {
    schedule_next(source, kernel_.now());  // its next tier is scaled down to nothing for now
    return;
  }
  const VmIndex destination = pick_destination(s);
  const uint64_t size = sizes_.sample(s.rng);
  TransportStack& stack = *stacks_[s.vm];
  if (params_.protocol == TransportProtocol::kTcp) {
    stack.start_tcp_flow(destination, params_.destination_port, size, params_.ipv6);
  } else {
    stack.start_udp_flow(destination, params_.destination_port, size, params_.ipv6);
  }
  ++flows_started_;
  schedule_next(source, kernel_.now());
}

}  // namespace models::traffic
