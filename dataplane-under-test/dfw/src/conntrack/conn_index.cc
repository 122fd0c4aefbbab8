#include "conntrack/conn_index.h"

#include <cstring>

#include "util/bytes.h"
#include "util/hash.h"

namespace dfw {
namespace {

constexpr int kMaxDisplacements = 256;

}  // namespace

ConnIndex::ConnIndex(ConnPool& pool, uint64_t seed, uint32_t initial_buckets)
    : pool_(pool), seed_(seed) {
  bucket_count_ = 2;
  while (bucket_count_ < initial_buckets) bucket_count_ <<= 1;
  mask_ = bucket_count_ - 1;
  buckets_ = TableStorage<Bucket>(bucket_count_);
  for (uint32_t b = 0; b < bucket_count_; ++b)
    for (uint32_t s = 0; s < kSlotsPerBucket; ++s) buckets_[b].indices[s] = kNilIndex;
}

uint64_t ConnIndex::hash(const ConnKey& key) const {
  return hash_bytes44(reinterpret_cast<const uint8_t*>(&key), seed_);
}

void ConnIndex::prefetch(uint64_t hash) const {
  __builtin_prefetch(&buckets_[primary(hash)]);
  __builtin_prefetch(&buckets_[alternate(hash)]);
}

void ConnIndex::prefetch_matches(uint64_t hash) const {
  const uint32_t tag = tag_of(hash);
  const uint32_t candidates[2] = {primary(hash), alternate(hash)};
  for (uint32_t bucket : candidates) {
    const Bucket& b = buckets_[bucket];
    for (uint32_t s = 0; s < kSlotsPerBucket; ++s) {
      if (b.tags[s] == tag && b.indices[s] != kNilIndex) {
        const auto* conn = reinterpret_cast<const char*>(&pool_.at(b.indices[s]));
        __builtin_prefetch(conn);
        __builtin_prefetch(conn + 64);
        return;
      }
    }
  }
}

uint32_t ConnIndex::find(const ConnKey& key, uint64_t hash, uint32_t& probes) const {
  const uint32_t tag = tag_of(hash);
  const uint32_t candidates[2] = {primary(hash), alternate(hash)};
  for (uint32_t bucket : candidates) {
    ++probes;
    const Bucket& b = buckets_[bucket];
    for (uint32_t s = 0; s < kSlotsPerBucket; ++s) {
      if (b.tags[s] == tag && b.indices[s] != kNilIndex && pool_.at(b.indices[s]).key == key)
        return b.indices[s];
    }
  }
  return kNilIndex;
}

bool ConnIndex::try_place(uint32_t bucket, uint32_t tag, uint32_t index) {
  Bucket& b = buckets_[bucket];
  for (uint32_t s = 0; s < kSlotsPerBucket; ++s) {
    if (b.indices[s] == kNilIndex) {
      b.tags[s] = tag;
      b.indices[s] = index;
      return true;
    }
  }
  return false;
}

bool ConnIndex::insert_no_grow(uint32_t index, uint64_t hash, uint32_t& probes) {
  uint32_t carried = index;
  uint64_t carried_hash = hash;
  uint32_t bucket = primary(hash);
  probes += 2;
  if (try_place(bucket, tag_of(hash), index)) return true;
  if (try_place(alternate(hash), tag_of(hash), index)) return true;
  // Displacement walk: put the carried entry in place of a victim, move the victim to its other
  // bucket, and so on.
  for (int step = 0; step < kMaxDisplacements; ++step) {
    walk_state_ = walk_state_ * 1103515245u + 12345u;
    const uint32_t victim_slot = (walk_state_ >> 16) % kSlotsPerBucket;
    Bucket& b = buckets_[bucket];
    const uint32_t victim = b.indices[victim_slot];
    b.indices[victim_slot] = carried;
    b.tags[victim_slot] = tag_of(carried_hash);
    carried = victim;
    carried_hash = this->hash(pool_.at(victim).key);
    const uint32_t p = primary(carried_hash);
    bucket = p == bucket ? alternate(carried_hash) : p;
    ++probes;
    if (try_place(bucket, tag_of(carried_hash), carried)) return true;
  }
  // The walk failed: the carried entry (some resident) is re-added after the index grows.
  grow();
  return insert_no_grow(carried, carried_hash, probes);
}

void ConnIndex::insert(uint32_t index, uint64_t hash, uint32_t& probes) {
  if (used_ + 1 > slot_count() / 10 * 9) grow();
  insert_no_grow(index, hash, probes);
  ++used_;
}

void ConnIndex::erase(uint32_t index, uint64_t hash) {
  const uint32_t candidates[2] = {primary(hash), alternate(hash)};
  for (uint32_t bucket : candidates) {
    Bucket& b = buckets_[bucket];
    for (uint32_t s = 0; s < kSlotsPerBucket; ++s) {
      if (b.indices[s] == index) {
        b.indices[s] = kNilIndex;
        --used_;
        return;
      }
    }
  }
}

void ConnIndex::grow() {
  TableStorage<Bucket> old = std::move(buckets_);
  const uint32_t old_count = bucket_count_;
  bucket_count_ *= 2;
  mask_ = bucket_count_ - 1;
  buckets_ = TableStorage<Bucket>(bucket_count_);
  for (uint32_t b = 0; b < bucket_count_; ++b)
    for (uint32_t s = 0; s < kSlotsPerBucket; ++s) buckets_[b].indices[s] = kNilIndex;
  uint32_t ignored = 0;
  for (uint32_t b = 0; b < old_count; ++b) {
    for (uint32_t s = 0; s < kSlotsPerBucket; ++s) {
      const uint32_t index = old[b].indices[s];
      if (index != kNilIndex) insert_no_grow(index, hash(pool_.at(index).key), ignored);
    }
  }
}

}  // namespace dfw
