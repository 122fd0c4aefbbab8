#pragma once
// The pending-event set of the discrete-event kernel.
//
// Order. Events are ordered by the full key (time, target entity, source entity, per-source
// sequence). Every part is a plain integer assigned deterministically, so the order never
// depends on memory addresses, insertion accidents, hash iteration or (later) which MPI rank
// produced an event.
//
// Structure. Two parts, split at the time `last_`:
//  - the front: every event with time <= last_, ordered on the full key (a small sorted vector,
//    or a binary heap during bursts of simultaneous events);
//  - a radix heap over virtual time with 8-bit digits for every event after last_. An event sits
//    in bucket (level, digit): `level` is the highest 8-bit digit in which its time differs from
//    last_, `digit` its own value of that digit. Buckets are ordered by (level, digit), so the
//    lowest non-empty one (two count-trailing-zeros over a bitmask) holds the earliest events.
// When the front runs dry, the lowest bucket is taken: if it is small, or holds a single time
// value (every level-0 bucket does), it becomes the front as a whole and last_ moves to its
// latest time; otherwise last_ moves to its earliest time and the bucket is redistributed into
// lower ones. Either way every event still in the radix part stays after last_. A dense schedule
// (many events per microsecond) thus pops with almost no redistribution; a sparse one moves each
// event about log256(delay / spacing) times, through sequential memory. That is what keeps a
// million pending events fast where a binary heap misses the cache on every level.
// last_ never decreases. An event scheduled at or before it (also earlier than the events the
// front already holds, which happens between two run_until calls, after the kernel looked ahead
// to find nothing due before `end`) simply joins the front heap.
//
// Memory. Each queue entry carries the full ordering key (32 bytes), so ordering never has to
// look anywhere else. Callbacks live in a slab of fixed-size chunks, one 64-byte cache line each,
// recycled through a free-slot stack: in steady state a schedule/execute cycle touches no
// allocator, and the slot a new event gets is the one the running event just released (still in
// cache). Chunks keep addresses stable, so a callback runs in place even if it schedules new
// events that grow the slab. When a bucket is redistributed, the callbacks of the entries that
// land in level 0 are prefetched: they run within the next few hundred events.
//
// Cancellation is lazy: the slot is marked and its callback destroyed at once; the queue entry
// is discarded when it reaches the front. A slot is reused only after that, so an EventId
// (slot, generation) can always tell whether it still names a pending event.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/inplace_function.h"
#include "sim/time.h"

namespace sim {

using EntityId = uint32_t;

struct EventId {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

using EventCallback = InplaceFunction<void(), 48>;

class EventQueue {
 public:
  struct Popped {
    Time time;
    EntityId target;
    EntityId source;
    uint32_t slot;
  };

  EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Queues `fn` (a closure of at most 48 bytes, or an EventCallback) under the key (time,
  // target, source, sequence). Keys must be unique; the kernel guarantees it by giving every
  // source its own sequence counter. The closure is built directly in its slab slot.
  template <class F>
  EventId push(Time time, EntityId target, EntityId source, uint64_t sequence, F&& fn) {
    const uint32_t i = allocate_slot();
    Meta& m = meta(i);
    m.state = SlotState::kPending;
    callback(i).emplace_into_empty(std::forward<F>(fn));
    ++live_count_;
    const Item item{time.ns(), static_cast<uint64_t>(target) << 32 | source, sequence, i};
    if (item.time > last_) {
      add_to_bucket(bucket_of(item.time), item);
    } else {
      push_front(item);
    }
    return EventId{i, m.generation};
  }
  // True if the event was pending and is now cancelled. False for an event that already ran, is
  // running, was cancelled before, or for an invalid id.
  bool cancel(EventId id);
  bool pending(EventId id) const;

  // Removes the earliest live event, leaving its callback in the slab for run_and_release().
  // Returns false when nothing is pending.
  bool pop(Popped& out);
  // As pop(), but only if the earliest live event is before `end`.
  bool pop_before(Time end, Popped& out) {
    if (!front_is_live() && !settle_front()) return false;
    if (front_top().time >= end.ns()) return false;
    take_front(out);
    return true;
  }
  // Time of the earliest live event, or Time::max() if none; does not remove it.
  Time peek_time();
  // Runs the callback of a popped event in place, then recycles its slot.
  void run_and_release(uint32_t slot) {
    callback(slot)();
    release_slot(slot);
  }

  std::size_t size() const { return live_count_; }
  bool empty() const { return live_count_ == 0; }

 private:
  // One queue entry: the full ordering key and the slot of its callback.
  struct Item {
    int64_t time;
    uint64_t route;     // target << 32 | source: orders by target, then source, in one compare
    uint64_t sequence;
    uint32_t slot;
  };
  // Heap order on the full key: true if `a` runs after `b`.
  struct RunsAfter {
    bool operator()(const Item& a, const Item& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.route != b.route) return a.route > b.route;
      return a.sequence > b.sequence;
    }
  };
  enum class SlotState : uint32_t { kFree, kPending, kCancelled, kPopped };
  struct Meta {
    uint32_t generation = 0;
    SlotState state = SlotState::kFree;
  };
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  struct Chunk {
    std::array<Meta, kChunkSize> metas;
    alignas(64) std::array<EventCallback, kChunkSize> callbacks;
  };

