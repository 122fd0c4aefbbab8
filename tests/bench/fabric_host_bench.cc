// Packet-level throughput of hosts + fabric with the real dfw at both ends.
//
// The issue-4 comparison topology: 32 hosts on a leaf-spine of 4 leaves and 2 spines, 10 Gb/s
// host links, 40 Gb/s fabric links (1 us each, drop-tail), one VM per host sending UDP
// (1500-byte frames) to uniformly chosen other VMs with Poisson arrivals at `load` of its host
// link. Every packet is checked by dfw on egress at the source host and on ingress at the
// destination host (allow-all rules, so every flow creates a connection at both ends) and
// charged by the bundled cost model (or none with --no-cost). Reports simulated packets per
// wall second and CPU second, one-way latency percentiles and the mean and max utilization of
// each class of link over the sending period; with --json one JSON object.
//
// Validation against ns-3 (tests/bench/ns3_leaf_spine_bench.cc draws the same arrivals from the
// same streams): --no-cost, --frame-size 1502 (ns-3's 1472-byte payload plus UDP, IPv4 and PPP
// headers) and --vnic-gbps 1000000 (ns-3 has no vNIC stage between the application and the
// host link; a VM's vNIC would otherwise add a second 10 Gb/s serialization). See
// docs/performance.md, "Fabric vs ns-3".

#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "dfw/rules.h"
#include "models/cost_model.h"
#include "models/headers.h"
#include "models/host.h"
#include "models/switched_fabric.h"
#include "sim/kernel.h"

namespace {

// Counts and releases what a VM receives.
class CountingSink final : public models::PacketReceiver {
 public:
  explicit CountingSink(models::PacketPool& pool) : pool_(pool) {}
  void receive(models::Packet* packet) override {
    ++received;
    pool_.release(packet);
  }
  uint64_t received = 0;

 private:
  models::PacketPool& pool_;
};

// One VM's open-loop UDP source: Poisson arrivals, uniform destinations, one flow per pair.
struct Source {
  models::VmIndex vm;
  sim::EntityId entity;
  sim::Rng rng;
  double mean_gap_ns;
  uint64_t remaining;
};

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  uint64_t packets = 3'000'000;
  double load = 0.8;
  uint32_t frame_size = 1500;
  double vnic_gbps = 10;
  std::string calibration_path = models::default_calibration_path();
  po::options_description options("fabric_host_bench options");
  options.add_options()("help", "show this help")(
      "packets", po::value(&packets)->default_value(packets), "packets to send in total")(
      "load", po::value(&load)->default_value(load), "offered load per host link (0..1)")(
      "frame-size", po::value(&frame_size)->default_value(frame_size),
      "wire bytes per packet (Ethernet header included)")(
      "vnic-gbps", po::value(&vnic_gbps)->default_value(vnic_gbps), "each VM's vNIC rate, Gb/s")(
      "calibration", po::value(&calibration_path), "cost-model calibration file")(
      "no-cost", "switch the cost model off")("json", "print one JSON object");
  po::variables_map args;
  try {
    po::store(po::parse_command_line(argc, argv, options), args);
    po::notify(args);
  } catch (const po::error& e) {
    std::cerr << "fabric_host_bench: " << e.what() << "\n";
    return 2;
  }
  if (args.count("help")) {
    std::cout << options;
    return 0;
  }
  constexpr uint32_t kHeaders = models::kEthernetHeaderSize + models::kIpv4HeaderSize +
                                models::kUdpHeaderSize;
  if (frame_size < kHeaders || frame_size > 9000 || load <= 0 || load > 1 || vnic_gbps <= 0 ||
      packets == 0) {
    std::cerr << "fabric_host_bench: need " << kHeaders
              << " <= --frame-size <= 9000, 0 < --load <= 1, --vnic-gbps > 0, --packets > 0\n";
    return 2;
  }

  constexpr uint32_t kLeaves = 4, kSpines = 2, kHostsPerLeaf = 8;
  constexpr uint32_t kHosts = kLeaves * kHostsPerLeaf;
  const uint32_t kFrameSize = frame_size;
  sim::Kernel kernel(1);
  models::PacketPool pool;
  models::VmTable vms;
  std::string error;

