#include "sim/event_queue.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace sim {

EventQueue::EventQueue() {
  // A little capacity up front avoids the first few regrowths of the front.
  front_.reserve(64);
}

EventQueue::~EventQueue() {
  // Pending (and never released) events still own their captures.
  for (uint32_t i = 0; i < slot_count_; ++i) {
    Slot& s = slot_at(i);
    if (s.ops) EventCallback::destroy(s.ops, s.storage);
  }
}

void EventQueue::fail_empty_callback() {
  std::fprintf(stderr, "sim: scheduled an empty EventCallback\n");
  std::abort();
}

void EventQueue::add_block(Bucket& bucket) {
  if (free_blocks_ == nullptr) {
    // Batches double (up to 64 Ki blocks, 64 MiB): the number of allocations stays logarithmic
    // in the pool's peak.
    const std::size_t count = std::size_t{16} << std::min<std::size_t>(block_batches_.size(), 12);
    block_batches_.push_back(std::unique_ptr<Block[]>(new Block[count]));
    Block* batch = block_batches_.back().get();
    for (std::size_t i = 0; i + 1 < count; ++i) batch[i].next = &batch[i + 1];
    batch[count - 1].next = nullptr;
    free_blocks_ = batch;
  }
  Block* block = free_blocks_;
  free_blocks_ = block->next;
  block->next = bucket.head;
  if (bucket.head == nullptr) bucket.last = block;
  bucket.head = block;
  bucket.head_count = 0;
}

EventQueue::Slot* EventQueue::grow_slab() {
  if ((slot_count_ & (kChunkSize - 1)) == 0) {
    if (slot_count_ >= kNoSlot - kChunkSize) {
      std::fprintf(stderr, "sim: event slab exhausted (%u event slots in use)\n", slot_count_);
      std::abort();
    }
    chunks_.push_back(std::unique_ptr<Slot[]>(new Slot[kChunkSize]));
  }
  Slot& s = slot_at(slot_count_);
  s.ops = nullptr;
  s.generation = 0;
  s.index = slot_count_++;
  return &s;
}

void EventQueue::push_front(const Item& item) {
  if (front_.empty()) front_sorted_ = true;
  if (front_sorted_ && front_.size() >= kSortedFront) {
    std::make_heap(front_.begin(), front_.end(), RunsAfter());
    front_sorted_ = false;
  }
  if (!front_sorted_) {
    front_.push_back(item);
    std::push_heap(front_.begin(), front_.end(), RunsAfter());
    return;
  }
  // Latest first: move `item` towards the start past every entry that runs before it.
  std::size_t j = front_.size();
  front_.push_back(item);
  while (j > 0 && RunsAfter()(item, front_[j - 1])) {
    front_[j] = front_[j - 1];
    --j;
  }
  front_[j] = item;
}

void EventQueue::arrange_front() {
  front_sorted_ = front_.size() <= kSortedFront;
  if (!front_sorted_) {
    std::make_heap(front_.begin(), front_.end(), RunsAfter());
    return;
  }
  for (std::size_t i = 1; i < front_.size(); ++i) {  // insertion sort, latest first
    const Item x = front_[i];
    std::size_t j = i;
    while (j > 0 && RunsAfter()(x, front_[j - 1])) {
      front_[j] = front_[j - 1];
      --j;
    }
    front_[j] = x;
  }
}

bool EventQueue::cancel(EventId id) {
  if (!pending(id)) return false;
  Slot& s = slot_at(id.slot);
  EventCallback::destroy(s.ops, s.storage);  // release captures now, not when the entry reaches the front
  s.ops = nullptr;                            // marks the queue entry dead
  ++s.generation;
  --live_count_;
  return true;
}

bool EventQueue::pending(EventId id) const {
  if (!id.valid() || id.slot >= slot_count_) return false;
  const Slot& s = slot_at(id.slot);
  return s.generation == id.generation && s.ops != nullptr;
}

