#pragma once
// Helpers for the replay tests: a writer of classic pcap files (so tests craft exact traces), and
// a wire that carries replayed packets between VMs after a fixed delay, checks their checksums
// and logs what it carried.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/headers.h"
#include "models/packet.h"
#include "models/traffic/flow_records.h"
#include "models/traffic/replay_flows.h"
#include "models/traffic/replay_source.h"
#include "models/vm.h"
#include "sim/kernel.h"

namespace models::traffic::testing {

// A temporary file removed at scope exit.
struct TempFile {
  explicit TempFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() /
              (name + "-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())).string()) {}
  ~TempFile() { std::filesystem::remove(path); }
  void write(const std::string& text) const { std::ofstream(path, std::ios::binary) << text; }
  std::string path;
};

// Classic little-endian pcap with microsecond timestamps, link type Ethernet.
class PcapWriter {
 public:
  PcapWriter() {
    put32(0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(65535);
    put32(1);  // DLT_EN10MB
  }
  // Appends a frame captured at `usec` microseconds.
  void add(int64_t usec, const uint8_t* frame, uint32_t size) {
    put32(static_cast<uint32_t>(usec / 1'000'000));
    put32(static_cast<uint32_t>(usec % 1'000'000));
    put32(size);
    put32(size);
    bytes_.append(reinterpret_cast<const char*>(frame), size);
  }
  // Appends a packet built by the frame builders (header bytes only: a snapped capture).
  void add(int64_t usec, const Packet& p) { add(usec, p.header.data(), p.header_size); }
  const std::string& bytes() const { return bytes_; }
  void save(const std::string& path, std::size_t cut = 0) const {
    std::ofstream(path, std::ios::binary) << bytes_.substr(0, bytes_.size() - cut);
  }

 private:
  void put16(uint16_t v) { bytes_.append(reinterpret_cast<const char*>(&v), 2); }
  void put32(uint32_t v) { bytes_.append(reinterpret_cast<const char*>(&v), 4); }
  std::string bytes_;
};

inline IpAddress ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return IpAddress::v4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}

// A trace frame between two trace hosts (MACs are the trace's, never the VMs').
inline Packet trace_udp(const IpAddress& from, uint16_t from_port, const IpAddress& to, uint16_t to_port,
                        uint32_t payload) {
  Packet p;
  FiveTuple t{from, to, from_port, to_port, kProtocolUdp};
  build_udp_frame(p, L2Addresses{{0xaa, 0, 0, 0, 0, 1}, {0xaa, 0, 0, 0, 0, 2}}, t, payload);
  return p;
}
inline Packet trace_tcp(const IpAddress& from, uint16_t from_port, const IpAddress& to, uint16_t to_port,
                        const TcpFields& tcp, uint32_t payload) {
  Packet p;
  FiveTuple t{from, to, from_port, to_port, kProtocolTcp};
  build_tcp_frame(p, L2Addresses{{0xaa, 0, 0, 0, 0, 1}, {0xaa, 0, 0, 0, 0, 2}}, t, tcp, payload, 0);
  return p;
}

struct Carried {
  sim::Time at;
  VmIndex from;
  VmIndex to;
  ParsedFrame frame;
  MacAddress source_mac;
  MacAddress destination_mac;
  uint16_t segment_count;
  uint32_t wire_size;
  uint32_t payload_size;
};

// VMs vm0..vmN-1 (10.0.0.1.., MACs 02:..:01..), each with a vNIC on one wire.
class ReplayWorld {
 public:
  ReplayWorld(std::size_t vm_count, sim::Time delay = sim::Micros(5))
      : kernel(1), flows(vms, pool, records), delay_(delay) {
    for (std::size_t i = 0; i < vm_count; ++i) {
      Vm vm;
      vm.name = "vm" + std::to_string(i);
      vm.mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(i + 1)};
      vm.ipv4 = 0x0A000001 + static_cast<uint32_t>(i);
      vms.add(vm);
    }
    entity_ = kernel.add_entity("wire");
    for (VmIndex v = 0; v < vm_count; ++v) ports_.push_back(std::make_unique<Port>(*this, v));
    for (VmIndex v = 0; v < vm_count; ++v) vms[v].transmitter = ports_[v].get();
  }
  // Call after any receivers of the test exist.
  void attach() { flows.attach_receivers(); }

  std::unique_ptr<ReplaySource> pcap(const ReplayParams& params) {
    std::string error;
    auto r = create_pcap_replay(kernel, vms, pool, flows, params, error);
    EXPECT_TRUE(r) << error;
    return r;
  }

  bool logging = true;
  uint64_t checksum_errors = 0;
  std::vector<Carried> log;
  std::function<bool(const Carried&)> drop;

  sim::Kernel kernel;
  VmTable vms;
  PacketPool pool;
  FlowRecords records;
  ReplayFlows flows;

 private:
  struct Port final : PacketTransmitter {
    Port(ReplayWorld& w, VmIndex v) : world(w), vm(v) {}
    void transmit(Packet* p) override { world.carry(p, vm); }
    ReplayWorld& world;
    VmIndex vm;
  };
  void carry(Packet* p, VmIndex from) {
    // No queue: a stack's TCP data leaves at once, which TCP small queues must hear about.
    if (TransmitListener* listener = vms[from].transmit_listener) listener->transmit_completed(*p);
    if (logging) {
      Carried c{kernel.now(), from, p->destination_vm, {}, {}, {}, p->segment_count, p->wire_size, p->payload_size};
      EXPECT_EQ(parse_frame(p->header.data(), p->header_size, c.frame), ParseStatus::kOk);
      std::copy_n(p->header.begin(), 6, c.destination_mac.begin());
      std::copy_n(p->header.begin() + 6, 6, c.source_mac.begin());
      verify(*p, c.frame);
      log.push_back(c);
      if (drop && drop(c)) {
        pool.release(p);
        return;
      }
    }
    kernel.schedule(delay_, entity_, [this, p] { vms[p->destination_vm].receiver->receive(p); });
  }
  void verify(const Packet& p, const ParsedFrame& f) {
    const uint8_t* h = p.header.data();
    const bool v6 = f.tuple.source.is_v6;
    if (!v6 && checksum_fold(checksum_add(0, h + f.l3_offset, 20)) != 0) ++checksum_errors;
    if (f.tuple.protocol == kProtocolIcmp) return;
    const uint32_t l4_length = f.l4_header_size + f.l4_payload_size;
    const std::size_t address_size = v6 ? 16 : 4;
    uint32_t sum = checksum_add(0, f.tuple.source.bytes.data(), address_size);
    sum = checksum_add(sum, f.tuple.destination.bytes.data(), address_size);
    sum += f.tuple.protocol + (l4_length >> 16) + (l4_length & 0xFFFF);
    sum = checksum_add(sum, h + f.l4_offset, f.l4_header_size);
    if (checksum_fold(sum) != 0) ++checksum_errors;
  }

  sim::Time delay_;
  sim::EntityId entity_;
  std::vector<std::unique_ptr<Port>> ports_;
};

}  // namespace models::traffic::testing