  models::LeafSpineParams topology;
  topology.leaves = kLeaves;
  topology.spines = kSpines;
  topology.hosts_per_leaf = kHostsPerLeaf;
  std::vector<std::string> host_names;
  for (uint32_t h = 0; h < kHosts; ++h) host_names.push_back(std::string("h").append(std::to_string(h)));
  models::FabricGraph graph;
  if (!models::leaf_spine_graph(topology, host_names, graph, error)) {
    std::cerr << error << "\n";
    return 1;
  }
  auto fabric = models::build_switched_fabric(graph, kernel, pool, error);
  if (!fabric) {
    std::cerr << error << "\n";
    return 1;
  }
  models::CostModel cost;
  if (!args.count("no-cost")) {
    models::Calibration calibration;
    if (!models::load_calibration(calibration_path, calibration, error)) {
      std::cerr << error << "\n";
      return 1;
    }
    cost = models::CostModel(calibration.coefficients);
  }
  dfw::RuleSetSpec allow_spec;
  allow_spec.default_action = dfw::Action::kAllow;
  dfw::Status status;
  const dfw::RuleTablePtr allow = dfw::compile_rules(allow_spec, status);

  std::vector<std::unique_ptr<models::Host>> hosts;
  CountingSink sink(pool);
  for (uint32_t h = 0; h < kHosts; ++h) {
    hosts.push_back(std::make_unique<models::Host>(host_names[h], h, models::HostParams{}, kernel,
                                                   pool, vms, *fabric, cost));
    models::Vm vm;
    vm.name = "vm" + std::to_string(h);
    vm.mac = {0x02, 0, 0, 0, static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h + 1)};
    vm.ipv4 = (10u << 24) | (h + 1);
    vm.receiver = &sink;
    vm.vnic_rate = sim::DataRate::bps(static_cast<uint64_t>(vnic_gbps * 1e9));
    const models::VmIndex index = vms.add(vm);
    if (!hosts[h]->add_vm(index, allow).is_ok()) return 1;
  }

  const double gap_ns = kFrameSize * 8.0 / (load * 10.0);  // 10 Gb/s = 10 bits per ns
  std::vector<Source> sources;
  for (uint32_t h = 0; h < kHosts; ++h)
    sources.push_back({h, kernel.add_entity("source/" + std::to_string(h)),
                       kernel.rng_for("source/" + std::to_string(h)), gap_ns,
                       packets / kHosts + (h < packets % kHosts ? 1 : 0)});
  const uint32_t payload = kFrameSize - kHeaders;
  struct Sender {
    static void send(sim::Kernel& kernel, models::PacketPool& pool, models::VmTable& vms,
                     Source& source, uint32_t payload) {
      if (source.remaining == 0) return;
      --source.remaining;
      auto destination = static_cast<models::VmIndex>(source.rng.below(vms.size() - 1));
      if (destination >= source.vm) ++destination;
      models::Packet* p = pool.allocate();
      const models::Vm& from = vms[source.vm];
      const models::Vm& to = vms[destination];
      models::FiveTuple tuple;
      tuple.source = models::IpAddress::v4(from.ipv4);
      tuple.destination = models::IpAddress::v4(to.ipv4);
      tuple.source_port = static_cast<uint16_t>(10000 + destination);
      tuple.destination_port = 9000;
      tuple.protocol = models::kProtocolUdp;
      models::build_udp_frame(*p, {from.mac, to.mac}, tuple, payload);
      p->source_vm = source.vm;
      p->destination_vm = destination;
      p->sent_at = kernel.now();
      p->ecn_marked = false;
      p->flow = models::kNoFlow;
      from.transmitter->transmit(p);
      const auto gap = static_cast<int64_t>(source.rng.exponential(source.mean_gap_ns));
      Source* s = &source;
      kernel.schedule(sim::Nanos(gap), source.entity, [&kernel, &pool, &vms, s, payload] {
        send(kernel, pool, vms, *s, payload);
      });
    }
  };
  for (Source& s : sources)
    kernel.schedule(sim::Nanos(1), s.entity, [&kernel, &pool, &vms, &s, payload] {
      Sender::send(kernel, pool, vms, s, payload);
    });

  // Wall time is what the target is about; CPU time is reported too because on a shared
  // machine wall time also counts time the process spent waiting for a core.
  const std::clock_t cpu_start = std::clock();
  const auto wall_start = std::chrono::steady_clock::now();
  // Until the last packet has had time to arrive (expiry timers would keep the queue non-empty).
  const double send_ns = static_cast<double>(packets / kHosts + 1) * gap_ns;
  // Link utilization over the sending period (as ns3_leaf_spine_bench reports it).
  kernel.run_until(sim::Nanos(static_cast<int64_t>(send_ns)));
  enum LinkClass { kHostToLeaf, kLeafToHost, kLeafToSpine, kSpineToLeaf, kLinkClassCount };
  constexpr std::array<const char*, kLinkClassCount> kLinkClassNames = {
      "host_to_leaf", "leaf_to_host", "leaf_to_spine", "spine_to_leaf"};
  std::array<double, kLinkClassCount> mean_util{}, max_util{};
  std::array<uint32_t, kLinkClassCount> class_links{};
  for (std::size_t i = 0; i < fabric->link_count(); ++i) {
    models::Link& link = fabric->link(i);
    const std::string& name = link.name();  // "<from>-><to>"
    const bool from_leaf = name.rfind("leaf-", 0) == 0, from_spine = name.rfind("spine-", 0) == 0;
    const bool to_spine = name.find("->spine-") != std::string::npos;
    const LinkClass k = from_spine ? kSpineToLeaf
                        : from_leaf ? (to_spine ? kLeafToSpine : kLeafToHost)
                                    : kHostToLeaf;
    const double util = static_cast<double>(link.sample(kernel.now()).busy_ns) / send_ns;
    mean_util[k] += util;
    max_util[k] = std::max(max_util[k], util);
    ++class_links[k];
  }
  for (int k = 0; k < kLinkClassCount; ++k) mean_util[k] /= class_links[k];
  kernel.run_until(sim::Nanos(static_cast<int64_t>(send_ns * 1.2)) + sim::Millis(1));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  models::LatencyHistogram latency;
  uint64_t drops = 0, busy_cycles = 0;
  for (auto& h : hosts) {
    latency.merge(h->latency());
    const models::HostSample s = h->sample(kernel.now());
    drops += s.total_drops();
    for (const auto& c : s.cores) busy_cycles += c.busy_cycles;
  }
  uint64_t link_drops = 0;
  for (std::size_t i = 0; i < fabric->link_count(); ++i)
    for (uint64_t d : fabric->link(i).sample(kernel.now()).drops) link_drops += d;
  const double pps = static_cast<double>(sink.received) / wall;
  if (args.count("json")) {
    std::printf(
        "{\"bench\":\"fabric_host\",\"hosts\":%u,\"packets_sent\":%llu,\"packets_delivered\":%llu,"
        "\"host_drops\":%llu,\"link_drops\":%llu,\"events\":%llu,\"wall_seconds\":%.3f,"
        "\"packets_per_wall_second\":%.0f,\"events_per_wall_second\":%.0f,"
        "\"cpu_seconds\":%.3f,\"packets_per_cpu_second\":%.0f,"
        "\"simulated_seconds\":%.6f,\"latency_p50_ns\":%llu,\"latency_p99_ns\":%llu,"
        "\"latency_p999_ns\":%llu,\"busy_cycles\":%llu,\"cost_model\":%s,\"frame_size\":%u,"
        "\"vnic_gbps\":%g",
        kHosts, static_cast<unsigned long long>(packets),
        static_cast<unsigned long long>(sink.received), static_cast<unsigned long long>(drops),
        static_cast<unsigned long long>(link_drops),
        static_cast<unsigned long long>(kernel.events_executed()), wall, pps,
        static_cast<double>(kernel.events_executed()) / wall, cpu,
        static_cast<double>(sink.received) / cpu, kernel.now().seconds(),
        static_cast<unsigned long long>(latency.percentile(0.5)),
        static_cast<unsigned long long>(latency.percentile(0.99)),
        static_cast<unsigned long long>(latency.percentile(0.999)),
        static_cast<unsigned long long>(busy_cycles), cost.enabled() ? "true" : "false",
        kFrameSize, vnic_gbps);
    for (int k = 0; k < kLinkClassCount; ++k)
      std::printf(",\"util_%s_mean\":%.5f,\"util_%s_max\":%.5f", kLinkClassNames[k], mean_util[k],
                  kLinkClassNames[k], max_util[k]);
    std::printf("}\n");
  } else {
    std::printf("%llu packets delivered (%llu host drops, %llu link drops) in %.2f wall s "
                "(%.2f CPU s): %.0f packets/wall s, %.0f packets/CPU s, %.0f events/wall s; "
                "one-way latency p50 %llu ns, p99 %llu ns, p99.9 %llu ns\n",
                static_cast<unsigned long long>(sink.received),
                static_cast<unsigned long long>(drops), static_cast<unsigned long long>(link_drops),
                wall, cpu, pps, static_cast<double>(sink.received) / cpu,
                static_cast<double>(kernel.events_executed()) / wall,
                static_cast<unsigned long long>(latency.percentile(0.5)),
                static_cast<unsigned long long>(latency.percentile(0.99)),
                static_cast<unsigned long long>(latency.percentile(0.999)));
    for (int k = 0; k < kLinkClassCount; ++k)
      std::printf("  %-14s utilization mean %.4f max %.4f\n", kLinkClassNames[k], mean_util[k],
                  max_util[k]);
  }
  return 0;
}
