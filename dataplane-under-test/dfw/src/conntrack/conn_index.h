#pragma once
// The connection index: a bucketized cuckoo hash table (two candidate buckets per key, eight
// slots per 64-byte bucket) mapping a key hash to a pool index.
//
// Lookup touches at most two cache lines of index plus the candidate connections whose 32-bit
// tag matches. Insertion displaces residents to their alternate bucket (a bounded walk); when the
// walk fails or the load passes 90%, the index doubles and rehashes — a growth step amortized
// over many insertions, never per packet. Deletion clears a slot (no tombstones).

#include <cstddef>
#include <cstdint>

#include "conntrack/conn_pool.h"
#include "util/table_storage.h"

namespace dfw {

class ConnIndex {
 public:
  static constexpr uint32_t kSlotsPerBucket = 8;

  ConnIndex(ConnPool& pool, uint64_t seed, uint32_t initial_buckets);

  uint64_t hash(const ConnKey& key) const;
  // The pool index of `key`, or kNilIndex. Adds the buckets visited to `probes`.
  uint32_t find(const ConnKey& key, uint64_t hash, uint32_t& probes) const;
  // Records `index` (whose key hashes to `hash`). Grows when needed. Adds buckets visited.
  void insert(uint32_t index, uint64_t hash, uint32_t& probes);
  // Forgets `index` (hash of its key).
  void erase(uint32_t index, uint64_t hash);
  // Batch pipelining: prefetch the candidate buckets of `hash`, then (once they have arrived)
  // the connections whose tags match, so that find() later hits the cache.
  void prefetch(uint64_t hash) const;
  void prefetch_matches(uint64_t hash) const;

  std::size_t memory_size() const { return std::size_t{bucket_count_} * sizeof(Bucket); }
  uint32_t slot_count() const { return bucket_count_ * kSlotsPerBucket; }

 private:
  struct alignas(64) Bucket {
    uint32_t tags[kSlotsPerBucket];
    uint32_t indices[kSlotsPerBucket];  // kNilIndex: empty
  };
  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  uint32_t primary(uint64_t hash) const { return static_cast<uint32_t>(hash) & mask_; }
  uint32_t alternate(uint64_t hash) const {
    const uint32_t b1 = primary(hash);
    const uint32_t b2 = static_cast<uint32_t>((hash >> 32) * 0x9E3779B1u) & mask_;
    return b2 == b1 ? b1 ^ 1u : b2;
  }
  bool try_place(uint32_t bucket, uint32_t tag, uint32_t index);
  bool insert_no_grow(uint32_t index, uint64_t hash, uint32_t& probes);
  void grow();

  ConnPool& pool_;
  uint64_t seed_;
  TableStorage<Bucket> buckets_;  // on huge pages once >= 2 MiB (util/table_storage.h)
  uint32_t bucket_count_ = 0;
  uint32_t mask_ = 0;
  uint32_t used_ = 0;
  uint32_t walk_state_ = 0;  // deterministic victim choice for displacement walks
};

}  // namespace dfw
