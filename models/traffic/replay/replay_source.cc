// Common replay machinery: address mapping, time mapping, loop rewriting, frame building.
#include "models/traffic/replay_source.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>

namespace models::traffic {
namespace {

constexpr uint32_t kLoopPortStride = 1009;  // prime: loops of nearby ports rarely coincide
constexpr uint32_t kFirstRewrittenPort = 1024;

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A stable hash of an address (its family included), independent of the platform.
uint64_t address_hash(const IpAddress& a) {
  uint64_t h = a.is_v6 ? 0x6ULL : 0x4ULL;
  for (std::size_t i = 0; i < 16; i += 8) {
    uint64_t v = 0;
    for (std::size_t j = 0; j < 8; ++j) v = (v << 8) | a.bytes[i + j];
    h = mix64(h ^ (v + 0x9E3779B97F4A7C15ULL));
  }
  return h;
}

bool parse_address(const std::string& text, IpAddress& out) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out = IpAddress::v4(ntohl(v4.s_addr));
    return true;
  }
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
    out = IpAddress::v6(v6);
    return true;
  }
  return false;
}

}  // namespace

std::string_view replay_skip_name(ReplaySkip skip) {
  switch (skip) {
#define SEGSIM_X(name, text) \
  case ReplaySkip::name: return text;
    SEGSIM_REPLAY_SKIPS(SEGSIM_X)
#undef SEGSIM_X
    case ReplaySkip::kCount: break;
  }
  return "unknown";
}

std::size_t AddressMapper::AddressHash::operator()(const IpAddress& a) const {
  return static_cast<std::size_t>(address_hash(a));
}

bool AddressMapper::init(const VmTable& vms, ReplayMapping mapping,
                         const std::map<std::string, std::string>& table, std::string& error) {
  mapping_ = mapping;
  vm_count_ = static_cast<uint32_t>(vms.size());
  if (vm_count_ == 0) {
    error = "no VMs to map the trace onto";
    return false;
  }
  if (mapping != ReplayMapping::kTable) return true;
  for (const auto& [address, vm_name] : table) {
    IpAddress a;
    if (!parse_address(address, a)) {
      error = "address_table." + address + ": not an IP address";
      return false;
    }
    const VmIndex vm = vms.find(vm_name);
    if (vm == kNoVm) {
      error = "address_table." + address + ": unknown VM '" + vm_name + "'";
      return false;
    }
    assigned_[a] = vm;
  }
  return true;
}

VmIndex AddressMapper::map(const IpAddress& address) {
  switch (mapping_) {
    case ReplayMapping::kHash:
      return static_cast<VmIndex>(address_hash(address) % vm_count_);
    case ReplayMapping::kRoundRobin: {
      const auto [it, inserted] = assigned_.try_emplace(address, static_cast<VmIndex>(assigned_.size() % vm_count_));
      return it->second;
    }
    case ReplayMapping::kTable: {
      const auto it = assigned_.find(address);
      return it == assigned_.end() ? kNoVm : it->second;
    }
  }
  return kNoVm;
}

ReplaySource::ReplaySource(sim::Kernel& kernel, VmTable& vms, PacketPool& pool, ReplayFlows& flows,
                           const ReplayParams& params)
    : kernel_(kernel),
      vms_(vms),
      pool_(pool),
      flows_(flows),
      params_(params),
      entity_(kernel.add_entity(params.entity_name)) {
  if (!(params_.speed > 0)) params_.speed = 1.0;
  if (params_.loops == 0) params_.loops = 1;
}

bool ReplaySource::init(std::string& error) { return mapper_.init(vms_, params_.mapping, params_.address_table, error); }

sim::Time ReplaySource::replay_time(int64_t trace_ns) {
  if (!have_t0_) {
    have_t0_ = true;
    t0_ns_ = trace_ns;
  }
  const int64_t relative = trace_ns > t0_ns_ ? trace_ns - t0_ns_ : 0;
  if (relative > last_trace_ns_) last_trace_ns_ = relative;
  ++loop_records_;
  const auto scaled = static_cast<int64_t>(std::llround(static_cast<double>(relative) / params_.speed));
  sim::Time at = params_.start + loop_offset_ + sim::Nanos(scaled);
  if (at < last_time_) at = last_time_;
  last_time_ = at;
  return at;
}

