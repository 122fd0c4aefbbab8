#include "models/migration/migration_network.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "models/headers.h"

namespace models::migration {
namespace {

constexpr uint32_t kMss = 1460;
constexpr uint32_t kSegmentsPerPacket = 44;  // 64,240 bytes: the largest whole-MSS TSO packet
constexpr uint64_t kChunk = uint64_t{kMss} * kSegmentsPerPacket;
constexpr uint16_t kVmotionPort = 8000;

// vmkernel interface addresses: 169.254.<host / 256>.<host % 256 + 1> (link-local, outside
// any VM subnet) and a locally administered MAC.
IpAddress vmk_ip(uint32_t host) {
  return IpAddress::v4((169u << 24) | (254u << 16) | ((host >> 8) & 0xff) << 8 | ((host & 0xff) + 1));
}
MacAddress vmk_mac(uint32_t host) {
  return {0x02, 0x56, 0x4d, static_cast<uint8_t>(host >> 16), static_cast<uint8_t>(host >> 8),
          static_cast<uint8_t>(host)};
}

}  // namespace

// A host's vmkernel interface: receives the stream packets addressed to that host.
class MigrationNetwork::Endpoint final : public PacketReceiver {
 public:
  explicit Endpoint(MigrationNetwork& net) : net_(net) {}
  void receive(Packet* packet) override { net_.arrived(packet); }

