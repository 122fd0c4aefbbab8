#pragma once
// A unidirectional link with the output queue of the port that feeds it.
//
// Timing (store and forward). A packet handed to send() at time t waits behind the bytes already
// queued, serializes for wire_size / rate (a super-packet of N segments serializes as its whole
// wire_size), and arrives at the far end propagation_delay after its last bit left:
//   arrival = max(t, busy_until) + transmit_time(wire_size) + propagation_delay.
// busy_until is kept to the picosecond, so back-to-back packets serialize at the exact rate and
// only each arrival is rounded up to the nanosecond (fifo_server.h).
// Only the arrival is scheduled, as an event of the receiving entity (see fifo_server.h); a link
// has no entity of its own. Arrivals are always later than sends (transmit time > 0), which is
// the partitioning rule of sim/kernel.h: entities interact through links with delay > 0.
//
// Queue. Drop-tail by bytes: a packet is dropped if the bytes queued at the port (including the
// packet being serialized) plus its own size exceed queue_size; a packet that alone exceeds the
// limit still passes an empty queue, so a large super-packet is never starved. With an ECN
// threshold, a packet that finds at least that many bytes queued is marked (Packet::ecn_marked).
//
// Link down (failure injection): send() drops with reason link_down, and every packet the link
// had accepted before it went down (queued, serializing or propagating) is dropped with the same
// reason when it would have arrived: a cut cable loses what was on it. The queue is emptied, so a
// link brought back up starts idle. Each accepted packet carries the link's "up epoch" in its
// arrival event; the arrival compares it, one compare per packet.
//
// Loss and corruption (set_impairment): each wire segment of an arriving packet is lost with
// probability `loss`, or else corrupted with probability `corruption`; a super-packet is dropped
// if any of its segments is (a TCP super-packet stands for segments that would each have been
// lost or not). A corrupted frame fails the receiver's FCS check, so the receiving port drops
// it; both are counted here (drops_loss, drops_corrupted) as the receiving end's drops. The
// packet still occupied the link (serialization and queueing are unchanged). Draws come from the
// link's own random stream (Kernel::rng_for("link/<name>"), taken when the link is built), so a
// run is reproducible and one link's draws do not shift another's. Without impairment the
// arrival path tests one flag.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "models/fifo_server.h"
#include "models/fabric_drop_observer.h"
#include "models/packet.h"
#include "sim/kernel.h"
#include "sim/rng.h"
#include "sim/units.h"

namespace models {

class CaptureStream;

struct LinkParams {
  sim::DataRate rate = sim::DataRate::gbps(10);   // bits/s; serialization rate
  sim::Time delay = sim::Micros(1);               // ns; propagation delay, >= 0
  sim::Bytes queue_size{512 * 1024};              // bytes; drop-tail limit of the output port
  std::optional<sim::Bytes> ecn_threshold;        // bytes; mark CE at or above this occupancy
};

// Whatever sits at the far end of a link (a switch, a host's NIC).
class LinkReceiver {
 public:
  virtual ~LinkReceiver() = default;
  // Takes ownership of `packet`, which arrived on the receiver's port `port`.
  virtual void receive_from_link(Packet* packet, uint32_t port) = 0;
};

#define MODELS_LINK_DROP_REASONS(X) \
  X(kQueueFull, "queue_full")       \
  X(kLinkDown, "link_down")         \
  X(kLoss, "loss")                  \
  X(kCorrupted, "corrupted")

enum class LinkDropReason : uint8_t {
#define MODELS_X(name, text) name,
  MODELS_LINK_DROP_REASONS(MODELS_X)
#undef MODELS_X
  kCount
};
inline constexpr std::size_t kLinkDropReasonCount = static_cast<std::size_t>(LinkDropReason::kCount);
std::string_view link_drop_reason_name(LinkDropReason reason);

// One sample of a link's counters; cumulative fields count since the start of the run.
struct LinkSample {
  int64_t time_ns = 0;           // ns; simulated time of the sample
  uint64_t packets = 0;          // packets; cumulative, accepted into the queue
  uint64_t bytes = 0;            // bytes; cumulative wire bytes accepted
  uint64_t segments = 0;         // segments; cumulative wire segments accepted
  uint64_t ecn_marked = 0;       // packets; cumulative, marked CE
  int64_t busy_ns = 0;           // ns; cumulative time spent serializing
  uint64_t queue_size = 0;       // bytes; queued (including in serialization) at the sample
  uint64_t queue_peak_size = 0;  // bytes; largest occupancy since the previous sample
  std::array<uint64_t, kLinkDropReasonCount> drops{};  // packets; cumulative, per reason