bool EventQueue::refill() {
  assert(front_.empty());
  if (summary_ == 0) return false;
  const int word = __builtin_ctzll(summary_);
  uint64_t bits = mask_[word];
  const int first = word * 64 + __builtin_ctzll(bits);
  if (first >= kDigitValues && buckets_[first].size > kSmallBucket) {
    redistribute(first);
    return true;
  }
  // A level-0 bucket (a single time value) or a small one becomes the front as a whole, together
  // with the next non-empty buckets of its mask word (same level, later digits) while the front
  // stays a short sorted vector: one refill then serves many events. Every bucket left is later
  // than all of them, so moving last_ to their latest time keeps those after last_ and in their
  // buckets.
  int taken[64];
  int count = 0;
  std::size_t total = 0;
  do {
    const int b = word * 64 + __builtin_ctzll(bits);
    const std::size_t size = buckets_[b].size;
    if (count > 0 && total + size > kSortedFront) break;
    taken[count++] = b;
    total += size;
    bits &= bits - 1;
  } while (bits != 0);
  mask_[word] = bits;
  if (bits == 0) summary_ &= ~(1ULL << word);
  // Latest bucket first: the front is sorted latest-first, so the insertion sort below only
  // orders entries within their own bucket.
  for (int k = count - 1; k >= 0; --k) {
    Bucket& src = buckets_[taken[k]];
    for_each_item(src, [this](const Item& it) {
      front_.push_back(it);
      prefetch_slot(it.slot);
    });
    release_blocks(src);
  }
  arrange_front();
  // Sorted latest-first; a heap holds a single level-0 bucket, a single time value.
  last_ = front_.front().time;
  return true;
}

void EventQueue::redistribute(int b) {
  Bucket& src = buckets_[b];
  mask_[b >> 6] &= ~(1ULL << (b & 63));
  if (mask_[b >> 6] == 0) summary_ &= ~(1ULL << (b >> 6));
  // last_ moves to the lowest time the bucket can hold: last_'s digits above the bucket's level,
  // the bucket's digit, zeros below. Every entry of the bucket then differs from last_ only
  // below that level, so each lands in a lower bucket (or, at exactly that time, in the front);
  // every other bucket is still later than last_ and keeps its place. Unlike the earliest entry's
  // time, this needs no pass over the bucket to find.
  const int shift = (b / kDigitValues) * kDigitBits;
  const uint64_t above = shift + kDigitBits >= 64 ? 0 : ~((uint64_t{1} << (shift + kDigitBits)) - 1);
  last_ = static_cast<int64_t>((static_cast<uint64_t>(last_) & above) |
                               (static_cast<uint64_t>(b % kDigitValues) << shift));
  const int64_t base = last_;
  for_each_item(src, [this, base, b](const Item& it) {
    if (it.time == base) {
      front_.push_back(it);
      prefetch_slot(it.slot);
    } else {
      const int nb = bucket_of(it.time);
      assert(nb < b);
      (void)b;
      add_to_bucket(nb, it);
      // Entries reaching level 0 run within the next few hundred events: prefetching their
      // callbacks now overlaps those cache misses instead of paying them one by one.
      if (nb < kDigitValues) prefetch_slot(it.slot);
    }
  });
  release_blocks(src);
  arrange_front();
}

bool EventQueue::settle_front() {
  for (;;) {
    while (front_.empty()) {
      if (!refill()) return false;  // (a redistribution may leave the front empty)
    }
    Slot* s = front_top().slot;
    if (s->ops != nullptr) return true;
    pop_front_item();
    push_free(s);  // cancelled: closure and generation were dealt with by cancel()
  }
}

Time EventQueue::peek_time() {
  if (!settle_front()) return Time::max();
  return Time::from_ns(front_top().time);
}

bool EventQueue::pop(Popped& out) {
  if (!settle_front()) return false;
  take_front(out);
  return true;
}

}  // namespace sim
