#include "sim/event_queue.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace sim {

EventQueue::EventQueue() : buckets_(kBucketCount) {
  // A little capacity up front avoids the first few regrowths of the front. A level has
  // kDigitValues buckets and its buffers never leave it, so its spares never outgrow this
  // reservation.
  front_.reserve(64);
  for (auto& spares : spare_buffers_) spares.reserve(kDigitValues);
}

void EventQueue::make_room(int b) {
  std::vector<Item>& bucket = buckets_[b];
  std::vector<std::vector<Item>>& spares = spare_buffers_[b / kDigitValues];
  if (bucket.empty() && !spares.empty()) {
    bucket.swap(spares.back());
    spares.pop_back();
    if (bucket.capacity() > 0) return;
  }
  bucket.reserve(std::max<std::size_t>(16, bucket.capacity() * 2));
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

  if (b < kDigitValues || src.size() <= kSmallBucket) {
    // A single time value, or few events: the bucket becomes the front as a whole. Every other
    // bucket is later than all of its events, so moving last_ to its latest time keeps them after
    // last_ and in their buckets.
    int64_t max_time = src.front().time;
    if (b >= kDigitValues) {
      for (const Item& it : src) max_time = std::max(max_time, it.time);
    }
    last_ = max_time;
    for (const Item& it : src) front_.push_back(it);
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
  // Level-0 and level-1 buckets come round again within 65 us of virtual time and keep their
  // buffers; higher ones hand theirs on.
  if (b >= 2 * kDigitValues && src.capacity() > 0) {
    spare_buffers_[b / kDigitValues].push_back(std::move(src));
    src = std::vector<Item>();
  }
  arrange_front();
  return true;
}

bool EventQueue::settle_front() {
  for (;;) {
    if (front_.empty() && !refill()) return false;
    const uint32_t i = front_top().slot;
    if (meta(i).state != SlotState::kCancelled) return true;
    pop_front_item();
    release_slot(i);
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
