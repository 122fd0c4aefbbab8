#pragma once
// The fragment table: remembers the verdict of each first fragment so that later fragments of
// the same datagram (same port, source, destination, protocol, identification) follow it without
// being reassembled. Bounded (DatapathConfig::fragment_limit); every entry lives for
// Timeouts::fragment after its first fragment, so entries expire in insertion order and live in
// a ring; a linear-probing index finds them. All storage is allocated at construction.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dfw/types.h"
#include "rule_table.h"

namespace dfw {

struct FragmentKey {
  uint8_t source[16];
  uint8_t destination[16];
  uint32_t port;
  uint32_t id;
  uint8_t protocol;
  uint8_t padding[3];  // zero
};
static_assert(sizeof(FragmentKey) == 44);

struct FragmentVerdict {
  Verdict verdict = Verdict::kDrop;
  DropReason reason = DropReason::kNone;
  int32_t rule_id = -1;
};

class FragmentTable {
 public:
  FragmentTable(uint32_t limit, uint64_t seed);

  static FragmentKey make_key(PortId port, const FlowKey& flow, uint32_t id);
  // Records (or refreshes) the verdict of a first fragment. False when the table is full.
  bool record(const FragmentKey& key, const FragmentVerdict& verdict, int64_t deadline,
              uint32_t& probes);
  // The verdict recorded for a later fragment's datagram, if still live at `now`.
  const FragmentVerdict* find(const FragmentKey& key, int64_t now, uint32_t& probes) const;
  // Drops entries whose deadline is <= now; returns the next deadline (INT64_MAX if none).
  int64_t expire(int64_t now);
  void flush_port(PortId port);
  void clear();

  uint32_t live() const { return live_; }
  std::size_t memory_size() const {
    return entries_.size() * sizeof(Entry) + index_.size() * sizeof(uint32_t);
  }

 private:
  struct Entry {
    FragmentKey key;
    FragmentVerdict verdict;
    int64_t deadline;
    bool indexed;  // false once flushed: the ring slot waits for its turn to be reclaimed
  };
  uint32_t find_slot(const FragmentKey& key, uint64_t hash, uint32_t& probes) const;
  void unindex(uint32_t entry);

  std::vector<Entry> entries_;    // ring, oldest at head_
  std::vector<uint32_t> index_;   // entry positions, kEmpty when free
  uint32_t mask_ = 0;
  uint32_t head_ = 0;
  uint32_t count_ = 0;            // ring occupancy, flushed entries included
  uint32_t live_ = 0;
  uint64_t seed_;
};

}  // namespace dfw
