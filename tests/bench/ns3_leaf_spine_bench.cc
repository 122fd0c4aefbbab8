// ns-3's side of the issue-4 comparison: the topology and traffic of fabric_host_bench, written
// the ordinary ns-3 way. Compiled as C++17 against Debian's libns3-dev (ns-3 headers do not
// compile as C++20).
//
// Topology: 32 hosts on a leaf-spine of 4 leaves (8 hosts each) and 2 spines, point-to-point
// links of 10 Gb/s (host <-> leaf) and 40 Gb/s (leaf <-> spine), 1 us each, routed by
// Ipv4GlobalRouting with ECMP. ns-3.37's global routing offers only per-packet random ECMP
// (RandomEcmpRouting); it has no 5-tuple hashing, so spine choices differ from segsim's
// per-flow hash (see docs/performance.md, "Fabric vs ns-3").
//
// Traffic: exactly fabric_host_bench's. Each host sends UDP packets with Poisson arrivals at
// `load` of its 10 Gb/s link, each to a uniformly chosen other host (source port 10000 + the
// destination's index, destination port 9000: 992 flows). The gaps and destinations come from
// segsim's own generator (sim/rng.h, C++17-clean) with the same seed and stream names, so both
// simulators see the same arrival sequence packet for packet. Load counts wire bytes: a
// payload of P bytes is P + 8 (UDP) + 20 (IPv4) + 2 (PPP) bytes on the wire; 1472 gives 1502.
//
// Queues: --qdisc fqcodel keeps what Ipv4AddressHelper::Assign installs (FqCoDel on every
// device, ns-3's default); --qdisc none uninstalls it, leaving the devices' drop-tail queues,
// sized in bytes like segsim's (512 KiB at host-link ports, 1 MiB at fabric ports).
//
// Reports packets per wall second and CPU second, one-way latency percentiles (exact,
// nearest-rank, from a timestamp carried in each packet, send call to socket receive) and the
// mean and max utilization of each class of link over the sending period; --json prints one
// JSON object.

#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"
#include "sim/rng.h"

namespace {

constexpr uint32_t kLeaves = 4, kSpines = 2, kHostsPerLeaf = 8;
constexpr uint32_t kHosts = kLeaves * kHostsPerLeaf;
constexpr uint16_t kSinkPort = 9000;
constexpr uint32_t kUdpIpPppOverhead = 8 + 20 + 2;  // bytes on the wire around the payload

// Latencies of every delivered packet (ns); exact percentiles at the end.
std::vector<int64_t> g_latencies;

// One host's open-loop source, drawing from the same stream as fabric_host_bench's Source.
class PoissonAllToAll final : public ns3::Application {
 public:
  PoissonAllToAll(uint32_t host, const std::vector<ns3::Ipv4Address>& addresses,
                  uint64_t packets, double mean_gap_ns, uint32_t payload)
      : host_(host),
        addresses_(addresses),
        rng_(sim::Rng::stream(1, "source/" + std::to_string(host))),
        remaining_(packets),
        mean_gap_ns_(mean_gap_ns),
        payload_(payload) {}

