// Traffic and rule generators for segsim-dfw bench.

#include <cstring>
#include <random>

#include "bench_command.h"
#include "util/bytes.h"
#include "util/checksum.h"

namespace dfw::tools {

void write_bench_frame(uint32_t flow, uint8_t* f) {
  std::memset(f, 0, kBenchFrameSize);
  const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 2};
  const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  std::memcpy(f, dst_mac, 6);
  std::memcpy(f + 6, src_mac, 6);
  store_be16(f + 12, 0x0800);
  uint8_t* ip = f + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, kBenchFrameSize - 14);
  ip[8] = 64;
  ip[9] = 17;
  // The VM is 10.0.0.1; the peer address and both ports spread the flow number.
  ip[12] = 10; ip[13] = 0; ip[14] = 0; ip[15] = 1;
  ip[16] = 10;
  ip[17] = 1;
  ip[18] = static_cast<uint8_t>(flow >> 24);
  ip[19] = 2;
  store_be16(ip + 10, checksum_fold(checksum_add(0, ip, 20)));
  uint8_t* udp = ip + 20;
  store_be16(udp, static_cast<uint16_t>(1024 + (flow & 0xFFF)));
  store_be16(udp + 2, static_cast<uint16_t>(2000 + (flow >> 12 & 0xFFF)));
  store_be16(udp + 4, kBenchFrameSize - 14 - 20);
}

RuleSetSpec generate_bench_rules(uint32_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  RuleSetSpec spec;
  spec.version = 1;
  spec.default_action = Action::kAllow;
  SectionSpec section;
  section.name = "bench";
  auto prefix = [&](uint8_t min_len) {
    IpPrefix p;
    const uint32_t len = min_len + static_cast<uint32_t>(rng() % (33 - min_len));
    const uint32_t addr = (10u << 24) | static_cast<uint32_t>(rng() & 0xFFFFFF);
    const uint32_t masked = len == 0 ? 0 : addr & (~0u << (32 - len));
    p.address[10] = p.address[11] = 0xFF;
    store_be32(p.address.data() + 12, masked);
    p.length = static_cast<uint8_t>(96 + len);
    p.is_v4 = true;
    return p;
  };
  for (uint32_t i = 0; i < count; ++i) {
    RuleSpec r;
    r.id = 1000 + i;
    if (rng() % 4 != 0) r.sources.push_back(prefix(8));
    r.destinations.push_back(prefix(8));
    const uint64_t proto = rng() % 3;
    r.protocol = proto == 0 ? kProtoTcp : proto == 1 ? kProtoUdp : kProtoAny;
    if (r.protocol != kProtoAny) {
      const uint16_t first = static_cast<uint16_t>(rng() % 6000);
      r.destination_ports = {first, static_cast<uint16_t>(first + rng() % 200)};
    }
    r.action = rng() % 10 == 0 ? Action::kDrop : Action::kAllow;
    section.rules.push_back(std::move(r));
  }
  spec.sections.push_back(std::move(section));
  return spec;
}

}  // namespace dfw::tools
