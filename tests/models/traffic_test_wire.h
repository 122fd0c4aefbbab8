#pragma once
// A tiny network for transport tests: every VM's vNIC hands packets to one Wire, which delivers
// them to the destination VM's receiver after a fixed one-way delay (no bandwidth limit, no
// reordering), or drops those a test chooses. It checks every frame it carries (both checksums,
// lengths) and logs each one so tests can assert on exact sequences and times.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/headers.h"
#include "models/packet.h"
#include "models/traffic/flow_records.h"
#include "models/traffic/transport_stack.h"
#include "models/vm.h"
#include "sim/kernel.h"

namespace models::traffic::testing {

struct WireEvent {
  sim::Time at;
  VmIndex from;
  VmIndex to;
  ParsedFrame frame;
  uint16_t segment_count;
  uint32_t wire_size;
  bool dropped;
};

class Wire {
 public:
  using DropRule = std::function<bool(const Packet&, const ParsedFrame&)>;

  Wire(sim::Kernel& kernel, VmTable& vms, PacketPool& pool, sim::Time one_way_delay)
      : kernel_(kernel), vms_(vms), pool_(pool), delay_(one_way_delay) {}

  // Gives VM `v` a vNIC on this wire.
  void attach(VmIndex v) {
    if (ports_.size() <= v) ports_.resize(v + 1);
    ports_[v] = std::make_unique<Port>(*this, v);
    vms_[v].transmitter = ports_[v].get();
  }
  void set_drop_rule(DropRule rule) { drop_ = std::move(rule); }
  // Logging and per-frame checks allocate; allocation-counting tests turn them off.
  void set_checking(bool on) { checking_ = on; }
  // Delivers a packet built by the test (e.g. a firewall's RST) to `to` after the wire delay.
  void inject(Packet* p, VmIndex to) { deliver_later(p, to); }

  const std::vector<WireEvent>& log() const { return log_; }
  uint64_t checksum_errors() const { return checksum_errors_; }

 private:
  struct Port final : PacketTransmitter {
    Port(Wire& w, VmIndex v) : wire(w), vm(v) {}
    void transmit(Packet* p) override {
      // No queue: the packet leaves the vNIC at once, which TCP small queues must hear about.
      if (TransmitListener* listener = wire.vms_[vm].transmit_listener) listener->transmit_completed(*p);
      wire.carry(p, vm);
    }
    Wire& wire;
    VmIndex vm;
  };

  void carry(Packet* p, VmIndex from) {
    if (!checking_) {
      deliver_later(p, p->destination_vm);
      return;
    }
    ParsedFrame f;
    EXPECT_EQ(parse_frame(p->header.data(), p->header_size, f), ParseStatus::kOk);
    verify_checksums(*p, f);
    EXPECT_EQ(p->source_vm, from);
    EXPECT_EQ(p->sent_at, kernel_.now());
    const bool dropped = drop_ && drop_(*p, f);
    log_.push_back({kernel_.now(), from, p->destination_vm, f, p->segment_count, p->wire_size,
                    dropped});
    if (dropped) {
      pool_.release(p);
      return;
    }
    deliver_later(p, p->destination_vm);
  }

  void deliver_later(Packet* p, VmIndex to) {
    TransportStack* stack = static_cast<TransportStack*>(vms_[to].receiver);
    kernel_.schedule(delay_, stack->entity(), [stack, p] { stack->receive(p); });
  }

  void verify_checksums(const Packet& p, const ParsedFrame& f) {
    const uint8_t* h = p.header.data();
    uint32_t sum = 0;
    const bool v6 = f.tuple.source.is_v6;
    if (!v6 && checksum_fold(checksum_add(0, h + f.l3_offset, 20)) != 0) ++checksum_errors_;
    const uint32_t l4_length = f.l4_header_size + f.l4_payload_size;
    const std::size_t address_size = v6 ? 16 : 4;
    sum = checksum_add(sum, f.tuple.source.bytes.data(), address_size);
    sum = checksum_add(sum, f.tuple.destination.bytes.data(), address_size);
    sum += f.tuple.protocol + (l4_length >> 16) + (l4_length & 0xFFFF);
    sum = checksum_add(sum, h + f.l4_offset, f.l4_header_size);
    if (f.tuple.protocol != kProtocolIcmp && checksum_fold(sum) != 0) ++checksum_errors_;
  }

  sim::Kernel& kernel_;
  VmTable& vms_;
  PacketPool& pool_;
  sim::Time delay_;
  DropRule drop_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::vector<WireEvent> log_;
  uint64_t checksum_errors_ = 0;
  bool checking_ = true;
};

// Two or more VMs, a stack each, all on one wire.
struct TestWorld {
  TestWorld(uint64_t seed, std::size_t vm_count, sim::Time one_way_delay,
            const TransportParams& params = {})
      : kernel(seed), wire(kernel, vms, pool, one_way_delay) {
    for (std::size_t i = 0; i < vm_count; ++i) {
      Vm vm;
      vm.name = "vm" + std::to_string(i);
      vm.mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(i + 1)};
      vm.ipv4 = 0x0A000001 + static_cast<uint32_t>(i);
      vm.ipv6 = {0xfd};
      vm.ipv6[15] = static_cast<uint8_t>(i + 1);
      vm.has_ipv6 = true;
      vms.add(vm);
    }
    for (VmIndex v = 0; v < vm_count; ++v) {
      stacks.push_back(std::make_unique<TransportStack>(kernel, vms, v, pool, records, params));
      wire.attach(v);
    }
  }
  std::vector<TransportStack*> stack_pointers() {
    std::vector<TransportStack*> out;
    for (auto& s : stacks) out.push_back(s.get());
    return out;
  }

  sim::Kernel kernel;
  VmTable vms;
  PacketPool pool;
  FlowRecords records;
  Wire wire;
  std::vector<std::unique_ptr<TransportStack>> stacks;
};

}  // namespace models::traffic::testing