  static constexpr int kDigitBits = 8;
  static constexpr int kDigitValues = 1 << kDigitBits;
  static constexpr int kLevels = 64 / kDigitBits;
  static constexpr int kBucketCount = kLevels * kDigitValues;
  static constexpr int kMaskWords = kBucketCount / 64;
  static_assert(kMaskWords <= 64, "the summary word must cover every mask word");
  // A bucket this small becomes the front as a whole instead of being redistributed.
  static constexpr std::size_t kSmallBucket = 16;

  Meta& meta(uint32_t i) { return chunks_[i >> kChunkBits]->metas[i & (kChunkSize - 1)]; }
  const Meta& meta(uint32_t i) const { return chunks_[i >> kChunkBits]->metas[i & (kChunkSize - 1)]; }
  EventCallback& callback(uint32_t i) {
    return chunks_[i >> kChunkBits]->callbacks[i & (kChunkSize - 1)];
  }
  uint32_t allocate_slot() {
    if (free_slots_.empty()) return grow_slab();
    const uint32_t i = free_slots_.back();
    free_slots_.pop_back();
    return i;
  }
  // Adds a slot (and a chunk when the last one is full); aborts when slot ids run out.
  uint32_t grow_slab();
  void release_slot(uint32_t i) {
    callback(i).reset();
    Meta& m = meta(i);
    m.state = SlotState::kFree;
    ++m.generation;
    free_slots_.push_back(i);
  }

  // The radix bucket of a time t > last_.
  int bucket_of(int64_t t) const {
    const uint64_t diff = static_cast<uint64_t>(t) ^ static_cast<uint64_t>(last_);
    const int level = (63 - __builtin_clzll(diff)) / kDigitBits;
    const int digit = static_cast<int>((static_cast<uint64_t>(t) >> (level * kDigitBits)) & (kDigitValues - 1));
    return level * kDigitValues + digit;
  }
  void add_to_bucket(int b, const Item& item) {
    std::vector<Item>& bucket = buckets_[b];
    if (bucket.size() == bucket.capacity()) [[unlikely]] make_room(b);
    bucket.push_back(item);
    mask_[b >> 6] |= 1ULL << (b & 63);
    summary_ |= 1ULL << (b >> 6);
  }
  // Gives full bucket b room for one more item: a spare buffer of its level if it is empty,
  // else a larger one.
  void make_room(int b);
  // The front is a vector sorted latest-first while it holds at most kSortedFront items (the
  // usual case: pops are pop_back, inserts shift a few entries), and a heap on the full key once
  // it grows past that (a burst of simultaneous events), so that no pattern costs O(n) per event.
  static constexpr std::size_t kSortedFront = 32;
  const Item& front_top() const { return front_sorted_ ? front_.back() : front_.front(); }
  void push_front(const Item& item);
  // Orders a front just filled from a bucket.
  void arrange_front();
  void prefetch_slot(uint32_t i) {
    __builtin_prefetch(&meta(i));
    __builtin_prefetch(&callback(i));
  }
  // Moves the lowest non-empty radix bucket into the front (and lower buckets); false if every
  // radix bucket is empty. Requires an empty front.
  bool refill();
  // The common case, checked inline: a live event heads the front.
  bool front_is_live() {
    return !front_.empty() && meta(front_top().slot).state == SlotState::kPending;
  }
  // Drops cancelled entries from the front, refilling it as needed; true if a live event heads
  // the front afterwards.
  bool settle_front();
  // Removes the front entry, which settle_front() found live, and marks it popped.
  Item pop_front_item() {
    if (!front_sorted_) std::pop_heap(front_.begin(), front_.end(), RunsAfter());
    const Item item = front_.back();
    front_.pop_back();
    return item;
  }
  void take_front(Popped& out) {
    const Item item = pop_front_item();
    meta(item.slot).state = SlotState::kPopped;  // no longer pending: cancel() now returns false
    --live_count_;
    out = Popped{Time::from_ns(item.time), static_cast<EntityId>(item.route >> 32),
                 static_cast<EntityId>(item.route), item.slot};
  }

  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<uint32_t> free_slots_;             // a stack: the most recently released on top
  uint32_t slot_count_ = 0;

  // Front items are <= last_ < every radix item. last_ starts at 0 and never decreases, so the
  // unsigned digit arithmetic above sees only non-negative times.
  int64_t last_ = 0;
  std::vector<Item> front_;                      // sorted latest-first, or a heap: see push_front
  bool front_sorted_ = true;
  std::vector<std::vector<Item>> buckets_;       // kBucketCount radix buckets
  // Buffers of emptied buckets, per level. Each digit's bucket is used only once per revolution
  // of the digit above it (a level-3 bucket once every 4.3 s of virtual time), so without
  // recycling a bucket would keep allocating a fresh buffer long after the warm-up. Buffers stay
  // within their level, where they grow to what that level needs, and no further.
  std::array<std::vector<std::vector<Item>>, kLevels> spare_buffers_;
  std::array<uint64_t, kMaskWords> mask_{};      // bit b set when buckets_[b] is non-empty
  uint64_t summary_ = 0;                         // bit w set when mask_[w] != 0
  std::size_t live_count_ = 0;
};

}  // namespace sim
