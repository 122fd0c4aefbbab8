#pragma once
// Synthetic east-west traffic: who talks to whom, how much, and how often.
//
// Pattern (who may send to whom):
//   - kAllToAll: every VM sends to every other VM, destinations uniform.
//   - kTiers: VMs carrying label `tier_label` = tiers[i] send to VMs with tiers[i + 1]
//     (web -> app -> db): the last tier only receives. Destinations uniform within the next tier.
//   - kMatrix: matrix[s][d] >= 0 weights the pair (s, d), indexed in VmTable order.
//
// Load (how much). Each source VM s has a reference capacity C_s:
//   - LoadReference::kVnic: C_s = the VM's vNIC rate;
//   - LoadReference::kHostLink: C_s = host_link_rate / (number of source VMs on s's host), so a
//     host's sources together offer `load` of its link;
//   - LoadReference::kSourceRate: C_s = source_rate for every source, so each source offers
//     load * source_rate whatever its vNIC or host (the scenario's `load_per_vm`, load = 1): the
//     offered load grows with the number of sending VMs.
// The aggregate offered load is load * sum over sources of C_s, counted in application payload
// bytes (headers, handshakes and retransmissions come on top). For all-to-all and tiers each
// source offers load * C_s. For a matrix the aggregate is split over pairs in proportion to their
// weights: source s offers aggregate * rowsum(s) / total weight.
//
// Arrivals (how often): flows from source s start as a Poisson process of rate
// offered_s / (8 * mean flow size) flows per second, the mean being FlowSizeCdf::mean(); sizes are
// drawn from the CDF. Each source draws from its own stream "traffic/<name>/<vm name>", and its
// arrival events run as its TransportStack's entity, so results depend only on the seed.
// Arrivals happen in [start, stop).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/traffic/flow_size_cdf.h"
#include "models/traffic/transport_stack.h"
#include "models/vm.h"
#include "sim/kernel.h"

namespace models::traffic {

enum class CommunicationPattern { kAllToAll, kTiers, kMatrix };
enum class LoadReference { kVnic, kHostLink, kSourceRate };
enum class TransportProtocol { kTcp, kUdp };

struct FlowGeneratorParams {
  std::string name = "synthetic";  // unique per generator: keys the random streams
  CommunicationPattern pattern = CommunicationPattern::kAllToAll;
  std::string tier_label = "role";
  std::vector<std::string> tiers;                 // kTiers: label values in call order
  std::vector<std::vector<double>> matrix;        // kMatrix: [source][destination] weights
  double load = 0.3;                              // fraction of the reference capacity
  LoadReference load_reference = LoadReference::kVnic;
  sim::DataRate host_link_rate = sim::DataRate::gbps(10);  // kHostLink only
  sim::DataRate source_rate = sim::DataRate::bps(100'000'000);  // kSourceRate only
  TransportProtocol protocol = TransportProtocol::kTcp;
  uint16_t destination_port = 8080;
  bool ipv6 = false;                              // use the VMs' IPv6 addresses
  sim::Time start = sim::Time::zero();
  sim::Time stop = sim::Time::max();
};

class FlowGenerator {
 public:
  // Validates the parameters against the VM table and prepares per-source arrival processes.
  // `stacks[v]` is VM v's stack (every VM that sends or receives needs one). On error returns
  // nullptr with a message naming the field.
  static std::unique_ptr<FlowGenerator> create(sim::Kernel& kernel, const VmTable& vms,
                                               const std::vector<TransportStack*>& stacks,
                                               const FlowSizeCdf& sizes,
                                               const FlowGeneratorParams& params,
                                               std::string& error);
  FlowGenerator(const FlowGenerator&) = delete;
  FlowGenerator& operator=(const FlowGenerator&) = delete;

  // Schedules each source's first arrival (call once, before or during the run).
  void start();

  // VMs created and removed during the run (scale out / in, scenarios/run/src/scale.h). Only
  // the tiers pattern picks peers by label, so only it changes: a VM with the tier label joins
  // its tier as a destination of the tier before and, unless it is the last tier, as a source
  // offering load * its own reference capacity (kHostLink: the link shared with the sources on
  // its host at that moment); existing sources keep their rates. A removed VM stops sending and
  // is no longer picked. All-to-all and matrix keep the VMs they were created with. add_vm
  // returns false (with `error`) if the VM cannot join (no stack, no IPv6 with ipv6).
  bool add_vm(const VmTable& vms, VmIndex vm, TransportStack* stack, std::string& error);
  void remove_vm(VmIndex vm);

  double offered_load_bps() const { return offered_bps_; }  // aggregate, payload bits/s
  double arrival_rate(VmIndex source) const;                // flows per second
  std::size_t source_count() const { return sources_.size(); }
  uint64_t flows_started() const { return flows_started_; }
  const FlowGeneratorParams& params() const { return params_; }

 private:
  struct Source {
    VmIndex vm = kNoVm;
    double rate = 0;               // flows per second
    sim::Rng rng;
    // Destinations: either a uniform pick from a shared list, or a weighted pick (matrix).
    const std::vector<VmIndex>* uniform = nullptr;
    std::vector<VmIndex> weighted;
    std::vector<double> cumulative;  // running sums of the weights, same length as `weighted`
  };

  FlowGenerator(sim::Kernel& kernel, const std::vector<TransportStack*>& stacks,
                const FlowSizeCdf& sizes, const FlowGeneratorParams& params);
  void schedule_next(uint32_t source, sim::Time after);
  void on_arrival(uint32_t source);
  VmIndex pick_destination(Source& s);

  sim::Kernel& kernel_;
  std::vector<TransportStack*> stacks_;
  FlowSizeCdf sizes_;  // a copy: a few dozen points
  FlowGeneratorParams params_;
  std::vector<Source> sources_;
  std::vector<std::vector<VmIndex>> destination_lists_;  // shared uniform lists
  std::vector<VmIndex> all_vms_;
  double offered_bps_ = 0;
  uint64_t flows_started_ = 0;
  bool started_ = false;
};

}  // namespace models::traffic