 private:
  MigrationNetwork& net_;
};

MigrationNetwork::MigrationNetwork(sim::Kernel& kernel, PacketPool& pool, Fabric& fabric, std::vector<Host*> hosts,
                                   VmIndex first_address)
    : kernel_(kernel),
      pool_(pool),
      fabric_(fabric),
      hosts_(std::move(hosts)),
      first_address_(first_address),
      entity_(kernel.add_entity("migration")) {
  for (uint32_t h = 0; h < hosts_.size(); ++h) {
    endpoints_.push_back(std::make_unique<Endpoint>(*this));
    fabric_.set_vm_host(address(h), h);
    hosts_[h]->set_host_stack(address(h), endpoints_.back().get());
  }
}

MigrationNetwork::~MigrationNetwork() {
  for (Host* host : hosts_) host->set_host_stack(kNoVm, nullptr);
}

MigrationNetwork::Stream& MigrationNetwork::open(uint32_t from, uint32_t to, const StreamParams& params) {
  const uint32_t id = static_cast<uint32_t>(streams_.size());
  streams_.push_back(std::unique_ptr<Stream>(new Stream(*this, id, from, to, params)));
  return *streams_.back();
}

uint64_t MigrationNetwork::tag(const Packet& packet) const {
  return packet.pool_index < tags_.size() ? tags_[packet.pool_index] : 0;
}

void MigrationNetwork::set_tag(const Packet& packet, uint64_t tag) {
  if (packet.pool_index >= tags_.size()) tags_.resize(std::max<std::size_t>(packet.pool_index + 1, tags_.size() * 2), 0);
  tags_[packet.pool_index] = tag;
}

void MigrationNetwork::arrived(Packet* packet) {
  // Tags are (stream id + 1) << 32 | epoch: 0 is "not ours" (cannot happen: only our packets
  // carry a vmkernel address, but a stray one is dropped rather than trusted).
  const uint64_t t = tag(*packet);
  const uint64_t payload = packet->payload_size;
  const bool ecn = packet->ecn_marked;
  set_tag(*packet, 0);
  pool_.release(packet);
  if (t == 0 || (t >> 32) > streams_.size()) return;
  streams_[(t >> 32) - 1]->arrived(static_cast<uint32_t>(t), payload, ecn);
}

MigrationNetwork::Stream::Stream(MigrationNetwork& network, uint32_t id, uint32_t from, uint32_t to,
                                 const StreamParams& params)
    : net_(network),
      id_(id),
      from_(from),
      to_(to),
      params_(params),
      cwnd_(2 * kChunk),
      ssthresh_(params.window.count()) {
  if (params_.rate.bits_per_second() == 0 || params_.window.count() < kChunk) {
    std::fprintf(stderr, "models: migration stream needs a rate > 0 and a window of at least %llu bytes\n",
                 static_cast<unsigned long long>(kChunk));
    std::abort();
  }
}

void MigrationNetwork::Stream::transfer(uint64_t bytes, std::function<void()> done) {
  if (busy()) {
    std::fprintf(stderr, "models: migration stream %u: transfer while another is under way\n", id_);
    std::abort();
  }
  target_ = bytes;
  delivered_ = 0;
  unsent_ = bytes;
  in_flight_ = 0;
  ++epoch_;
  done_ = std::move(done);
  last_progress_ = net_.kernel_.now();
  next_send_ = std::max(next_send_, net_.kernel_.now());
  if (bytes == 0) {
    finish();
    return;
  }
  pump();
}

void MigrationNetwork::Stream::cancel() {
  target_ = delivered_ = unsent_ = in_flight_ = 0;
  ++epoch_;
  done_ = nullptr;
}

void MigrationNetwork::Stream::finish() {
  // Run the caller's continuation as its own event: never from inside an arrival.
  auto done = std::make_shared<std::function<void()>>(std::move(done_));
  done_ = nullptr;
  net_.kernel_.schedule(sim::Time::zero(), net_.entity_, [done] {
    if (*done) (*done)();
  });
}

void MigrationNetwork::Stream::pump() {
  const sim::Time now = net_.kernel_.now();
  const uint64_t window = std::min<uint64_t>(cwnd_, params_.window.count());
  while (unsent_ > 0 && (in_flight_ == 0 || in_flight_ + std::min(unsent_, kChunk) <= window)) {
    if (next_send_ > now) {
      if (!pump_scheduled_) {
        pump_scheduled_ = true;
        net_.kernel_.schedule_at(next_send_, net_.entity_, [this] {
          pump_scheduled_ = false;
          pump();
        });
      }
      return;
    }
    send_one(std::min(unsent_, kChunk));
  }
}

void MigrationNetwork::Stream::send_one(uint64_t payload) {
  Packet* p = net_.pool_.allocate();
  L2Addresses l2{vmk_mac(from_), vmk_mac(to_)};
  FiveTuple tuple{vmk_ip(from_), vmk_ip(to_), static_cast<uint16_t>(49152 + id_ % 16384), kVmotionPort, kProtocolTcp};
  TcpFields tcp;
  tcp.flags = tcp_flags::kAck | tcp_flags::kPsh;
  tcp.window = 0xffff;
  build_tcp_frame(*p, l2, tuple, tcp, static_cast<uint32_t>(payload), kMss);
  p->flow = kNoFlow;
  p->source_vm = kNoVm;
  p->destination_vm = net_.address(to_);
  p->sent_at = net_.kernel_.now();
  p->ecn_marked = false;
  net_.set_tag(*p, (uint64_t{id_} + 1) << 32 | epoch_);
  unsent_ -= payload;
  in_flight_ += payload;
  ++stats_.packets;
  stats_.wire_bytes += p->wire_size;
  next_send_ = std::max(next_send_, net_.kernel_.now()) + params_.rate.transmit_time(sim::Bytes(p->wire_size));
  arm_timeout();
  net_.fabric_.send_from_host(from_, p);
}

void MigrationNetwork::Stream::arrived(uint32_t epoch, uint64_t payload, bool ecn_marked) {
  if (epoch != epoch_ || !busy()) return;  // a copy sent before the last timeout
  in_flight_ -= std::min(in_flight_, payload);
  delivered_ += payload;
  total_delivered_ += payload;
  stats_.payload_bytes += payload;
  if (ecn_marked && total_delivered_ >= reduce_guard_) {
    // Once per window of data: what was in flight when the mark came must arrive first.
    cwnd_ = ssthresh_ = std::max<uint64_t>(cwnd_ / 2, kChunk);
    reduce_guard_ = total_delivered_ + in_flight_;
    ++stats_.ecn_reductions;
  } else if (!ecn_marked) {
    cwnd_ += cwnd_ < ssthresh_ ? payload : std::max<uint64_t>(kChunk * payload / cwnd_, 1);
    cwnd_ = std::min<uint64_t>(cwnd_, params_.window.count());
  }
  last_progress_ = net_.kernel_.now();
  if (delivered_ >= target_) {
    finish();
    return;
  }
  pump();
}

void MigrationNetwork::Stream::arm_timeout() {
  if (timeout_armed_) return;
  timeout_armed_ = true;
  const sim::Time at = std::max(net_.kernel_.now(), last_progress_ + params_.retransmit_timeout);
  net_.kernel_.schedule_at(at, net_.entity_, [this] { on_timeout(); });
}

void MigrationNetwork::Stream::on_timeout() {
  timeout_armed_ = false;
  if (!busy() || in_flight_ == 0) return;
  const sim::Time now = net_.kernel_.now();
  if (now - last_progress_ < params_.retransmit_timeout) {
    arm_timeout();  // progress since: check again one timeout after it
    return;
  }
  // Nothing arrived for a whole timeout: what is in flight is lost (or too late to count).
  ++stats_.timeouts;
  ssthresh_ = std::max<uint64_t>(cwnd_ / 2, 2 * kChunk);
  cwnd_ = kChunk;
  stats_.retransmitted_bytes += in_flight_;
  unsent_ += in_flight_;
  in_flight_ = 0;
  // Keep the same epoch numbering scheme as transfer(): bumping invalidates older copies.
  epoch_ = epoch_ + 1;
  last_progress_ = now;
  pump();
}

}  // namespace models::migration