bool ReplaySource::next_loop() {
  ++stats_.loops_completed;
  if (loop_ + 1 >= params_.loops) return false;
  ++loop_;
  // The next loop starts one mean inter-record gap after this loop's last record.
  const double span = static_cast<double>(last_trace_ns_) / params_.speed;
  const double gap = loop_records_ > 1 ? span / static_cast<double>(loop_records_ - 1) : 1000.0;
  loop_offset_ += sim::Nanos(std::llround(span + gap));
  last_trace_ns_ = 0;
  loop_records_ = 0;
  return true;
}

void ReplaySource::rewrite_ports(FiveTuple& tuple) const {
  if (loop_ == 0) return;
  uint16_t& high = tuple.source_port >= tuple.destination_port ? tuple.source_port : tuple.destination_port;
  if (high < kFirstRewrittenPort) return;
  const uint32_t range = 65536 - kFirstRewrittenPort;
  const uint64_t shifted = (uint64_t{high} - kFirstRewrittenPort) + uint64_t{loop_} * kLoopPortStride;
  high = static_cast<uint16_t>(kFirstRewrittenPort + shifted % range);
}

void ReplaySource::emit(const TracePacket& trace) {
  const VmIndex source = mapper_.map(trace.tuple.source);
  const VmIndex destination = mapper_.map(trace.tuple.destination);
  if (source == kNoVm || destination == kNoVm) return skip(ReplaySkip::kUnmappedAddress);
  if (source == destination) return skip(ReplaySkip::kSameVm);
  const Vm& from = vms_[source];
  const Vm& to = vms_[destination];
  FiveTuple tuple = trace.tuple;
  if (tuple.source.is_v6) {
    if (!from.has_ipv6 || !to.has_ipv6) return skip(ReplaySkip::kNoIpv6Address);
    tuple.source = IpAddress::v6(from.ipv6);
    tuple.destination = IpAddress::v6(to.ipv6);
  } else {
    tuple.source = IpAddress::v4(from.ipv4);
    tuple.destination = IpAddress::v4(to.ipv4);
  }
  if (from.transmitter == nullptr) return skip(ReplaySkip::kNoVnic);
  const L2Addresses l2{from.mac, to.mac};
  const sim::Time now = kernel_.now();
  Packet* p = pool_.allocate();
  bool built = false;
  switch (tuple.protocol) {
    case kProtocolTcp:
      built = build_tcp_frame(*p, l2, tuple, trace.tcp, trace.payload_size, 0);
      break;
    case kProtocolUdp:
      built = build_udp_frame(*p, l2, tuple, trace.payload_size);
      break;
    default:
      built = build_icmp_frame(*p, l2, tuple, trace.icmp, trace.payload_size);
      tuple.source_port = tuple.destination_port = 0;
      tuple.protocol = tuple.source.is_v6 ? kProtocolIcmpv6 : kProtocolIcmp;
      break;
  }
  if (!built) {  // a payload too large for one IP packet: the reader's lengths forbid it
    pool_.release(p);
    return skip(ReplaySkip::kBadRecord);
  }
  if (trace.segment_count > 1) {
    p->segment_count = static_cast<uint16_t>(trace.segment_count);
    p->wire_size = trace.wire_size;
  }
  const FlowId flow = flows_.flow_for(tuple, source, destination, now);
  p->flow = flow;
  p->source_vm = source;
  p->destination_vm = destination;
  p->sent_at = now;
  p->ecn_marked = false;
  flows_.on_sent(flow, p->payload_size, p->segment_count, now);
  ++stats_.packets_replayed;
  stats_.segments_replayed += p->segment_count;
  stats_.bytes_replayed += p->payload_size;
  from.transmitter->transmit(p);
}

bool ReplaySource::bad_record(const std::string& message) {
  if (params_.skip_bad_records) {
    skip(ReplaySkip::kBadRecord);
    return true;
  }
  if (error_.empty()) error_ = message;
  kernel_.stop();
  return false;
}

}  // namespace models::traffic
