#include "sim/event_queue.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace sim {

EventQueue::EventQueue() {
  // A little capacity up front avoids the first few regrowths.
  late_.reserve(64);
  reserve_run(64);
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

void EventQueue::push_late(const Item& item) {
  late_min_time_ = std::min(late_min_time_, item.time);
  if (late_.empty()) late_sorted_ = true;
  if (late_sorted_ && late_.size() >= kSortedLate) {
    std::make_heap(late_.begin(), late_.end(), RunsAfter());
    late_sorted_ = false;
  }
  if (!late_sorted_) {
    late_.push_back(item);
    std::push_heap(late_.begin(), late_.end(), RunsAfter());
    return;
  }
  // Latest first: move `item` towards the start past every entry that runs before it.
  std::size_t j = late_.size();
  late_.push_back(item);
  while (j > 0 && RunsAfter()(item, late_[j - 1])) {
    late_[j] = late_[j - 1];
    --j;
  }
  late_[j] = item;
}

void EventQueue::reserve_run(uint32_t n) {
  assert(run_pos_ == run_end_);
  if (n <= run_capacity_) return;
  // Doubling: the number of allocations stays logarithmic in the largest run. `new Item[]`
  // leaves the (trivial) entries uninitialized: nothing is written twice.
  uint32_t capacity = std::max<uint32_t>(run_capacity_, 64);
  while (capacity < n) capacity = capacity > UINT32_MAX / 2 ? n : capacity * 2;
  run_.reset(new Item[capacity]);
  scratch_.reset(new Item[capacity]);
  run_capacity_ = capacity;
}

void EventQueue::sort_by_key(Item* begin, Item* end) {
  if (end - begin > static_cast<std::ptrdiff_t>(kBatchRun)) {
    std::sort(begin, end, [](const Item& a, const Item& b) { return RunsAfter()(b, a); });
    return;
  }
  for (Item* i = begin + 1; i < end; ++i) {  // insertion sort, earliest first
    const Item x = *i;
    Item* j = i;
    while (j > begin && RunsAfter()(j[-1], x)) {
      *j = j[-1];
      --j;
    }
    *j = x;
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
  assert(run_pos_ == run_end_ && late_.empty());
  run_pos_ = run_end_ = 0;
  if (summary_ == 0) return false;
  const int word = __builtin_ctzll(summary_);
  const int first = word * 64 + __builtin_ctzll(mask_[word]);
  const uint32_t size = buckets_[first].size;
  const int level = first / kDigitValues;
  if (size <= kSmallBucket) {
    take_small_buckets(first);
  } else if (size > kMaxSortedRun || level > kMaxSortLevel) {
    redistribute(first);  // may leave the front empty: settle_front() refills again
  } else if (level == 0) {
    // One time value: the order is (target, source, sequence) alone.
    reserve_run(size);
    uint32_t n = 0;
    for_each_item(buckets_[first], [this, &n](const Item& it) { run_[n++] = it; });
    release_blocks(buckets_[first]);
    mask_[word] &= mask_[word] - 1;
    if (mask_[word] == 0) summary_ &= ~(1ULL << word);
    sort_by_key(&run_[0], &run_[n]);
    start_run(n);
  } else if (level == 1) {
    sort_bucket_into_run<1>(first);
  } else if (level == 2) {
    sort_bucket_into_run<2>(first);
  } else {
    sort_bucket_into_run<3>(first);
  }
  return true;
}

void EventQueue::take_small_buckets(int first) {
  // The small bucket becomes the run together with the next non-empty buckets of its mask word
  // (same level, later digits) while the run stays short: one refill then serves many events.
  // Every bucket left is later than all of them, so moving last_ to their latest time keeps
  // those after last_ and in their buckets.
  const int word = first >> 6;
  uint64_t bits = mask_[word];
  reserve_run(kBatchRun + kSmallBucket);
  uint32_t n = 0;
  do {
    const int b = word * 64 + __builtin_ctzll(bits);
    Bucket& src = buckets_[b];
    if (n > 0 && n + src.size > kBatchRun) break;
    // Buckets in ascending order: the insertion sort below only orders entries within their
    // own bucket.
    for_each_item(src, [this, &n](const Item& it) { run_[n++] = it; });
    release_blocks(src);
    bits &= bits - 1;
  } while (bits != 0);
  mask_[word] = bits;
  if (bits == 0) summary_ &= ~(1ULL << word);
  sort_by_key(&run_[0], &run_[n]);
  start_run(n);
}

template <int Levels>
void EventQueue::sort_bucket_into_run(int b) {
  // Every entry of a level-L bucket shares last_'s digits above L and the bucket's digit at L,
  // so sorting on time means sorting on the L digits below: one stable counting pass per digit,
  // least significant first, with no data-dependent branch. Digits in which all entries agree
  // are skipped. Entries with equal times are then put in key order (a few per run at most).
  Bucket& src = buckets_[b];
  const uint32_t n = src.size;
  reserve_run(n);
  uint32_t count[Levels][kDigitValues] = {};
  for_each_item(src, [&count](const Item& it) {
    const auto t = static_cast<uint64_t>(it.time);
    for (int d = 0; d < Levels; ++d) ++count[d][(t >> (d * kDigitBits)) & (kDigitValues - 1)];
  });
  const auto t0 = static_cast<uint64_t>(src.head->items[0].time);
  int digits[Levels];
  int passes = 0;
  for (int d = 0; d < Levels; ++d) {
    if (count[d][(t0 >> (d * kDigitBits)) & (kDigitValues - 1)] != n) digits[passes++] = d;
  }
  // Counts become start offsets; every digit in one loop (independent sums, less loop overhead).
  uint32_t offset[Levels] = {};
  for (int v = 0; v < kDigitValues; ++v) {
    for (int d = 0; d < Levels; ++d) {
      const uint32_t k = count[d][v];
      count[d][v] = offset[d];
      offset[d] += k;
    }
  }
  // The last pass must write the run: alternate buffers backwards from it.
  auto target = [this, passes](int pass) {
    return (passes - 1 - pass) % 2 == 0 ? run_.get() : scratch_.get();
  };
  if (passes == 0) {  // a single time value
    uint32_t i = 0;
    for_each_item(src, [this, &i](const Item& it) { run_[i++] = it; });
  } else {
    {
      const int shift = digits[0] * kDigitBits;
      uint32_t* offsets = count[digits[0]];
      Item* out = target(0);
      for_each_item(src, [offsets, out, shift](const Item& it) {
        out[offsets[(static_cast<uint64_t>(it.time) >> shift) & (kDigitValues - 1)]++] = it;
      });
    }
    for (int pass = 1; pass < passes; ++pass) {
      const int shift = digits[pass] * kDigitBits;
      uint32_t* offsets = count[digits[pass]];
      const Item* in = target(pass - 1);
      Item* out = target(pass);
      for (uint32_t i = 0; i < n; ++i) {
        out[offsets[(static_cast<uint64_t>(in[i].time) >> shift) & (kDigitValues - 1)]++] = in[i];
      }
    }
  }
  release_blocks(src);
  mask_[b >> 6] &= ~(1ULL << (b & 63));
  if (mask_[b >> 6] == 0) summary_ &= ~(1ULL << (b >> 6));
  // Equal times are rare next to distinct ones (a predictable branch); a group of them is put
  // in key order where it stands.
  Item* run = run_.get();
  for (uint32_t i = 1; i < n; ++i) {
    if (run[i].time == run[i - 1].time) [[unlikely]] {
      uint32_t end = i + 1;
      while (end < n && run[end].time == run[i].time) ++end;
      sort_by_key(run + i - 1, run + end);
      i = end - 1;
    }
  }
  start_run(n);
}

void EventQueue::redistribute(int b) {
  Bucket& src = buckets_[b];
  mask_[b >> 6] &= ~(1ULL << (b & 63));
  if (mask_[b >> 6] == 0) summary_ &= ~(1ULL << (b >> 6));
  // last_ moves to the lowest time the bucket can hold: last_'s digits above the bucket's level,
  // the bucket's digit, zeros below. Every entry of the bucket then differs from last_ only
  // below that level, so each lands in a lower bucket (or, at exactly that time, in the run);
  // every other bucket is still later than last_ and keeps its place. Unlike the earliest entry's
  // time, this needs no pass over the bucket to find.
  const int shift = (b / kDigitValues) * kDigitBits;
  const uint64_t above = shift + kDigitBits >= 64 ? 0 : ~((uint64_t{1} << (shift + kDigitBits)) - 1);
  last_ = static_cast<int64_t>((static_cast<uint64_t>(last_) & above) |
                               (static_cast<uint64_t>(b % kDigitValues) << shift));
  const int64_t base = last_;
  for_each_item(src, [this, base, b](const Item& it) {
    if (it.time == base) {
      push_late(it);  // rare, except for a burst of simultaneous events: then a heap
    } else {
      const int nb = bucket_of(it.time);
      assert(nb < b);
      (void)b;
      add_to_bucket(nb, it);
    }
  });
  release_blocks(src);
}

EventQueue::Head EventQueue::settle_front() {
  for (;;) {
    const bool has_run = run_pos_ != run_end_;
    if (late_.empty()) {
      if (!has_run) {
        if (!refill()) return Head::kNone;
        continue;
      }
      Slot* s = run_[run_pos_].slot;
      if (s->ops != nullptr) return Head::kRun;
      ++run_pos_;
      push_free(s);  // cancelled: closure and generation were dealt with by cancel()
      continue;
    }
    const bool from_run = has_run && !RunsAfter()(run_[run_pos_], late_top());
    Slot* s = from_run ? run_[run_pos_].slot : late_top().slot;
    if (s->ops != nullptr) return from_run ? Head::kRun : Head::kLate;
    if (from_run) {
      ++run_pos_;
    } else {
      pop_late();
    }
    push_free(s);
  }
}

bool EventQueue::pop_before_slow(Time end, Popped& out) {
  switch (settle_front()) {
    case Head::kNone:
      return false;
    case Head::kRun:
      if (run_[run_pos_].time >= end.ns()) return false;
      take_from_run(out);
      return true;
    case Head::kLate:
      if (late_top().time >= end.ns()) return false;
      take(pop_late(), out);
      return true;
  }
  return false;
}

Time EventQueue::peek_time() {
  switch (settle_front()) {
    case Head::kNone:
      return Time::max();
    case Head::kRun:
      return Time::from_ns(run_[run_pos_].time);
    case Head::kLate:
      return Time::from_ns(late_top().time);
  }
  return Time::max();
}

bool EventQueue::pop_slow(Popped& out) {
  switch (settle_front()) {
    case Head::kNone:
      return false;
    case Head::kRun:
      take_from_run(out);
      return true;
    case Head::kLate:
      take(pop_late(), out);
      return true;
  }
  return false;
}

}  // namespace sim
