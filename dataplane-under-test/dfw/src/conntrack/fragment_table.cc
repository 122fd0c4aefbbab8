#include "conntrack/fragment_table.h"

#include <cstring>

#include "util/hash.h"

namespace dfw {
namespace {
constexpr uint32_t kEmpty = UINT32_MAX;
}

FragmentTable::FragmentTable(uint32_t limit, uint64_t seed) : entries_(limit), seed_(seed) {
  uint32_t capacity = 16;
  while (capacity < 2 * static_cast<uint64_t>(limit)) capacity <<= 1;
  index_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
}

FragmentKey FragmentTable::make_key(PortId port, const FlowKey& flow, uint32_t id) {
  FragmentKey k;
  std::memset(&k, 0, sizeof k);
  std::memcpy(k.source, flow.source.data(), 16);
  std::memcpy(k.destination, flow.destination.data(), 16);
  k.port = port;
  k.id = id;
  k.protocol = flow.protocol;
  return k;
}

uint32_t FragmentTable::find_slot(const FragmentKey& key, uint64_t hash, uint32_t& probes) const {
  uint32_t slot = static_cast<uint32_t>(hash) & mask_;
  while (true) {
    ++probes;
    const uint32_t e = index_[slot];
    if (e == kEmpty || std::memcmp(&entries_[e].key, &key, sizeof key) == 0) return slot;
    slot = (slot + 1) & mask_;
  }
}

bool FragmentTable::record(const FragmentKey& key, const FragmentVerdict& verdict,
                           int64_t deadline, uint32_t& probes) {
  const uint64_t hash = hash_bytes44(reinterpret_cast<const uint8_t*>(&key), seed_);
  const uint32_t slot = find_slot(key, hash, probes);
  if (index_[slot] != kEmpty) {  // a retransmitted first fragment
    entries_[index_[slot]].verdict = verdict;
    return true;
  }
  if (count_ == entries_.size()) return false;
  const uint32_t e = static_cast<uint32_t>((head_ + count_) % entries_.size());
  entries_[e] = Entry{key, verdict, deadline, true};
  index_[slot] = e;
  ++count_;
  ++live_;
  return true;
}

const FragmentVerdict* FragmentTable::find(const FragmentKey& key, int64_t now,
                                           uint32_t& probes) const {
  const uint64_t hash = hash_bytes44(reinterpret_cast<const uint8_t*>(&key), seed_);
  const uint32_t e = index_[find_slot(key, hash, probes)];
  if (e == kEmpty || entries_[e].deadline <= now) return nullptr;
  return &entries_[e].verdict;
}

void FragmentTable::unindex(uint32_t entry) {
  Entry& en = entries_[entry];
  if (!en.indexed) return;
  en.indexed = false;
  --live_;
  uint32_t ignored = 0;
  const uint64_t hash = hash_bytes44(reinterpret_cast<const uint8_t*>(&en.key), seed_);
  uint32_t hole = find_slot(en.key, hash, ignored);
  // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
  uint32_t j = hole;
  while (true) {
    j = (j + 1) & mask_;
    const uint32_t moved = index_[j];
    if (moved == kEmpty) break;
    const uint64_t h = hash_bytes44(reinterpret_cast<const uint8_t*>(&entries_[moved].key), seed_);
    const uint32_t home = static_cast<uint32_t>(h) & mask_;
    // Move entry j into the hole unless its home lies cyclically in (hole, j].
    const bool home_in_between =
        hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_between) {
      index_[hole] = moved;
      hole = j;
    }
  }
  index_[hole] = kEmpty;
}

int64_t FragmentTable::expire(int64_t now) {
  while (count_ > 0) {
    Entry& en = entries_[head_];
    if (en.indexed && en.deadline > now) return en.deadline;
    unindex(head_);
    head_ = static_cast<uint32_t>((head_ + 1) % entries_.size());
    --count_;
  }
  return INT64_MAX;
}

void FragmentTable::flush_port(PortId port) {
  for (uint32_t i = 0; i < count_; ++i) {
    const uint32_t e = static_cast<uint32_t>((head_ + i) % entries_.size());
    if (entries_[e].indexed && entries_[e].key.port == port) unindex(e);
  }
}

void FragmentTable::clear() {
  for (uint32_t i = 0; i < count_; ++i)
    unindex(static_cast<uint32_t>((head_ + i) % entries_.size()));
  head_ = 0;
  count_ = 0;
}

}  // namespace dfw
