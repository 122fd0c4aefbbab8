#include "models/link.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "models/capture_tap.h"

namespace models {

std::string_view link_drop_reason_name(LinkDropReason reason) {
  switch (reason) {
#define MODELS_X(name, text) \
  case LinkDropReason::name: \
    return text;
    MODELS_LINK_DROP_REASONS(MODELS_X)
#undef MODELS_X
    case LinkDropReason::kCount:
      break;
  }
  return "unknown";
}

Link::Link(std::string name, const LinkParams& params, sim::Kernel& kernel, PacketPool& pool)
    : name_(std::move(name)),
      params_(params),
      kernel_(kernel),
      pool_(pool),
      rng_(kernel.rng_for("link/" + name_)) {
  if (params_.rate.bits_per_second() == 0 || params_.delay < sim::Time::zero()) {
    std::fprintf(stderr, "models: link '%s' needs a positive rate and a delay >= 0\n",
                 name_.c_str());
    std::abort();
  }
}

void Link::connect(LinkReceiver& receiver, sim::EntityId receiver_entity, uint32_t receiver_port) {
  receiver_ = &receiver;
  receiver_entity_ = receiver_entity;
  receiver_port_ = receiver_port;
}

void Link::drop(Packet* packet, LinkDropReason reason) {
  ++counters_.drops[static_cast<std::size_t>(reason)];
  if (drop_observer_ != nullptr) drop_observer_->fabric_dropped("link", link_drop_reason_name(reason), name_, *packet);
  pool_.release(packet);
}

bool Link::send(Packet* packet) {
  if (receiver_ == nullptr) {
    std::fprintf(stderr, "models: link '%s' used before connect()\n", name_.c_str());
    std::abort();
  }
  if (!up_) {
    drop(packet, LinkDropReason::kLinkDown);
    return false;
  }
  const sim::Time now = kernel_.now();
  server_.drain(now);
  const uint64_t queued = server_.occupancy_size();
  const uint64_t size = packet->wire_size;
  if (queued > 0 && queued + size > params_.queue_size.count()) {
    drop(packet, LinkDropReason::kQueueFull);
    return false;
  }
  if (params_.ecn_threshold && queued >= params_.ecn_threshold->count()) {
    packet->ecn_marked = true;
    ++counters_.ecn_marked;
  }
  // Exact-rate serialization (fifo_server.h): no per-packet rounding up to whole nanoseconds.
  const sim::Time finish = server_.admit_bytes_at(now, size, params_.rate);
  if (capture_ != nullptr) capture_->record_wire_segments(*packet, finish, params_.rate);
  ++counters_.packets;
  counters_.bytes += size;
  counters_.segments += packet->segment_count;
  kernel_.schedule_at(finish + params_.delay, receiver_entity_,
                      [this, packet, epoch = epoch_] { arrive(packet, epoch); });
  return true;
}

void Link::arrive(Packet* packet, uint32_t epoch) {
  if (epoch != epoch_) [[unlikely]] {
    drop(packet, LinkDropReason::kLinkDown);
    return;
  }
  if (impaired_ && impaired_drop(packet)) [[unlikely]]
    return;
  receiver_->receive_from_link(packet, receiver_port_);
}

bool Link::impaired_drop(Packet* packet) {
  // P(at least one of n segments hit) = 1 - (1 - p)^n; one draw per question.
  const uint32_t n = packet->segment_count > 0 ? packet->segment_count : 1;
  auto hit = [&](double p) {
    if (p <= 0) return false;
    const double any = n == 1 ? p : 1.0 - std::pow(1.0 - p, static_cast<double>(n));
    return rng_.uniform() < any;
  };
  if (hit(loss_)) {
    drop(packet, LinkDropReason::kLoss);
    return true;
  }
  if (hit(corruption_)) {
    drop(packet, LinkDropReason::kCorrupted);
    return true;
  }
  return false;
}

void Link::set_up(bool up) {
  if (up == up_) return;
  up_ = up;
  if (!up) {
    ++epoch_;
    server_.abandon(kernel_.now());
  }
}

void Link::set_impairment(double loss, double corruption) {
  loss_ = loss < 0 ? 0 : (loss > 1 ? 1 : loss);
  corruption_ = corruption < 0 ? 0 : (corruption > 1 ? 1 : corruption);
  impaired_ = loss_ > 0 || corruption_ > 0;
}

LinkSample Link::sample(sim::Time now) {
  server_.drain(now);
  LinkSample s = counters_;
  s.time_ns = now.ns();
  s.busy_ns = server_.busy_time(now).ns();
  s.queue_size = server_.occupancy_size();
  s.queue_peak_size = server_.peak_size();
  server_.reset_peaks();
  return s;
}

}  // namespace models
