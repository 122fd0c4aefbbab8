#pragma once
// The pending-event set of the discrete-event kernel.
//
// Order. Events are ordered by the full key (time, target entity, source entity, per-source
// sequence). Every part is a plain integer assigned deterministically, so the order never
// depends on memory addresses, insertion accidents, hash iteration or (later) which MPI rank
// produced an event.
//
// Structure. Two parts, split at the time `last_`:
//  - the front: every event with time <= last_, ordered on the full key. Mostly one sorted run
//    (a flat array consumed front to back); events scheduled into the run's time window wait
//    in a small sorted vector (a heap during bursts of simultaneous events), merged on the key;
//  - a radix heap over virtual time with 8-bit digits for every event after last_. An event sits
//    in bucket (level, digit): `level` is the highest 8-bit digit in which its time differs from
//    last_, `digit` its own value of that digit. Buckets are ordered by (level, digit), so the
//    lowest non-empty one (two count-trailing-zeros over a bitmask) holds the earliest events.
// When the front runs dry, the lowest bucket becomes the next run and last_ moves to the run's
// latest time:
//  - a small bucket (at most kSmallBucket events) together with the next non-empty buckets of
//    the same 64-bucket mask word (same level, later digits) while the run stays short; the
//    insertion sort then only orders entries within their own bucket;
//  - a larger bucket at levels 1-3 (at most kMaxSortedRun events) by LSD radix sort on the time
//    digits below its level: counting passes, no comparisons, no data-dependent branches. At
//    10,000 pending events this is where almost every event is ordered;
//  - a level-0 bucket (one time value) by sorting on (target, source, sequence);
//  - anything larger is redistributed: last_ moves to the lowest time the bucket can hold and
//    its events move to lower buckets.
// Either way every event still in the radix part stays after last_. A sparse schedule moves
// each event about log256(delay / spacing) times, through sequential memory. That is what keeps
// a million pending events fast where a binary heap misses the cache on every level.
// last_ never decreases. An event scheduled at or before it (inside the run's window, or even
// earlier than the run's next entry, which happens between two run_until calls after the kernel
// looked ahead to find nothing due before `end`) joins the late events of the front.
//
// Memory. Each queue entry carries the full ordering key and a pointer to its slot (32 bytes), so
// ordering never has to look anywhere else. Buckets are chains of 1 KiB blocks from one pool
// (see Block). Slots hold the callbacks. A slot is one 64-byte cache line holding the closure
// (48 bytes of captures), its operations table and its bookkeeping (generation, number), so
// running, checking and recycling an event touch one line. Slots live in a slab of fixed-size
// chunks, recycled through a free-slot stack: in steady state a schedule/execute cycle touches no
// allocator, and the slot a new event gets is the one the running event just released (still in
// cache). Chunks keep addresses stable, so a callback runs in place even if it schedules new
// events that grow the slab. Popping a run entry prefetches the slot of the entry
// kPrefetchAhead places further on.
//
// Cancellation is lazy: the callback is destroyed at once and the slot's generation advances; the
// queue entry is discarded when it reaches the front. A slot is reused only after that, so an
// EventId (slot, generation) can always tell whether it still names a pending event.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
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
  // One event's callback and bookkeeping, one cache line. Opaque to users: pop() hands a pointer
  // to it back, to be passed to run_and_release().
  struct alignas(64) Slot {
    alignas(16) unsigned char storage[48];  // the closure, built in place
    const EventCallback::Ops* ops;          // its operations; null while no closure is stored
                                            // (slot free, or its event cancelled)
    uint32_t generation;  // advances whenever the stored event stops being pending (popped or
                          // cancelled): an EventId names it only while the two match
    uint32_t index;       // this slot's number, the EventId's `slot`
  };
  static_assert(sizeof(Slot) == 64, "a slot is one cache line");

  struct Popped {
    Time time;
    EntityId target;
    EntityId source;
    Slot* slot;
  };

  EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  ~EventQueue();

  // Queues `fn` (a closure of at most 48 bytes, or an EventCallback) under the key (time,
  // target, source, sequence). Keys must be unique; the kernel guarantees it by giving every
  // source its own sequence counter. The closure is built directly in its slab slot.
  template <class F>
  EventId push(Time time, EntityId target, EntityId source, uint64_t sequence, F&& fn) {
    Slot* s = allocate_slot();
    store_callback(*s, std::forward<F>(fn));
    ++live_count_;
    const Item item{time.ns(), static_cast<uint64_t>(target) << 32 | source, sequence, s};
    if (item.time > last_) {
      add_to_bucket(bucket_of(item.time), item);
    } else {
      push_late(item);
    }
    return EventId{s->index, s->generation};
  }
  // True if the event was pending and is now cancelled. False for an event that already ran, is
  // running, was cancelled before, or for an invalid id.
  bool cancel(EventId id);
  bool pending(EventId id) const;

  // Removes the earliest live event, leaving its callback in the slab for run_and_release().
  // Returns false when nothing is pending.
  bool pop(Popped& out) {
    if (run_head_is_next()) [[likely]] {
      take_from_run(out);
      return true;
    }
    return pop_slow(out);
  }
  // As pop(), but only if the earliest live event is before `end`.
  bool pop_before(Time end, Popped& out) {
    if (run_head_is_next()) [[likely]] {
      if (run_[run_pos_].time >= end.ns()) return false;
      take_from_run(out);
      return true;
    }
    return pop_before_slow(end, out);
  }
  // Time of the earliest live event, or Time::max() if none; does not remove it.
  Time peek_time();
  // Runs the callback of a popped event in place, then recycles its slot.
  void run_and_release(Slot* slot) {
    slot->ops->invoke(slot->storage);
    EventCallback::destroy(slot->ops, slot->storage);
    slot->ops = nullptr;
    push_free(slot);
  }

  std::size_t size() const { return live_count_; }
  bool empty() const { return live_count_ == 0; }

 private:
  // One queue entry: the full ordering key and the slot of its callback.
  struct Item {
    int64_t time;
    uint64_t route;     // target << 32 | source: orders by target, then source, in one compare
    uint64_t sequence;
    Slot* slot;         // never compared: the order depends on the key only
  };
  // Heap order on the full key: true if `a` runs after `b`.
  struct RunsAfter {
    bool operator()(const Item& a, const Item& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.route != b.route) return a.route > b.route;
      return a.sequence > b.sequence;
    }
  };
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  static constexpr int kDigitBits = 8;
  static constexpr int kDigitValues = 1 << kDigitBits;
  static constexpr int kLevels = 64 / kDigitBits;
  static constexpr int kBucketCount = kLevels * kDigitValues;
  static constexpr int kMaskWords = kBucketCount / 64;
  static_assert(kMaskWords <= 64, "the summary word must cover every mask word");
  // A bucket this small is taken into the run with its neighbours (see take_small_buckets).
  static constexpr std::size_t kSmallBucket = 16;

  template <class F>
  static void store_callback(Slot& s, F&& fn) {
    using D = std::decay_t<F>;
    if constexpr (std::is_same_v<D, EventCallback>) {
      static_assert(!std::is_lvalue_reference_v<F>, "pass an EventCallback with std::move");
      s.ops = fn.release_into(s.storage);
      if (s.ops == nullptr) fail_empty_callback();
    } else {
      ::new (static_cast<void*>(s.storage)) D(std::forward<F>(fn));
      s.ops = EventCallback::ops_for<D>();
    }
  }
  [[noreturn]] static void fail_empty_callback();

  Slot& slot_at(uint32_t i) const { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  Slot* allocate_slot() {
    Slot* s = free_head_;
    if (s == nullptr) [[unlikely]] return grow_slab();
    std::memcpy(&free_head_, s->storage, sizeof free_head_);
    return s;
  }
  void push_free(Slot* s) {
    std::memcpy(s->storage, &free_head_, sizeof free_head_);
    free_head_ = s;
  }
  // Adds a slot (and a chunk when the last one is full); aborts when slot ids run out.
  Slot* grow_slab();

  // The radix bucket of a time t > last_.
  int bucket_of(int64_t t) const {
    const uint64_t diff = static_cast<uint64_t>(t) ^ static_cast<uint64_t>(last_);
    const int level = (63 - __builtin_clzll(diff)) / kDigitBits;
    const int digit = static_cast<int>((static_cast<uint64_t>(t) >> (level * kDigitBits)) & (kDigitValues - 1));
    return level * kDigitValues + digit;
  }
  // Buckets are chains of fixed-size blocks drawn from one pool: appending never copies what a
  // bucket already holds (a vector would, on every growth: at a million pending events, level-2
  // buckets grow to tens of thousands of entries), and an emptied bucket returns its blocks to
  // the pool, still warm, for whichever bucket fills next. Once the pool has reached the peak
  // number of pending events, nothing is allocated.
  static constexpr uint32_t kBlockItems = 32;  // 1 KiB: sequential enough for the prefetcher
  struct Block {
    Item items[kBlockItems];
    Block* next;
  };
  struct Bucket {
    Block* head = nullptr;   // the block appended to; every later block in the chain is full
    Block* last = nullptr;   // the end of the chain, to splice it onto the pool in one step
    // Entries in `head`; kBlockItems while the bucket has no block, so that one comparison
    // tells whether an append needs a new block.
    uint32_t head_count = kBlockItems;
    uint32_t size = 0;       // entries in the bucket
  };
  void add_to_bucket(int b, const Item& item) {
    Bucket& bucket = buckets_[b];
    if (bucket.head_count == kBlockItems) [[unlikely]] add_block(bucket);
    bucket.head->items[bucket.head_count++] = item;
    ++bucket.size;
    mask_[b >> 6] |= 1ULL << (b & 63);
    summary_ |= 1ULL << (b >> 6);
  }
  // Chains a block from the pool (allocating a batch of blocks if the pool is empty) as the new
  // head of `bucket`.
  void add_block(Bucket& bucket);
  // Calls fn(item) for every entry of `bucket`.
  template <class Fn>
  static void for_each_item(const Bucket& bucket, Fn&& fn) {
    const Block* block = bucket.head;
    if (block == nullptr) return;
    for (uint32_t i = 0; i < bucket.head_count; ++i) fn(block->items[i]);
    // Every further block is full: a loop of constant length, which the compiler unrolls and
    // the branch predictor learns.
    for (block = block->next; block != nullptr; block = block->next) {
      if (block->next) __builtin_prefetch(block->next);
      for (uint32_t i = 0; i < kBlockItems; ++i) fn(block->items[i]);
    }
  }
  // Returns the bucket's blocks to the pool and leaves it empty.
  void release_blocks(Bucket& bucket) {
    bucket.last->next = free_blocks_;
    free_blocks_ = bucket.head;
    bucket = Bucket{};
  }
  // The front is two sorted sequences of entries at or before last_, merged on the full key:
  //  - the run: what refill() took from the radix part, sorted earliest-first and consumed by
  //    advancing run_pos_ (no moves). A large bucket is sorted by LSD radix passes over the time
  //    digits below its level (see sort_bucket_into_run), a few small ones by insertion sort;
  //  - late_: events scheduled at or before last_ while the run is being consumed (a new event
  //    inside the run's time window, or anything earlier between two run_until calls). A vector
  //    sorted latest-first while it holds at most kSortedLate items (pop_back; an insert shifts a
  //    few entries), a heap on the full key beyond that (a burst of simultaneous events), so that
  //    no pattern costs O(n) per event. Usually empty.
  static constexpr std::size_t kSortedLate = 32;
  // A small bucket is taken together with the next non-empty buckets of its mask word while the
  // run stays this short; the insertion sort then only orders entries within their own bucket.
  static constexpr std::size_t kBatchRun = 32;
  // Buckets up to this size (and at most kMaxSortLevel) are radix-sorted into the run; larger
  // ones are redistributed first, so that the run and its scratch buffer stay cache-sized.
  static constexpr uint32_t kMaxSortedRun = 8192;
  static constexpr int kMaxSortLevel = 3;
  // Slots are prefetched this many run entries ahead of the one popped: far enough to cover a
  // miss to memory even on a busy machine (at a million pending events 64 beat 16 by ~25 % and
  // 128 by ~10 % under load), near enough that the lines (4 KiB) stay in L1.
  static constexpr uint32_t kPrefetchAhead = 64;

  const Item& late_top() const { return late_sorted_ ? late_.back() : late_.front(); }
  void push_late(const Item& item);
  Item pop_late() {
    if (!late_sorted_) std::pop_heap(late_.begin(), late_.end(), RunsAfter());
    const Item item = late_.back();
    late_.pop_back();
    late_min_time_ = late_.empty() ? INT64_MAX : late_top().time;
    return item;
  }
  // Makes room for n entries in the run (and as many in the radix scratch buffer); the run must
  // be empty. Grows only: in steady state nothing is allocated.
  void reserve_run(uint32_t n);
  // Sorts run_[begin, end) on the full key: insertion sort for short or presorted ranges,
  // std::sort for long ones (a burst of simultaneous events).
  static void sort_by_key(Item* begin, Item* end);
  // Moves the lowest non-empty radix bucket into the run (and lower buckets); false if every
  // radix bucket is empty. Requires an empty front.
  bool refill();
  // Refill from the small bucket `first` and the next non-empty buckets of its mask word.
  void take_small_buckets(int first);
  // Refill from bucket b (level >= 1, kSmallBucket < size <= kMaxSortedRun) by LSD radix sort on
  // the time digits below its level.
  template <int Levels>
  void sort_bucket_into_run(int b);
  // Empties the large bucket b around its earliest possible time: events at exactly that time
  // join late_, the others move to lower buckets.
  void redistribute(int b);
  // Finishes a refill of run_[0, n): last_ moves to its latest time.
  void start_run(uint32_t n) {
    run_pos_ = 0;
    run_end_ = n;
    last_ = run_[n - 1].time;
    for (uint32_t i = 0; i < n && i < kPrefetchAhead; ++i) prefetch_slot(run_[i].slot);
  }
  static void prefetch_slot(const Slot* s) { __builtin_prefetch(s); }
  // Removes the run's next entry, which is live and the earliest of the front.
  void take_from_run(Popped& out) {
    const Item& item = run_[run_pos_++];
    prefetch_slot(run_[std::min(run_pos_ + kPrefetchAhead - 1, run_end_ - 1)].slot);
    take(item, out);
  }
  void take(const Item& item, Popped& out) {
    ++item.slot->generation;  // no longer pending: cancel() now returns false
    --live_count_;
    out = Popped{Time::from_ns(item.time), static_cast<EntityId>(item.route >> 32),
                 static_cast<EntityId>(item.route), item.slot};
  }
  // The common case, checked inline: the run's next entry is earlier than every late event (a
  // tie on time goes the slow way, which compares the full key) and live.
  bool run_head_is_next() const {
    if (run_pos_ == run_end_) return false;
    const Item& item = run_[run_pos_];
    return item.time < late_min_time_ && item.slot->ops != nullptr;
  }
  enum class Head { kNone, kRun, kLate };
  // Drops cancelled entries from the front, refilling it as needed; tells where the earliest
  // live event is (kNone if nothing is pending).
  Head settle_front();
  bool pop_before_slow(Time end, Popped& out);
  bool pop_slow(Popped& out);

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  // Free slots form a stack, linked through their (unused) closure storage: the most recently
  // released slot, still in cache, is reused first, and recycling needs no memory of its own.
  Slot* free_head_ = nullptr;
  uint32_t slot_count_ = 0;

  // Front items are <= last_ < every radix item. last_ starts at 0 and never decreases, so the
  // unsigned digit arithmetic above sees only non-negative times.
  int64_t last_ = 0;
  std::unique_ptr<Item[]> run_;                  // the run: entries [run_pos_, run_end_) pending
  std::unique_ptr<Item[]> scratch_;              // the radix sort's other buffer
  uint32_t run_capacity_ = 0;                    // of run_ and of scratch_
  uint32_t run_pos_ = 0;
  uint32_t run_end_ = 0;
  std::vector<Item> late_;                       // sorted latest-first, or a heap: see push_late
  bool late_sorted_ = true;
  int64_t late_min_time_ = INT64_MAX;            // late_top().time, or INT64_MAX if late_ is empty
  std::array<Bucket, kBucketCount> buckets_{};   // the radix buckets
  Block* free_blocks_ = nullptr;                 // the block pool: a stack linked through `next`
  std::vector<std::unique_ptr<Block[]>> block_batches_;  // owns every block
  std::array<uint64_t, kMaskWords> mask_{};      // bit b set when buckets_[b] is non-empty
  uint64_t summary_ = 0;                         // bit w set when mask_[w] != 0
  std::size_t live_count_ = 0;
};

}  // namespace sim