 private:
  void StartApplication() override {
    sockets_.resize(kHosts);
    for (uint32_t d = 0; d < kHosts; ++d) {
      if (d == host_) continue;
      sockets_[d] = ns3::Socket::CreateSocket(GetNode(), ns3::UdpSocketFactory::GetTypeId());
      sockets_[d]->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(),
                                               static_cast<uint16_t>(10000 + d)));
      sockets_[d]->Connect(ns3::InetSocketAddress(addresses_[d], kSinkPort));
    }
    // fabric_host_bench's first send is at 1 ns.
    ns3::Simulator::Schedule(ns3::NanoSeconds(1), &PoissonAllToAll::Send, this);
  }
  void StopApplication() override {}

  void Send() {
    if (remaining_ == 0) return;
    --remaining_;
    // Same draw order as fabric_host_bench: destination, then the gap.
    auto destination = static_cast<uint32_t>(rng_.below(kHosts - 1));
    if (destination >= host_) ++destination;
    ns3::SeqTsHeader stamp;  // carries the send time
    stamp.SetSeq(static_cast<uint32_t>(remaining_));
    ns3::Ptr<ns3::Packet> packet = ns3::Create<ns3::Packet>(payload_ - stamp.GetSerializedSize());
    packet->AddHeader(stamp);
    sockets_[destination]->Send(packet);
    const auto gap = static_cast<int64_t>(rng_.exponential(mean_gap_ns_));
    ns3::Simulator::Schedule(ns3::NanoSeconds(gap), &PoissonAllToAll::Send, this);
  }

  uint32_t host_;
  const std::vector<ns3::Ipv4Address>& addresses_;
  sim::Rng rng_;
  uint64_t remaining_;
  double mean_gap_ns_;
  uint32_t payload_;
  std::vector<ns3::Ptr<ns3::Socket>> sockets_;
};

void Receive(ns3::Ptr<ns3::Socket> socket) {
  ns3::Ptr<ns3::Packet> packet;
  while ((packet = socket->Recv())) {
    ns3::SeqTsHeader stamp;
    packet->RemoveHeader(stamp);
    g_latencies.push_back((ns3::Simulator::Now() - stamp.GetTs()).GetNanoSeconds());
  }
}

// Link classes, named like segsim's links (from->to).
enum LinkClass { kHostToLeaf, kLeafToHost, kLeafToSpine, kSpineToLeaf, kLinkClassCount };
constexpr std::array<const char*, kLinkClassCount> kLinkClassNames = {
    "host_to_leaf", "leaf_to_host", "leaf_to_spine", "spine_to_leaf"};

struct TxCounter {
  LinkClass link_class;
  double rate_bps;
  uint64_t bytes = 0;           // wire bytes whose transmission began
  uint64_t bytes_at_mark = 0;   // ... by the end of the sending period
};

void CountTx(TxCounter* counter, ns3::Ptr<const ns3::Packet> packet) {
  counter->bytes += packet->GetSize();
}

