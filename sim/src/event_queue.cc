#include "sim/event_queue.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace sim {

EventQueue::EventQueue() : buckets_(kBucketCount) {
  // A little capacity up front avoids the first few regrowths of the hot vectors.
  front_.reserve(64);
}

uint32_t EventQueue::grow_slab() {
  if ((slot_count_ & (kChunkSize - 1)) == 0) {
    if (slot_count_ >= kNoSlot - kChunkSize) {
      std::fprintf(stderr, "sim: event slab exhausted (%u event slots in use)\n", slot_count_);
      std::abort();
    }
    chunks_.push_back(std::make_unique<Chunk>());
  }
  return slot_count_++;
}

void EventQueue::push_not_after_front(const Item& item) {
  if (item.time == last_) {
    front_.push_back(item);
    if (front_.size() > 1) std::push_heap(front_.begin(), front_.end(), AfterSameTime());
  } else {
    early_.push_back(item);
    std::push_heap(early_.begin(), early_.end(), AfterFull());
  }
}

bool EventQueue::cancel(EventId id) {
  if (!pending(id)) return false;
  meta(id.slot).state = SlotState::kCancelled;
  callback(id.slot).reset();  // release captures now, not when the entry reaches the front
  --live_count_;
  return true;
}

bool EventQueue::pending(EventId id) const {
  if (!id.valid() || id.slot >= slot_count_) return false;
  const Meta& m = meta(id.slot);
  return m.generation == id.generation && m.state == SlotState::kPending;
}

bool EventQueue::refill() {
  assert(front_.empty());
  if (summary_ == 0) return false;
  const int word = __builtin_ctzll(summary_);
  const int b = word * 64 + __builtin_ctzll(mask_[word]);
  std::vector<Item>& src = buckets_[b];
  mask_[word] &= ~(1ULL << (b & 63));
  if (mask_[word] == 0) summary_ &= ~(1ULL << word);

  if (b < kDigitValues) {
    // Level 0: the bucket holds one time value; it becomes the front bucket as a whole. Its
    // callbacks were prefetched when it was filled.
    // Swapping buffers keeps this O(1); capacities circulate, so steady state allocates nothing.
    last_ = src.front().time;
    front_.swap(src);
  } else {
    int64_t min_time = src.front().time;
    for (const Item& it : src) min_time = std::min(min_time, it.time);
    last_ = min_time;
    for (const Item& it : src) {
      if (it.time == min_time) {
        front_.push_back(it);
        prefetch_slot(it.slot);
      } else {
        const int nb = bucket_of(it.time);
        assert(nb < b);
        add_to_bucket(nb, it);
        // Entries reaching level 0 run within the next few hundred events: prefetching their
        // callbacks now overlaps those cache misses instead of paying them one by one.
        if (nb < kDigitValues) prefetch_slot(it.slot);
      }
    }
  }
  src.clear();
  if (front_.size() > 1) std::make_heap(front_.begin(), front_.end(), AfterSameTime());
  return true;
}

bool EventQueue::settle_front() {
  for (;;) {
    if (!early_.empty()) {
      const uint32_t i = early_.front().slot;
      if (meta(i).state != SlotState::kCancelled) return true;
      std::pop_heap(early_.begin(), early_.end(), AfterFull());
      early_.pop_back();
      release_slot(i);
      continue;
    }
    if (front_.empty() && !refill()) return false;
    const uint32_t i = front_.front().slot;
    if (meta(i).state != SlotState::kCancelled) return true;
    if (front_.size() > 1) std::pop_heap(front_.begin(), front_.end(), AfterSameTime());
    front_.pop_back();
    release_slot(i);
  }
}

EventQueue::Item EventQueue::take_early() {
  std::pop_heap(early_.begin(), early_.end(), AfterFull());
  const Item item = early_.back();
  early_.pop_back();
  return item;
}

Time EventQueue::peek_time() {
  if (!settle_front()) return Time::max();
  return Time::from_ns(front_time());
}

bool EventQueue::pop(Popped& out) {
  if (!settle_front()) return false;
  take_front(out);
  return true;
}

}  // namespace sim