  // Visits every field once as (name, unit, value): the one place names and units are declared.
  template <class F>
  void visit(F&& f) const {
    f("time_ns", "ns", time_ns);
    f("packets", "packets", packets);
    f("bytes", "bytes", bytes);
    f("segments", "segments", segments);
    f("ecn_marked", "packets", ecn_marked);
    f("busy_ns", "ns", busy_ns);
    f("queue_size", "bytes", queue_size);
    f("queue_peak_size", "bytes", queue_peak_size);
    for (std::size_t i = 0; i < kLinkDropReasonCount; ++i)
      f(drop_column_names[i], "packets", drops[i]);
  }
  static constexpr std::array<const char*, kLinkDropReasonCount> drop_column_names = {
#define MODELS_X(name, text) "drops_" text,
      MODELS_LINK_DROP_REASONS(MODELS_X)
#undef MODELS_X
  };
};

class Link {
 public:
  // `pool` receives dropped packets.
  Link(std::string name, const LinkParams& params, sim::Kernel& kernel, PacketPool& pool);
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Connects the far end: arrivals run as events of `receiver_entity` and are handed to
  // receiver.receive_from_link(packet, receiver_port).
  void connect(LinkReceiver& receiver, sim::EntityId receiver_entity, uint32_t receiver_port);

  // Takes ownership of `packet` (wire_size must be > 0): queues and serializes it, or drops it.
  // Returns false if it was dropped.
  bool send(Packet* packet);

  // A pcap tap on this direction of the cable (capture_tap.h): every accepted packet is recorded
  // as its wire segments. nullptr: none (the default; costs one test per packet).
  void set_capture(CaptureStream* capture) { capture_ = capture; }

  // Told of every packet this link drops (fabric_drop_observer.h); nullptr: nobody (the default).
  void set_drop_observer(FabricDropObserver* observer) { drop_observer_ = observer; }

  // Down: drops new and already-accepted packets (see above); up again: accepts packets.
  void set_up(bool up);
  bool up() const { return up_; }

  // Loss and corruption probabilities per wire segment, each clamped to [0, 1] (0 and 0: none).
  void set_impairment(double loss, double corruption);
  double loss() const { return loss_; }
  double corruption() const { return corruption_; }

  // Cumulative drops for `reason` (what sample() reports, without resetting anything).
  uint64_t drops(LinkDropReason reason) const { return counters_.drops[static_cast<std::size_t>(reason)]; }

  const std::string& name() const { return name_; }
  const LinkParams& params() const { return params_; }
  // Bytes queued at `now`, including the packet being serialized.
  uint64_t queue_size(sim::Time now) {
    server_.drain(now);
    return server_.occupancy_size();
  }

  // Counters at `now`; resets the peak-occupancy window. The runner calls it every interval.
  LinkSample sample(sim::Time now);

 private:
  void drop(Packet* packet, LinkDropReason reason);
  // The arrival event of a packet accepted in up epoch `epoch`.
  void arrive(Packet* packet, uint32_t epoch);
  // Draws loss / corruption for an arriving packet; true if it was dropped.
  bool impaired_drop(Packet* packet);

  std::string name_;
  LinkParams params_;
  sim::Kernel& kernel_;
  PacketPool& pool_;
  LinkReceiver* receiver_ = nullptr;
  sim::EntityId receiver_entity_ = sim::kWorld;
  uint32_t receiver_port_ = 0;
  bool up_ = true;
  uint32_t epoch_ = 0;      // bumps when the link goes down: earlier packets are lost
  bool impaired_ = false;   // loss_ > 0 or corruption_ > 0
  double loss_ = 0;
  double corruption_ = 0;
  sim::Rng rng_;            // this link's stream: loss and corruption draws
  CaptureStream* capture_ = nullptr;
  FabricDropObserver* drop_observer_ = nullptr;
  FifoServer server_;
  LinkSample counters_;
};

}  // namespace models