int64_t Percentile(std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  uint64_t packets = 3'000'000;
  double load = 0.8;
  uint32_t payload = 1472;
  std::string qdisc = "fqcodel";
  uint64_t host_queue_bytes = 512 * 1024, fabric_queue_bytes = 1024 * 1024;
  po::options_description options("ns3_leaf_spine_bench options");
  options.add_options()("help", "show this help")(
      "packets", po::value(&packets)->default_value(packets), "packets to send in total")(
      "load", po::value(&load)->default_value(load), "offered load per host link, wire bytes (0..1)")(
      "payload", po::value(&payload)->default_value(payload), "UDP payload bytes (wire = +30)")(
      "qdisc", po::value(&qdisc)->default_value(qdisc), "fqcodel (ns-3 default) | none")(
      "host-queue-bytes", po::value(&host_queue_bytes)->default_value(host_queue_bytes),
      "device queue at host-link ports, bytes")(
      "fabric-queue-bytes", po::value(&fabric_queue_bytes)->default_value(fabric_queue_bytes),
      "device queue at fabric ports, bytes")("json", "print one JSON object");
  po::variables_map args;
  try {
    po::store(po::parse_command_line(argc, argv, options), args);
    po::notify(args);
  } catch (const po::error& e) {
    std::cerr << "ns3_leaf_spine_bench: " << e.what() << "\n";
    return 2;
  }
  if (args.count("help")) {
    std::cout << options;
    return 0;
  }
  if (qdisc != "fqcodel" && qdisc != "none") {
    std::cerr << "ns3_leaf_spine_bench: --qdisc must be fqcodel or none, got '" << qdisc << "'\n";
    return 2;
  }
  if (payload < 12 || load <= 0 || load > 1 || packets == 0) {
    std::cerr << "ns3_leaf_spine_bench: need --payload >= 12, 0 < --load <= 1, --packets > 0\n";
    return 2;
  }

  ns3::Config::SetDefault("ns3::Ipv4GlobalRouting::RandomEcmpRouting", ns3::BooleanValue(true));
  ns3::NodeContainer hosts, leaves, spines;
  hosts.Create(kHosts);
  leaves.Create(kLeaves);
  spines.Create(kSpines);
  ns3::InternetStackHelper internet;
  internet.InstallAll();

  ns3::PointToPointHelper host_link, fabric_link;
  host_link.SetDeviceAttribute("DataRate", ns3::StringValue("10Gbps"));
  host_link.SetChannelAttribute("Delay", ns3::StringValue("1us"));
  host_link.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize",
                     ns3::QueueSizeValue(ns3::QueueSize(ns3::QueueSizeUnit::BYTES,
                                                        static_cast<uint32_t>(host_queue_bytes))));
  fabric_link.SetDeviceAttribute("DataRate", ns3::StringValue("40Gbps"));
  fabric_link.SetChannelAttribute("Delay", ns3::StringValue("1us"));
  fabric_link.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize",
                       ns3::QueueSizeValue(ns3::QueueSize(
                           ns3::QueueSizeUnit::BYTES, static_cast<uint32_t>(fabric_queue_bytes))));

  ns3::Ipv4AddressHelper addresses("10.0.0.0", "255.255.255.252");
  std::vector<ns3::Ipv4Address> host_addresses(kHosts);
  std::vector<TxCounter> counters;
  counters.reserve(2 * (kHosts + kLeaves * kSpines));
  ns3::NetDeviceContainer all_devices;
  // Device 0 of a pair is the `a` end; its transmissions go a -> b.
  auto connect = [&](ns3::PointToPointHelper& helper, ns3::Ptr<ns3::Node> a, ns3::Ptr<ns3::Node> b,
                     LinkClass a_to_b, LinkClass b_to_a, double rate_bps) {
    ns3::NetDeviceContainer pair = helper.Install(a, b);
    ns3::Ipv4InterfaceContainer interfaces = addresses.Assign(pair);
    addresses.NewNetwork();
    all_devices.Add(pair);
    counters.push_back({a_to_b, rate_bps});
    pair.Get(0)->TraceConnectWithoutContext("PhyTxBegin",
                                            ns3::MakeBoundCallback(&CountTx, &counters.back()));
    counters.push_back({b_to_a, rate_bps});
    pair.Get(1)->TraceConnectWithoutContext("PhyTxBegin",
                                            ns3::MakeBoundCallback(&CountTx, &counters.back()));
    return interfaces.GetAddress(0);
  };
  for (uint32_t h = 0; h < kHosts; ++h)
    host_addresses[h] = connect(host_link, hosts.Get(h), leaves.Get(h / kHostsPerLeaf),
                                kHostToLeaf, kLeafToHost, 10e9);
  for (uint32_t l = 0; l < kLeaves; ++l)
    for (uint32_t s = 0; s < kSpines; ++s)
      connect(fabric_link, leaves.Get(l), spines.Get(s), kLeafToSpine, kSpineToLeaf, 40e9);
  if (qdisc == "none") ns3::TrafficControlHelper().Uninstall(all_devices);
  ns3::Ipv4GlobalRoutingHelper::PopulateRoutingTables();

  const double wire_bytes = payload + kUdpIpPppOverhead;
  const double gap_ns = wire_bytes * 8.0 / (load * 10.0);  // 10 Gb/s = 10 bits per ns
  g_latencies.reserve(packets);
  for (uint32_t h = 0; h < kHosts; ++h) {
    ns3::Ptr<ns3::Socket> sink =
        ns3::Socket::CreateSocket(hosts.Get(h), ns3::UdpSocketFactory::GetTypeId());
    sink->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), kSinkPort));
    sink->SetRecvCallback(ns3::MakeCallback(&Receive));
    auto app = ns3::Create<PoissonAllToAll>(h, host_addresses,
                                            packets / kHosts + (h < packets % kHosts ? 1 : 0),
                                            gap_ns, payload);
    hosts.Get(h)->AddApplication(app);
    app->SetStartTime(ns3::Seconds(0));
  }

  // Same horizon as fabric_host_bench; utilizations are taken over the sending period.
  const double send_ns = static_cast<double>(packets / kHosts + 1) * gap_ns;
  ns3::Simulator::Schedule(ns3::NanoSeconds(static_cast<int64_t>(send_ns)), [&counters] {
    for (TxCounter& c : counters) c.bytes_at_mark = c.bytes;
  });
  ns3::Simulator::Stop(ns3::NanoSeconds(static_cast<int64_t>(send_ns * 1.2) + 1'000'000));

  const std::clock_t cpu_start = std::clock();
  const auto wall_start = std::chrono::steady_clock::now();
  ns3::Simulator::Run();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const uint64_t delivered = g_latencies.size();
  ns3::Simulator::Destroy();

  std::array<double, kLinkClassCount> mean_util{}, max_util{};
  std::array<uint32_t, kLinkClassCount> links{};
  for (const TxCounter& c : counters) {
    const double util = static_cast<double>(c.bytes_at_mark) * 8.0 / c.rate_bps / (send_ns * 1e-9);
    mean_util[c.link_class] += util;
    max_util[c.link_class] = std::max(max_util[c.link_class], util);
    ++links[c.link_class];
  }
  for (int k = 0; k < kLinkClassCount; ++k) mean_util[k] /= links[k];
  std::sort(g_latencies.begin(), g_latencies.end());
  const int64_t p50 = Percentile(g_latencies, 0.5), p99 = Percentile(g_latencies, 0.99),
                p999 = Percentile(g_latencies, 0.999);

  if (args.count("json")) {
    std::printf("{\"bench\":\"ns3_leaf_spine\",\"qdisc\":\"%s\",\"hosts\":%u,\"packets_sent\":%llu,"
                "\"packets_delivered\":%llu,\"wire_bytes\":%.0f,\"wall_seconds\":%.3f,"
                "\"packets_per_wall_second\":%.0f,\"cpu_seconds\":%.3f,"
                "\"packets_per_cpu_second\":%.0f,\"latency_p50_ns\":%lld,\"latency_p99_ns\":%lld,"
                "\"latency_p999_ns\":%lld",
                qdisc.c_str(), kHosts, static_cast<unsigned long long>(packets),
                static_cast<unsigned long long>(delivered), wire_bytes, wall,
                static_cast<double>(delivered) / wall, cpu, static_cast<double>(delivered) / cpu,
                static_cast<long long>(p50), static_cast<long long>(p99),
                static_cast<long long>(p999));
    for (int k = 0; k < kLinkClassCount; ++k)
      std::printf(",\"util_%s_mean\":%.5f,\"util_%s_max\":%.5f", kLinkClassNames[k], mean_util[k],
                  kLinkClassNames[k], max_util[k]);
    std::printf("}\n");
  } else {
    std::printf("ns-3 (%s): %llu of %llu packets delivered in %.2f wall s (%.2f CPU s): "
                "%.0f packets/wall s; one-way latency p50 %lld ns, p99 %lld ns, p99.9 %lld ns\n",
                qdisc.c_str(), static_cast<unsigned long long>(delivered),
                static_cast<unsigned long long>(packets), wall, cpu,
                static_cast<double>(delivered) / wall, static_cast<long long>(p50),
                static_cast<long long>(p99), static_cast<long long>(p999));
    for (int k = 0; k < kLinkClassCount; ++k)
      std::printf("  %-14s utilization mean %.4f max %.4f\n", kLinkClassNames[k], mean_util[k],
                  max_util[k]);
  }
  return 0;
}
