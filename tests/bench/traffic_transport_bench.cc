// Traffic models: cost of frame building/parsing and of the TCP stacks per packet (both ends,
// including the event kernel), and of a generator-driven mix. Google Benchmark; figures and the
// reproducing command are in docs/performance.md, section "Traffic models".
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "models/headers.h"
#include "models/traffic/flow_generator.h"
#include "models/traffic/transport_stack.h"
#include "sim/kernel.h"

namespace {

using namespace models;
using namespace models::traffic;

// Delivers every packet to the destination's stack after a fixed delay; nothing else.
class BenchWire {
 public:
  BenchWire(sim::Kernel& kernel, VmTable& vms, sim::Time delay)
      : kernel_(kernel), vms_(vms), delay_(delay) {}
  void attach(VmIndex v) {
    ports_.push_back(std::make_unique<Port>(*this));
    vms_[v].transmitter = ports_.back().get();
  }
  uint64_t packets() const { return packets_; }

 private:
  struct Port final : PacketTransmitter {
    explicit Port(BenchWire& w) : wire(w) {}
    void transmit(Packet* p) override { wire.carry(p); }
    BenchWire& wire;
  };
  void carry(Packet* p) {
    ++packets_;
    // No queue: the packet leaves at once, which TCP small queues must hear about.
    if (TransmitListener* listener = vms_[p->source_vm].transmit_listener) listener->transmit_completed(*p);
    auto* stack = static_cast<TransportStack*>(vms_[p->destination_vm].receiver);
    kernel_.schedule(delay_, stack->entity(), [stack, p] { stack->receive(p); });
  }
  sim::Kernel& kernel_;
  VmTable& vms_;
  sim::Time delay_;
  std::vector<std::unique_ptr<Port>> ports_;
  uint64_t packets_ = 0;
};

struct World {
  World(std::size_t vm_count, const TransportParams& params)
      : kernel(1), wire(kernel, vms, sim::Micros(10)) {
    for (std::size_t i = 0; i < vm_count; ++i) {
      Vm vm;
      vm.name = "vm" + std::to_string(i);
      vm.mac = {0x02, 0, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
      vm.ipv4 = 0x0A000001 + static_cast<uint32_t>(i);
      vm.vnic_rate = sim::DataRate::gbps(10);
      vms.add(vm);
    }
    for (VmIndex v = 0; v < vm_count; ++v) {
      stacks.push_back(std::make_unique<TransportStack>(kernel, vms, v, pool, records, params));
      pointers.push_back(stacks.back().get());
      wire.attach(v);
    }
  }
  sim::Kernel kernel;
  VmTable vms;
  PacketPool pool;
  FlowRecords records;
  BenchWire wire;
  std::vector<std::unique_ptr<TransportStack>> stacks;
  std::vector<TransportStack*> pointers;
};

void BM_BuildTcpFrame(benchmark::State& state) {
  FiveTuple t;
  t.source = IpAddress::v4(0x0A000001);
  t.destination = IpAddress::v4(0x0A000002);
  t.source_port = 49152;
  t.destination_port = 80;
  t.protocol = kProtocolTcp;
  L2Addresses l2;
  TcpFields f;
  f.flags = tcp_flags::kAck;
  Packet p;
  for (auto _ : state) {
    ++f.seq;
    build_tcp_frame(p, l2, t, f, 64240, 1460);
    benchmark::DoNotOptimize(p.header.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildTcpFrame);

void BM_ParseTcpFrame(benchmark::State& state) {
  FiveTuple t;
  t.source = IpAddress::v4(0x0A000001);
  t.destination = IpAddress::v4(0x0A000002);
  t.protocol = kProtocolTcp;
  Packet p;
  build_tcp_frame(p, {}, t, TcpFields{}, 1460, 1460);
  ParsedFrame f;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parse_frame(p.header.data(), p.header_size, f));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseTcpFrame);

// One long TCP transfer; arg 0: segment_size (1460 = no offload, 65536 = 64 KiB super-packets).
// Items are packets carried (data and ACKs), each handled by a sender and a receiver stack.
void BM_TcpBulkTransfer(benchmark::State& state) {
  TransportParams params;
  params.tcp.min_rto = sim::Millis(1);
  params.tcp.segment_size = sim::Bytes(static_cast<uint64_t>(state.range(0)));
  params.tcp.receive_buffer = sim::Bytes(256 * 1024);
  World w(2, params);
  // 2 GiB at 256 KiB per 20 us round trip lasts ~160 ms of simulated time: more than the
  // 1 ms warm-up plus 100 iterations of 1 ms.
  w.stacks[0]->start_tcp_flow(1, 80, (uint64_t{1} << 31) - 1);
  sim::Time until = sim::Millis(1);
  w.kernel.run_until(until);  // warm-up
  const uint64_t before = w.wire.packets();
  for (auto _ : state) {
    until += sim::Millis(1);
    w.kernel.run_until(until);
  }
  state.SetItemsProcessed(static_cast<int64_t>(w.wire.packets() - before));
}
BENCHMARK(BM_TcpBulkTransfer)->Arg(1460)->Arg(65536)->Iterations(100)->Unit(benchmark::kMicrosecond);

// All-to-all TCP between 32 VMs at 30% of their vNICs with web-search flow sizes: flows start,
// ramp up, close. Items are packets; the flows/s counter is flows started per wall second.
void BM_TcpMix(benchmark::State& state) {
  TransportParams params;
  params.tcp.min_rto = sim::Millis(1);
  World w(32, params);
  FlowSizeCdf sizes;
  std::string error;
  if (!FlowSizeCdf::load(std::string(SEGSIM_SHARED_DATA_DIR) +
                             "/flow-size-cdfs/hpcc_WebSearch_distribution.txt",
                         sizes, error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  FlowGeneratorParams g;
  g.load = 0.3;
  auto generator = FlowGenerator::create(w.kernel, w.vms, w.pointers, sizes, g, error);
  if (!generator) {
    state.SkipWithError(error.c_str());
    return;
  }
  generator->start();
  sim::Time until = sim::Millis(5);
  w.kernel.run_until(until);
  const uint64_t packets_before = w.wire.packets();
  const uint64_t flows_before = w.records.size();
  for (auto _ : state) {
    until += sim::Millis(1);
    w.kernel.run_until(until);
  }
  state.SetItemsProcessed(static_cast<int64_t>(w.wire.packets() - packets_before));
  state.counters["flows/s"] = benchmark::Counter(
      static_cast<double>(w.records.size() - flows_before), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpMix)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
