#include "models/host.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "models/capture_tap.h"
#include "models/switch.h"
#include "sim/rng.h"

namespace models {

namespace {

uint64_t mac_key(const std::array<uint8_t, 6>& mac) { return MacTable::key(mac.data()); }

// sim::DataRate::transmit_time (ceil(bits * 1e9 / bps)) without its 128-bit division when the
// product fits in 64 bits (frames up to 1 GiB): same result, no library call per packet.
sim::Time serialization_time(uint64_t bytes, sim::DataRate rate) {
  const uint64_t bps = rate.bits_per_second();
  if (bps != 0 && bps <= (uint64_t{1} << 62) && bytes <= (uint64_t{1} << 30)) [[likely]]
    return sim::Nanos(static_cast<int64_t>((bytes * 8 * 1'000'000'000ULL + bps - 1) / bps));
  return rate.transmit_time(sim::Bytes(bytes));
}

dfw::PacketView view_of(const Packet& p) {
  dfw::PacketView view;
  view.data = p.header.data();
  view.header_size = p.header_size;
  view.wire_size = p.wire_size;
  view.segment_count = p.segment_count;
  return view;
}

}  // namespace

// A VM's virtual NIC on this host: what its transport stack transmits through.
class Host::VNic final : public PacketTransmitter {
 public:
  VNic(Host& host, VmIndex vm) : host_(host), vm_(vm) {}
  void transmit(Packet* packet) override { host_.vnic_transmit(*this, packet); }
  VmIndex vm() const { return vm_; }
  FifoServer& queue() { return queue_; }

 private:
  Host& host_;
  VmIndex vm_;
  FifoServer queue_;
};

Host::Host(std::string name, uint32_t index, const HostParams& params, sim::Kernel& kernel,
           PacketPool& pool, VmTable& vms, Fabric& fabric, const CostModel& cost)
    : name_(std::move(name)),
      index_(index),
      params_(params),
      kernel_(kernel),
      pool_(pool),
      vms_(vms),
      fabric_(fabric),
      cost_(cost),
      entity_(kernel.add_entity("host/" + name_)),
      rss_key_(sim::stable_hash("rss/" + name_)),
      clock_(kernel),
      timers_(kernel, entity_),
      log_(kernel),
      env_{clock_, timers_, log_, metrics_, *this},
      datapath_(std::make_unique<dfw::Datapath>(params.datapath)),
      cores_(std::max<uint32_t>(params.cores, 1)) {
  if (params_.cores == 0 || params_.clock_hz == 0 || params_.rx_queue_count == 0) {
    std::fprintf(stderr, "models: host '%s' needs cores, clock_hz and rx_queue_count > 0\n",
                 name_.c_str());
    std::abort();
  }
  generated_.reserve(8);
  counters_.cores.resize(cores_.size());
  datapath_->set_frame_sink(static_cast<platform::FrameSink*>(this));
  expiry_timer_ = timers_.create_timer([this] { on_expiry_timer(); });
  fabric_.attach_host(index_, *this, entity_);
}

Host::~Host() = default;

uint32_t Host::core_for(uint64_t flow_hash) const {
  const uint32_t queue = ecmp_select(flow_hash, rss_key_, params_.rx_queue_count);
  return queue % static_cast<uint32_t>(cores_.size());
}

dfw::Status Host::add_vm(VmIndex vm, dfw::RuleTablePtr rules) {
  dfw::Status status = check_new_vm(vm);
  if (!status) return status;
  status = datapath_->add_port(vm, std::move(rules));
  if (status) attach_vnic(vm);
  return status;
}

dfw::Status Host::import_vm(VmIndex vm, std::span<const uint8_t> blob, dfw::RuleTablePtr rules) {
  dfw::Status status = check_new_vm(vm);
  if (!status) return status;
  status = datapath_->import_port(vm, blob, std::move(rules), kernel_.now().ns());
  if (!status) return status;
  attach_vnic(vm);
  if (datapath_->connection_count(vm) > 0) note_connection_created();
  return status;
}

dfw::Status Host::check_new_vm(VmIndex vm) const {
  if (vm >= vms_.size()) return dfw::Status::error("no VM with index " + std::to_string(vm));
  if (vnics_.count(vm))
    return dfw::Status::error("VM '" + vms_[vm].name + "' is already on host '" + name_ + "'");
  return dfw::Status::ok();
}

void Host::attach_vnic(VmIndex vm) {
  auto vnic = std::make_unique<VNic>(*this, vm);
  Vm& v = vms_[vm];
  v.transmitter = vnic.get();
  v.host = index_;
  if (vnic_by_vm_.size() <= vm) vnic_by_vm_.resize(static_cast<std::size_t>(vm) + 1, nullptr);
  vnic_by_vm_[vm] = vnic.get();
  vnics_.emplace(vm, std::move(vnic));
  mac_table_.assign(mac_key(v.mac), vm);
  fabric_.set_vm_host(vm, index_);
}

dfw::Status Host::remove_vm(VmIndex vm) {
  auto it = vnics_.find(vm);
  if (it == vnics_.end()) return dfw::Status::error("remove_vm: VM " + std::to_string(vm) + " is not on host '" + name_ + "'");
  dfw::Status status = datapath_->remove_port(vm);
  if (!status) return status;
  Vm& v = vms_[vm];
  if (v.transmitter == it->second.get()) v.transmitter = nullptr;
  vnic_by_vm_[vm] = nullptr;
  vnics_.erase(it);
  mac_table_.erase_vm(vm);
  return status;
}

std::vector<VmIndex> Host::local_vms() const {
  std::vector<VmIndex> out;
  out.reserve(vnics_.size());
  for (const auto& entry : vnics_) out.push_back(entry.first);
  std::sort(out.begin(), out.end());
  return out;
}

dfw::Status Host::install_rules(VmIndex vm, dfw::RuleTablePtr rules) {
  return datapath_->install_rules(vm, std::move(rules), kernel_.now().ns());
}

VmIndex Host::local_vm_by_mac(const Packet& packet, int offset) const {
  if (packet.header_size < offset + 6) return kNoVm;
  return mac_table_.find(MacTable::key(packet.header.data() + offset));
}

void Host::drop(Packet* packet, HostDropReason reason) {
  ++counters_.host_drops[static_cast<std::size_t>(reason)];
  if (drop_observer_ != nullptr) drop_observer_->host_dropped(*packet, reason);
  pool_.release(packet);
}

void Host::drop(Packet* packet, dfw::DropReason reason) {
  ++counters_.dfw_drops[static_cast<std::size_t>(reason)];
  pool_.release(packet);
}

void Host::transmit_completed(VmIndex vm, const Packet& packet) {
  if (packet.sender_socket == kNoSocket || vm >= vms_.size()) return;
  if (TransmitListener* listener = vms_[vm].transmit_listener) listener->transmit_completed(packet);
}

void Host::vnic_transmit(VNic& vnic, Packet* packet) {
  const Vm& vm = vms_[vnic.vm()];
  if (!vm.running) {
    transmit_completed(vnic.vm(), *packet);
    drop(packet, HostDropReason::kVmNotRunning);
    return;
  }
  const sim::Time now = kernel_.now();
  FifoServer& queue = vnic.queue();
  queue.drain(now);
  const uint64_t size = packet->wire_size;
  if (queue.occupancy_size() > 0 &&
      queue.occupancy_size() + size > params_.vnic_queue_size.count()) {
    transmit_completed(vnic.vm(), *packet);
    drop(packet, HostDropReason::kVnicQueueFull);
    return;
  }
  ++counters_.packets_from_vms;
  counters_.bytes_from_vms += size;
  packet->source_vm = vnic.vm();
  if (vm.capture != nullptr) vm.capture->record_packet(*packet, now);
  const sim::Time leaves = queue.admit(now, serialization_time(size, vm.vnic_rate), size);
  kernel_.schedule_at(leaves, entity_, [this, packet] { egress(packet); });
}

sim::Time Host::charge(Core& core, uint64_t cycles) {
  // ceil(cycles * 1e9 / clock_hz); in 64 bits whenever the sum fits (any real packet: up to 8.6e9
  // cycles), which avoids a 128-bit division call per packet.
  int64_t ns;
  if (cycles <= (uint64_t{1} << 33) && params_.clock_hz <= (uint64_t{1} << 62)) [[likely]] {
    ns = static_cast<int64_t>((cycles * 1'000'000'000ULL + params_.clock_hz - 1) / params_.clock_hz);
  } else {
    const unsigned __int128 scaled = static_cast<unsigned __int128>(cycles) * 1'000'000'000ULL;
    ns = static_cast<int64_t>((scaled + params_.clock_hz - 1) / params_.clock_hz);
  }
  core.busy_cycles += cycles;
  return core.server.admit(kernel_.now(), sim::Nanos(ns), 1);
}

bool Host::check(Packet* packet, VmIndex port, dfw::Direction direction, uint64_t& cycles) {
  current_packet_ = packet;
  const dfw::Result result = datapath_->process(port, direction, view_of(*packet), kernel_.now().ns());
  current_packet_ = nullptr;
  cycles += cost_.cycles(result.work, *packet);
  if (result.connection_created) note_connection_created();
  if (result.verdict == dfw::Verdict::kAllow) {
    if (verdict_observer_ != nullptr) [[unlikely]]
      verdict_observer_->dfw_allowed(*this, *packet, port, direction, result);
    return true;
  }
  ++counters_.dfw_drops[static_cast<std::size_t>(result.reason)];
  if (drop_observer_ != nullptr) drop_observer_->dfw_dropped(*packet, port, result.reason);
  return false;
}

void Host::egress(Packet* packet) {
  const sim::Time now = kernel_.now();
  // The packet has left the vNIC queue: its sender may queue more (TCP small queues).
  transmit_completed(packet->source_vm, *packet);
  if (down_) [[unlikely]] {
    drop(packet, HostDropReason::kHostDown);
    return;
  }
  // A VM stopped while this packet waited in its vNIC queue (live-migration switchover): the
  // queue goes with the paused device, nothing more reaches the vSwitch or the firewall, whose
  // state has been exported.
  if (!vms_[packet->source_vm].running) [[unlikely]] {
    drop(packet, HostDropReason::kVmNotRunning);
    return;
  }
  Core& core = cores_[core_for(packet->flow_hash)];
  core.server.drain(now);
  if (core.server.occupancy_count() >= params_.core_queue_packets) {
    drop(packet, HostDropReason::kCoreBacklogFull);
    return;
  }
  // vSwitch learning: a source MAC seen from a local vNIC belongs to that VM.
  if (packet->header_size >= 12) mac_table_.learn(MacTable::key(packet->header.data() + 6), packet->source_vm);
  uint64_t cycles = 0;
  bool allowed = check(packet, packet->source_vm, dfw::Direction::kEgress, cycles);
  const VmIndex local = allowed ? local_vm_by_mac(*packet, 0) : kNoVm;
  if (local != kNoVm) {
    packet->destination_vm = local;
    allowed = check(packet, local, dfw::Direction::kIngress, cycles);
  }
  ++core.packets;
  const sim::Time done = charge(core, cycles);
  schedule_generated_frames(done);
  if (!allowed) {
    pool_.release(packet);  // counted by check()
    return;
  }
  if (local != kNoVm) {
    ++counters_.packets_local;
    schedule_next(packet, Next::kDeliver, done);
  } else {
    schedule_next(packet, Next::kFabric, done);
  }
}

void Host::receive_from_fabric(Packet* packet, uint32_t /*uplink*/) {
  if (down_) [[unlikely]] {
    drop(packet, HostDropReason::kHostDown);
    return;
  }
  if (packet->destination_vm == host_stack_address_ && host_stack_ != nullptr) {
    host_stack_->receive(packet);
    return;
  }
  const sim::Time now = kernel_.now();
  ++counters_.packets_from_fabric;
  counters_.bytes_from_fabric += packet->wire_size;
  const VmIndex local = local_vm_by_mac(*packet, 0);
  if (local == kNoVm) {
    drop(packet, HostDropReason::kUnknownDestination);
    return;
  }
  packet->destination_vm = local;
  Core& core = cores_[core_for(packet->flow_hash)];
  core.server.drain(now);
  if (core.server.occupancy_count() >= params_.core_queue_packets) {
    drop(packet, HostDropReason::kCoreBacklogFull);
    return;
  }
  uint64_t cycles = 0;
  const bool allowed = check(packet, local, dfw::Direction::kIngress, cycles);
  ++core.packets;
  const sim::Time done = charge(core, cycles);
  schedule_generated_frames(done);
  if (!allowed) {
    pool_.release(packet);
    return;
  }
  schedule_next(packet, Next::kDeliver, done);
}

void Host::schedule_next(Packet* packet, Next next, sim::Time at) {
  if (next == Next::kDeliver) {
    kernel_.schedule_at(at, entity_, [this, packet] { deliver(packet); });
  } else {
    kernel_.schedule_at(at, entity_, [this, packet] {
      if (down_) [[unlikely]] {
        drop(packet, HostDropReason::kHostDown);
        return;
      }
      ++counters_.packets_to_fabric;
      counters_.bytes_to_fabric += packet->wire_size;
      fabric_.send_from_host(index_, packet);
    });
  }
}

void Host::deliver(Packet* packet) {
  if (down_) [[unlikely]] {
    drop(packet, HostDropReason::kHostDown);
    return;
  }
  const VmIndex vm = packet->destination_vm;
  if (vm >= vnic_by_vm_.size() || vnic_by_vm_[vm] == nullptr || !vms_[vm].running) {
    drop(packet, HostDropReason::kVmNotRunning);
    return;
  }
  PacketReceiver* receiver = vms_[vm].receiver;
  if (receiver == nullptr) {
    drop(packet, HostDropReason::kNoReceiver);
    return;
  }
  latency_.record((kernel_.now() - packet->sent_at).ns());
  if (vms_[vm].capture != nullptr) vms_[vm].capture->record_packet(*packet, kernel_.now());
  ++counters_.packets_delivered;
  counters_.bytes_delivered += packet->wire_size;
  receiver->receive(packet);
}

// platform::FrameSink: dfw originated a frame (reject rule) while checking current_packet_.
void Host::transmit(uint32_t port, bool toward_vm, const uint8_t* frame, uint32_t size) {
  Packet* p = pool_.allocate();
  const uint32_t copied = std::min<uint32_t>(size, kMaxHeaderSize);
  std::memcpy(p->header.data(), frame, copied);
  p->header_size = static_cast<uint16_t>(copied);
  p->wire_size = std::max<uint32_t>(size, 60);  // Ethernet minimum without FCS, as headers.h
  p->payload_size = 0;
  p->segment_count = 1;
  p->sent_at = kernel_.now();
  p->ecn_marked = false;
  const Packet* cause = current_packet_;
  VmIndex peer = kNoVm;
  if (cause != nullptr) {
    p->flow = cause->flow;
    p->flow_hash = cause->flow_hash;
    peer = cause->source_vm == port ? cause->destination_vm : cause->source_vm;
  } else {
    p->flow = kNoFlow;
    p->flow_hash = 0;
  }
  if (toward_vm) {
    p->source_vm = peer;
    p->destination_vm = port;
  } else {
    p->source_vm = port;
    p->destination_vm = peer;
  }
  ++counters_.frames_generated;
  generated_.push_back({p, toward_vm});
}

void Host::schedule_generated_frames(sim::Time at) {
  for (const GeneratedFrame& g : generated_) {
    Packet* p = g.packet;
    if (g.toward_vm) {
      schedule_next(p, Next::kDeliver, at);
      continue;
    }
    const VmIndex local = local_vm_by_mac(*p, 0);
    if (local != kNoVm) {
      p->destination_vm = local;
      ++counters_.packets_local;
      schedule_next(p, Next::kDeliver, at);
    } else {
      schedule_next(p, Next::kFabric, at);
    }
  }
  generated_.clear();
}

void Host::note_connection_created() {
  if (expiry_timer_->armed()) return;
  expiry_timer_->arm(std::max(kernel_.now(), last_expiry_ + params_.expiry_interval).ns());
}

void Host::on_expiry_timer() {
  const sim::Time now = kernel_.now();
  const uint64_t expired_before = datapath_->stats().connections_expired;
  const int64_t next = datapath_->expire(now.ns());
  const uint64_t expired = datapath_->stats().connections_expired - expired_before;
  last_expiry_ = now;
  ++counters_.expiry_sweeps;
  if (expired > 0) {
    Core& core = cores_[0];
    core.server.drain(now);
    charge(core, cost_.expiry_cycles(expired));
  }
  if (next != INT64_MAX) {
    expiry_timer_->arm(std::max(next, (now + params_.expiry_interval).ns()));
  }
}

HostSample Host::sample(sim::Time now) {
  HostSample s = counters_;
  s.time_ns = now.ns();
  const dfw::DatapathStats stats = datapath_->stats();
  s.live_connections = stats.live_connections;
  s.connections_created = stats.connections_created;
  s.connections_expired = stats.connections_expired;
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    Core& core = cores_[i];
    core.server.drain(now);
    CoreSample& c = s.cores[i];
    c.busy_ns = core.server.busy_time(now).ns();
    c.busy_cycles = core.busy_cycles;
    c.packets = core.packets;
    c.backlog_packets = core.server.occupancy_count();
    c.backlog_peak_packets = core.server.peak_count();
    core.server.reset_peaks();
  }
  return s;
}

}  // namespace models
