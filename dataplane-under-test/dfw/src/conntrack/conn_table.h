#pragma once
// The host's connection table: pool (storage), cuckoo index (lookup by key) and timer wheel
// (expiry), kept consistent with each other. Single-threaded, like the datapath.

#include <cstddef>
#include <cstdint>

#include "conntrack/conn_index.h"
#include "conntrack/conn_pool.h"
#include "conntrack/timer_wheel.h"

namespace dfw {

class ConnTable {
 public:
  ConnTable(uint32_t limit, uint64_t seed)
      : limit_(limit), index_(pool_, seed, initial_buckets(limit)), wheel_(pool_) {}

  uint64_t hash(const ConnKey& key) const { return index_.hash(key); }
  void prefetch(uint64_t hash) const { index_.prefetch(hash); }
  void prefetch_matches(uint64_t hash) const { index_.prefetch_matches(hash); }
  uint32_t find(const ConnKey& key, uint64_t hash, uint32_t& probes) const {
    return index_.find(key, hash, probes);
  }
  // A new connection with `key` and `deadline` (other fields zero; state kFree until the caller
  // sets it), or kNilIndex when the table holds `limit` connections.
  uint32_t create(const ConnKey& key, uint64_t hash, int64_t deadline, uint32_t& probes) {
    if (pool_.live() >= limit_) return kNilIndex;
    const uint32_t index = pool_.allocate(limit_);
    if (index == kNilIndex) return kNilIndex;
    Conn& c = pool_.at(index);
    c = Conn{};
    c.key = key;
    c.deadline = deadline;
    c.rule_id = -1;
    c.rule_index = -1;
    index_.insert(index, hash, probes);
    wheel_.insert(index);
    return index;
  }
  void destroy(uint32_t index) {
    wheel_.remove(index);
    index_.erase(index, index_.hash(pool_.at(index).key));
    pool_.release(index);
  }
  void set_deadline(uint32_t index, int64_t deadline) { wheel_.update(index, deadline); }

  // Destroys connections whose deadline is <= now, calling on_expired(const Conn&) before each
  // goes. Returns the next deadline worth an expire() call.
  template <typename OnExpired>
  int64_t expire(int64_t now, OnExpired&& on_expired) {
    return wheel_.advance(now, [&](uint32_t index) {
      on_expired(pool_.at(index));
      index_.erase(index, index_.hash(pool_.at(index).key));
      pool_.release(index);
    });
  }

  // Calls f(index, Conn&) for every live connection, in pool order (deterministic).
  template <typename F>
  void for_each(F&& f) {
    const uint32_t allocated = pool_.allocated();
    for (uint32_t i = 0; i < allocated; ++i) {
      Conn& c = pool_.at(i);
      if (c.state != ConnState::kFree) f(i, c);
    }
  }

  Conn& at(uint32_t index) { return pool_.at(index); }
  const Conn& at(uint32_t index) const { return pool_.at(index); }
  uint32_t live() const { return pool_.live(); }
  uint32_t limit() const { return limit_; }
  std::size_t memory_size() const {
    return pool_.memory_size() + index_.memory_size() + sizeof(TimerWheel);
  }

 private:
  static uint32_t initial_buckets(uint32_t limit) {
    const uint32_t wanted = limit / ConnIndex::kSlotsPerBucket + 1;
    return wanted < 1024 ? wanted : 1024;
  }

  uint32_t limit_;
  ConnPool pool_;
  ConnIndex index_;
  TimerWheel wheel_;
};

}  // namespace dfw
