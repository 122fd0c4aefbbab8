// libFuzzer target: parsing + connection tracking + classification + export/import.
//
// Input: byte 0 selects configuration bits (ARP policy, tcp_loose, tiny tables), then records
// [u8 control][u16 length, little-endian][length bytes of frame]. Bits of `control`: 0 =
// direction, 1 = port (1 or 2), 2 = treat as a segmentation-offload super-packet, 3 = run
// expire(), 4-7 = time step. At the end port 1 is exported and imported on a second datapath,
// which must accept its own blob.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dfw/datapath.h"
#include "dfw/rules.h"

namespace {

dfw::RuleTablePtr fuzz_rules() {
  dfw::RuleSetSpec spec;
  spec.version = 1;
  spec.default_action = dfw::Action::kAllow;
  dfw::SectionSpec s;
  dfw::RuleSpec drop_ssh;
  drop_ssh.id = 1;
  drop_ssh.protocol = dfw::kProtoTcp;
  drop_ssh.destination_ports = {22, 22};
  drop_ssh.action = dfw::Action::kReject;
  s.rules.push_back(drop_ssh);
  dfw::RuleSpec drop_dns;
  drop_dns.id = 2;
  drop_dns.protocol = dfw::kProtoUdp;
  drop_dns.destination_ports = {53, 53};
  drop_dns.action = dfw::Action::kDrop;
  s.rules.push_back(drop_dns);
  dfw::RuleSpec net;
  net.id = 3;
  dfw::IpPrefix p;
  dfw::IpPrefix::parse("10.0.0.0/8", p);
  net.sources.push_back(p);
  net.direction = dfw::RuleDirection::kIn;
  net.action = dfw::Action::kDrop;
  s.rules.push_back(net);
  spec.sections.push_back(s);
  dfw::Status error;
  return dfw::compile_rules(spec, error);
}

class CountingFrames final : public platform::FrameSink {
 public:
  void transmit(uint32_t, bool, const uint8_t* frame, uint32_t size) override {
    // Touch every byte so ASan checks the frame is fully inside its buffer.
    for (uint32_t i = 0; i < size; ++i) checksum += frame[i];
  }
  uint64_t checksum = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dfw::RuleTablePtr rules = fuzz_rules();
  if (size < 1 || !rules) return 0;
  dfw::DatapathConfig config;
  config.allow_arp = data[0] & 1;
  config.tcp_loose = data[0] & 2;
  config.allow_non_ip = data[0] & 4;
  config.connection_limit = (data[0] & 8) ? 4 : 4096;
  config.fragment_limit = (data[0] & 16) ? 1 : 64;
  dfw::Datapath dp(config);
  CountingFrames frames;
  dp.set_frame_sink(&frames);
  dp.add_port(1, rules);
  dp.add_port(2, (data[0] & 32) ? nullptr : rules);

  int64_t now = 1'000'000'000;
  size_t at = 1;
  while (at + 3 <= size) {
    const uint8_t control = data[at];
    const size_t length = data[at + 1] | (size_t{data[at + 2]} << 8);
    at += 3;
    if (length > size - at) break;
    // A fresh heap copy of exactly `length` bytes, so ASan catches any read past the header.
    std::vector<uint8_t> frame(data + at, data + at + length);
    at += length;
    dfw::PacketView view{frame.empty() ? nullptr : frame.data(),
                         static_cast<uint32_t>(length), static_cast<uint32_t>(length), 1};
    if (control & 4) {
      view.wire_size = static_cast<uint32_t>(length) + 60000;
      view.segment_count = 40;
    }
    const auto direction = (control & 1) ? dfw::Direction::kIngress : dfw::Direction::kEgress;
    const dfw::Result r = dp.process((control & 2) ? 2 : 1, direction, view, now);
    if (r.verdict == dfw::Verdict::kAllow && r.reason != dfw::DropReason::kNone) abort();
    if (r.verdict == dfw::Verdict::kDrop && r.reason == dfw::DropReason::kNone) abort();
    now += int64_t{control >> 4} * 3'000'000'000;
    if (control & 8) dp.expire(now);
  }

  // Connections past their deadline are gone for packets and for export, but stay counted in the
  // table until expire() sweeps them; sweep so that the counts below compare like with like.
  dp.expire(now);
  std::vector<uint8_t> blob;
  if (!dp.export_port(1, now, blob)) abort();
  dfw::Datapath other(config);
  const dfw::Status imported = other.import_port(1, blob, rules, now);
  if (!imported || other.connection_count(1) != dp.connection_count(1)) abort();
  return 0;
}
