// TransportStack: demultiplexing, ephemeral ports, transmission, UDP open loop.
#include "models/traffic/transport_stack.h"

#include <algorithm>

#include "connection_map.h"
#include "tcp_engine.h"

namespace models::traffic {
namespace {

ConnectionKey key_for(const IpAddress& remote, uint16_t remote_port, uint16_t local_port,
                      uint8_t protocol) {
  ConnectionKey k;
  k.remote_address = remote.bytes;
  k.remote_port = remote_port;
  k.local_port = local_port;
  k.protocol = protocol;
  k.is_v6 = remote.is_v6 ? 1 : 0;
  return k;
}

// The same ranges validate_transport_params() enforces.
constexpr uint32_t kMinMss = 88;  // Linux's floor (TCP_MIN_MSS)
constexpr uint32_t kMaxMss = 65535 - kIpv6HeaderSize - kTcpHeaderSize;
constexpr uint32_t kMaxUdpPayload = 65535 - kIpv4HeaderSize - kUdpHeaderSize;

TransportParams clamped(TransportParams p) {
  p.tcp.mss = std::clamp(p.tcp.mss, kMinMss, kMaxMss);
  p.tcp.initial_window_segments = std::max<uint32_t>(p.tcp.initial_window_segments, 1);
  p.tcp.receive_buffer = sim::Bytes(std::max<uint64_t>(p.tcp.receive_buffer.count(), p.tcp.mss));
  p.tcp.initial_rto = std::max(p.tcp.initial_rto, sim::Nanos(1));
  p.tcp.min_rto = std::max(p.tcp.min_rto, sim::Nanos(1));
  p.tcp.max_rto = std::max(p.tcp.max_rto, p.tcp.min_rto);
  p.udp.payload_size = std::clamp<uint32_t>(p.udp.payload_size, 1, kMaxUdpPayload);
  if (p.udp.rate.bits_per_second() == 0) p.udp.rate = sim::DataRate::bps(1);
  p.first_ephemeral_port = std::max<uint16_t>(p.first_ephemeral_port, 1);
  p.last_ephemeral_port = std::max(p.last_ephemeral_port, p.first_ephemeral_port);
  return p;
}

}  // namespace

bool validate_transport_params(const TransportParams& p, std::string& error) {
  if (p.tcp.mss < kMinMss || p.tcp.mss > kMaxMss) {
    error = "tcp.mss: must be in [" + std::to_string(kMinMss) + ", " + std::to_string(kMaxMss) +
            "] bytes";
  } else if (p.tcp.initial_window_segments == 0) {
    error = "tcp.initial_window_segments: must be at least 1";
  } else if (p.tcp.receive_buffer.count() < p.tcp.mss) {
    error = "tcp.receive_buffer: must hold at least one MSS";
  } else if (p.tcp.initial_rto <= sim::Time::zero() || p.tcp.min_rto <= sim::Time::zero() ||
             p.tcp.max_rto < p.tcp.min_rto) {
    error = "tcp.initial_rto/min_rto/max_rto: must be positive with min_rto <= max_rto";
  } else if (p.udp.payload_size == 0 || p.udp.payload_size > kMaxUdpPayload) {
    error = "udp.payload_size: must be in [1, " + std::to_string(kMaxUdpPayload) + "] bytes";
  } else if (p.udp.rate.bits_per_second() == 0) {
    error = "udp.rate: must be positive";
  } else if (p.first_ephemeral_port == 0 || p.last_ephemeral_port < p.first_ephemeral_port) {
    error = "ephemeral ports: need 0 < first_ephemeral_port <= last_ephemeral_port";
  } else {
    return true;
  }
  return false;
}

TransportStack::TransportStack(sim::Kernel& kernel, VmTable& vms, VmIndex vm, PacketPool& pool,
                               FlowRecords& records, const TransportParams& params)
    : kernel_(kernel),
      vms_(vms),
      vm_(vm),
      pool_(pool),
      records_(records),
      params_(clamped(params)),
      entity_(kernel.add_entity("transport/" + vms[vm].name)),
      rng_(kernel.rng_for("transport/" + vms[vm].name)),
      map_(std::make_unique<ConnectionMap>()),
      next_ephemeral_port_(params_.first_ephemeral_port) {
  tcp_ = std::make_unique<TcpEngine>(*this);
  vms_[vm_].receiver = this;
  vms_[vm_].transmit_listener = this;
}

TransportStack::~TransportStack() {
  for (UdpFlow& u : udp_flows_)
    if (u.live) kernel_.cancel(u.timer);
  if (vms_[vm_].receiver == this) vms_[vm_].receiver = nullptr;
  if (vms_[vm_].transmit_listener == this) vms_[vm_].transmit_listener = nullptr;
}

void TransportStack::transmit_completed(const Packet& packet) {
  // Only TCP data carries a sender socket (tcp_engine.cc, emit()).
  if (packet.sender_socket == kNoSocket) return;
  tcp_->on_transmit_completed(packet.sender_socket, packet.sender_socket_generation, packet.wire_size);
}

std::size_t TransportStack::abort_all(FlowReason reason) {
  down_ = true;
  std::size_t freed = tcp_->abort_all(reason);
  for (uint32_t index = 0; index < udp_flows_.size(); ++index) {
    if (!udp_flows_[index].live) continue;
    records_.finish(udp_flows_[index].flow, FlowOutcome::kFailedAborted, reason, kernel_.now());
    free_udp(index);
    ++freed;
  }
  stats_.flows_aborted += freed;
  return freed;
}

void TransportStack::restart() { down_ = false; }

std::size_t TransportStack::live_tcp_connection_count() const { return tcp_->live_count(); }
std::size_t TransportStack::live_udp_flow_count() const { return live_udp_; }

bool TransportStack::fill_tuple(VmIndex destination, uint16_t destination_port, uint8_t protocol,
                                bool ipv6, FiveTuple& tuple, L2Addresses& l2) const {
  const Vm& self = vms_[vm_];
  const Vm& peer = vms_[destination];
  if (ipv6) {
    if (!self.has_ipv6 || !peer.has_ipv6) return false;
    tuple.source = IpAddress::v6(self.ipv6);
    tuple.destination = IpAddress::v6(peer.ipv6);
  } else {
    tuple.source = IpAddress::v4(self.ipv4);
    tuple.destination = IpAddress::v4(peer.ipv4);
  }
  tuple.destination_port = destination_port;
  tuple.protocol = protocol;
  // VMs sit on one L2 segment as the vSwitch sees it: frames are addressed to the peer's MAC.
  l2.source = self.mac;
  l2.destination = peer.mac;
  return true;
}

bool TransportStack::choose_ephemeral_port(const IpAddress& remote, uint16_t remote_port,
                                           uint8_t protocol, uint16_t& port) {
  const uint32_t first = params_.first_ephemeral_port;
  const uint32_t last = std::max<uint32_t>(params_.last_ephemeral_port, first);
  const uint32_t range = last - first + 1;
  for (uint32_t tries = 0; tries < range; ++tries) {
    const uint16_t candidate = next_ephemeral_port_;
    next_ephemeral_port_ = candidate >= last ? static_cast<uint16_t>(first)
                                             : static_cast<uint16_t>(candidate + 1);
    if (map_->find(key_for(remote, remote_port, candidate, protocol)) == ConnectionMap::kAbsent) {
      port = candidate;
      return true;
    }
  }
  return false;
}

FlowId TransportStack::start_tcp_flow(VmIndex destination, uint16_t destination_port,
                                      uint64_t size, bool ipv6) {
  FiveTuple tuple;
  L2Addresses l2;
  const bool addressed = fill_tuple(destination, destination_port, kProtocolTcp, ipv6, tuple, l2);
  size = std::clamp<uint64_t>(size, 1, kMaxFlowSize);
  uint16_t port = 0;
  const bool have_port =
      addressed && choose_ephemeral_port(tuple.destination, destination_port, kProtocolTcp, port);
  tuple.source_port = port;
  const FlowId flow = records_.add(vm_, destination, tuple, size, kernel_.now());
  if (down_) {
    records_.finish(flow, FlowOutcome::kFailedAborted, FlowReason::kSourceVmDown, kernel_.now());
    return flow;
  }
  if (!have_port) {
    records_.finish(flow, FlowOutcome::kFailedRejected, FlowReason::kNoEphemeralPort,
                    kernel_.now());
    return flow;
  }
  tcp_->open(flow, destination, tuple, l2, size);
  return flow;
}

FlowId TransportStack::start_udp_flow(VmIndex destination, uint16_t destination_port,
                                      uint64_t size, bool ipv6) {
  FiveTuple tuple;
  L2Addresses l2;
  const bool addressed = fill_tuple(destination, destination_port, kProtocolUdp, ipv6, tuple, l2);
  size = std::max<uint64_t>(size, 1);
  uint16_t port = 0;
  const bool have_port =
      addressed && choose_ephemeral_port(tuple.destination, destination_port, kProtocolUdp, port);
  tuple.source_port = port;
  const FlowId flow = records_.add(vm_, destination, tuple, size, kernel_.now());
  if (down_) {
    records_.finish(flow, FlowOutcome::kFailedAborted, FlowReason::kSourceVmDown, kernel_.now());
    return flow;
  }
  if (!have_port) {
    records_.finish(flow, FlowOutcome::kFailedRejected, FlowReason::kNoEphemeralPort,
                    kernel_.now());
    return flow;
  }
  uint32_t index;
  if (!free_udp_.empty()) {
    index = free_udp_.back();
    free_udp_.pop_back();
  } else {
    index = static_cast<uint32_t>(udp_flows_.size());
    udp_flows_.emplace_back();
  }
  UdpFlow& u = udp_flows_[index];
  u.flow = flow;
  u.tuple = tuple;
  u.l2 = l2;
  u.peer = destination;
  u.remaining = size;
  u.live = true;
  ++live_udp_;
  map_->insert(key_for(tuple.destination, destination_port, port, kProtocolUdp),
               index | kUdpTag);
  udp_send_next(index, u.generation);
  return flow;
}

void TransportStack::udp_send_next(uint32_t index, uint32_t generation) {
  UdpFlow& u = udp_flows_[index];
  if (!u.live || u.generation != generation) return;
  const uint32_t payload = static_cast<uint32_t>(
      std::min<uint64_t>(u.remaining, std::max<uint32_t>(params_.udp.payload_size, 1)));
  Packet* p = pool_.allocate();
  build_udp_frame(*p, u.l2, u.tuple, payload);
  p->flow = u.flow;
  p->destination_vm = u.peer;
  const uint32_t wire_size = p->wire_size;
  transmit(p);
  u.remaining -= payload;
  records_.bytes_sent[u.flow] += payload;
  records_.packets_sent[u.flow] += 1;
  if (u.remaining == 0) {
    records_.finish(u.flow, FlowOutcome::kCompleted, FlowReason::kAllDataSent, kernel_.now());
    free_udp(index);
    return;
  }
  const sim::Time gap = params_.udp.rate.transmit_time(sim::Bytes(wire_size));
  const sim::Time delay =
      params_.udp.poisson ? sim::SecondsF(rng_.exponential(gap.seconds())) : gap;
  u.timer = kernel_.schedule(delay, entity_,
                             [this, index, generation] { udp_send_next(index, generation); });
}

void TransportStack::free_udp(uint32_t index) {
  UdpFlow& u = udp_flows_[index];
  kernel_.cancel(u.timer);
  map_->erase(key_for(u.tuple.destination, u.tuple.destination_port, u.tuple.source_port,
                      kProtocolUdp));
  u.live = false;
  ++u.generation;
  free_udp_.push_back(index);
  --live_udp_;
}

void TransportStack::transmit(Packet* packet) {
  Vm& self = vms_[vm_];
  packet->source_vm = vm_;
  packet->sent_at = kernel_.now();
  packet->ecn_marked = false;
  if (self.transmitter == nullptr) {
    ++stats_.packets_not_sent_no_vnic;
    if (packet->sender_socket != kNoSocket) transmit_completed(*packet);
    pool_.release(packet);
    return;
  }
  ++stats_.packets_sent;
  self.transmitter->transmit(packet);
}

void TransportStack::receive(Packet* packet) {
  if (down_) [[unlikely]] {
    // A dead guest: nothing answers (no RST either), the packet is simply gone.
    ++stats_.packets_while_down;
    pool_.release(packet);
    return;
  }
  ++stats_.packets_received;
  ParsedFrame frame;
  if (parse_frame(packet->header.data(), packet->header_size, frame) != ParseStatus::kOk) {
    ++stats_.packets_unparsable;
    pool_.release(packet);
    return;
  }
  switch (frame.tuple.protocol) {
    case kProtocolTcp:
      receive_tcp(packet, frame);
      break;
    case kProtocolUdp:
      receive_udp(packet, frame);
      break;
    case kProtocolIcmp:
    case kProtocolIcmpv6:
      receive_icmp(frame);
      break;
    default:
      ++stats_.packets_unmatched;
      break;
  }
  pool_.release(packet);
}

void TransportStack::receive_tcp(Packet* packet, const ParsedFrame& frame) {
  const ConnectionKey key = key_for(frame.tuple.source, frame.tuple.source_port,
                                    frame.tuple.destination_port, kProtocolTcp);
  const uint32_t found = map_->find(key);
  if (found != ConnectionMap::kAbsent) {
    tcp_->on_segment(found, *packet, frame);
    return;
  }
  const uint8_t flags = frame.tcp.flags;
  if ((flags & tcp_flags::kSyn) && !(flags & (tcp_flags::kAck | tcp_flags::kRst))) {
    tcp_->accept(packet, frame);
    return;
  }
  ++stats_.packets_unmatched;
  if (!(flags & tcp_flags::kRst)) send_reset_for(*packet, frame);
}

void TransportStack::receive_udp(Packet* packet, const ParsedFrame& frame) {
  // Receivers keep no UDP state: the datagram's payload counts for its flow's record.
  if (packet->flow != kNoFlow && packet->flow < records_.size() &&
      records_.destination_vm[packet->flow] == vm_) {
    records_.bytes_received[packet->flow] += frame.l4_payload_size;
  }
}

void TransportStack::receive_icmp(const ParsedFrame& frame) {
  const bool v6 = frame.tuple.protocol == kProtocolIcmpv6;
  const bool unreachable = v6 ? frame.icmp.type == 1 : frame.icmp.type == 3;
  if (!unreachable || !frame.has_inner) return;
  // The quoted packet is one we sent: its destination is the remote end.
  const ConnectionKey key = key_for(frame.inner.destination, frame.inner.destination_port,
                                    frame.inner.source_port, frame.inner.protocol);
  const uint32_t found = map_->find(key);
  if (found == ConnectionMap::kAbsent) return;
  if (found & kUdpTag) {
    const uint32_t index = found & ~kUdpTag;
    records_.finish(udp_flows_[index].flow, FlowOutcome::kFailedRejected,
                    FlowReason::kIcmpUnreachable, kernel_.now());
    free_udp(index);
    return;
  }
  tcp_->on_unreachable(found);
}

void TransportStack::send_reset_for(const Packet& cause, const ParsedFrame& frame) {
  // RFC 793 reset generation for a segment that names no connection.
  const Vm& self = vms_[vm_];
  FiveTuple tuple;
  tuple.source = frame.tuple.destination;
  tuple.destination = frame.tuple.source;
  tuple.source_port = frame.tuple.destination_port;
  tuple.destination_port = frame.tuple.source_port;
  tuple.protocol = kProtocolTcp;
  L2Addresses l2;
  l2.source = self.mac;
  std::copy_n(cause.header.begin() + 6, 6, l2.destination.begin());  // back to the sender's MAC
  TcpFields rst;
  if (frame.tcp.flags & tcp_flags::kAck) {
    rst.seq = frame.tcp.ack;
    rst.flags = tcp_flags::kRst;
  } else {
    uint32_t length = frame.l4_payload_size;
    if (frame.tcp.flags & tcp_flags::kSyn) ++length;
    if (frame.tcp.flags & tcp_flags::kFin) ++length;
    rst.seq = 0;
    rst.ack = frame.tcp.seq + length;
    rst.flags = tcp_flags::kRst | tcp_flags::kAck;
  }
  Packet* p = pool_.allocate();
  build_tcp_frame(*p, l2, tuple, rst, 0, 0);
  p->flow = cause.flow;
  p->destination_vm = cause.source_vm;
  ++stats_.resets_sent;
  transmit(p);
}

}  // namespace models::traffic
