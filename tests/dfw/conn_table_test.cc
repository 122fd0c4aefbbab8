// The connection table's parts on their own: cuckoo index growth and deletion, the timer wheel,
// the fragment table's backward-shift deletion.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "conntrack/conn_table.h"
#include "conntrack/fragment_table.h"

namespace dfw {
namespace {

ConnKey key_of(uint32_t n) {
  ConnKey k;
  std::memset(&k, 0, sizeof k);
  std::memcpy(k.local, &n, 4);
  k.remote[0] = static_cast<uint8_t>(n >> 24);
  k.port = n % 3;
  k.local_port = static_cast<uint16_t>(n);
  k.protocol = 17;
  return k;
}

TEST(ConnTable, ManyInsertsGrowTheIndexAndEverythingStaysFindable) {
  ConnTable table(100000, 7);
  uint32_t probes = 0;
  std::vector<uint32_t> indices;
  for (uint32_t n = 0; n < 50000; ++n) {
    const ConnKey k = key_of(n);
    const uint32_t i = table.create(k, table.hash(k), 1000 + n, probes);
    ASSERT_NE(i, kNilIndex);
    table.at(i).state = ConnState::kUnreplied;
    indices.push_back(i);
  }
  EXPECT_EQ(table.live(), 50000u);
  // Load stays at or under 90%: at most ~9 bytes of index per connection plus headroom (the
  // unused slots of the pool's last chunk: chunks of 16K, 16K and 32K hold 65,536 connections).
  EXPECT_LT(table.memory_size(), 50000u * (sizeof(Conn) + 20) + 16384 * sizeof(Conn));
  for (uint32_t n = 0; n < 50000; n += 7) {
    const ConnKey k = key_of(n);
    uint32_t p = 0;
    ASSERT_EQ(table.find(k, table.hash(k), p), indices[n]);
    EXPECT_LE(p, 2u);
  }
  // Erase every other one; the rest stay findable, the erased are gone.
  for (uint32_t n = 0; n < 50000; n += 2) table.destroy(indices[n]);
  for (uint32_t n = 0; n < 50000; ++n) {
    const ConnKey k = key_of(n);
    uint32_t p = 0;
    const uint32_t found = table.find(k, table.hash(k), p);
    if (n % 2 == 0) {
      ASSERT_EQ(found, kNilIndex);
    } else {
      ASSERT_EQ(found, indices[n]);
    }
  }
  EXPECT_EQ(table.live(), 25000u);
}

// The pool's chunks grow (16K, 16K, 32K, 64K, then 128K connections each) and the last one stops
// at the limit: every index below the limit is handed out once, maps to its own storage, and
// keeps what was written there; the limit is exact.
TEST(ConnPool, IndicesAcrossGrowingChunksAreDistinctAndStable) {
  constexpr uint32_t kLimit = 300000;  // ends inside the sixth chunk ([262144, 393216))
  ConnPool pool;
  std::vector<bool> seen(kLimit, false);
  std::set<const Conn*> addresses;
  for (uint32_t n = 0; n < kLimit; ++n) {
    const uint32_t i = pool.allocate(kLimit);
    ASSERT_LT(i, kLimit);
    ASSERT_FALSE(seen[i]) << i;
    seen[i] = true;
    pool.at(i).deadline = 1000 + int64_t{i};
    pool.at(i).state = ConnState::kUnreplied;
    addresses.insert(&pool.at(i));
  }
  EXPECT_EQ(addresses.size(), size_t{kLimit});
  EXPECT_EQ(pool.allocate(kLimit), kNilIndex);
  EXPECT_EQ(pool.live(), kLimit);
  EXPECT_EQ(pool.memory_size(), size_t{kLimit} * sizeof(Conn));
  for (uint32_t i : {0u, 16383u, 16384u, 32767u, 32768u, 65535u, 65536u, 131071u, 131072u, 262143u,
                     262144u, kLimit - 1}) {
    EXPECT_EQ(pool.at(i).deadline, 1000 + int64_t{i}) << i;
  }
  // Consecutive indices inside a chunk are adjacent in memory (the prefetch of a connection's
  // second cache line relies on a connection being contiguous, and chunks on being arrays).
  EXPECT_EQ(&pool.at(131073) - &pool.at(131072), 1);
  // Chunks of 2 MiB or more start on a 2 MiB boundary, so that huge pages can back them.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&pool.at(131072)) % (size_t{2} << 20), 0u);
  pool.release(70000);
  EXPECT_EQ(pool.allocate(kLimit), 70000u);
}

TEST(ConnTable, LimitIsEnforced) {
  ConnTable table(3, 1);
  uint32_t probes = 0;
  for (uint32_t n = 0; n < 3; ++n) {
    const ConnKey k = key_of(n);
    const uint32_t i = table.create(k, table.hash(k), 10, probes);
    ASSERT_NE(i, kNilIndex);
    table.at(i).state = ConnState::kUnreplied;
  }
  const ConnKey k = key_of(99);
  EXPECT_EQ(table.create(k, table.hash(k), 10, probes), kNilIndex);
}

TEST(ConnTable, ExpiryVisitsExactlyTheDueConnectionsInAnyOrderOfDeadlines) {
  ConnTable table(10000, 3);
  std::mt19937_64 rng(5);
  std::multiset<int64_t> deadlines;
  uint32_t probes = 0;
  for (uint32_t n = 0; n < 3000; ++n) {
    const ConnKey k = key_of(n);
    // From now to three wheel turns ahead.
    const int64_t d = static_cast<int64_t>(rng() % (3ull * 1024 << 30));
    const uint32_t i = table.create(k, table.hash(k), d, probes);
    table.at(i).state = ConnState::kUnreplied;
    deadlines.insert(d);
  }
  int64_t now = 0;
  int calls = 0;
  while (!deadlines.empty()) {
    std::vector<int64_t> expired;
    const int64_t next = table.expire(now, [&](const Conn& c) { expired.push_back(c.deadline); });
    for (int64_t d : expired) {
      ASSERT_LE(d, now);
      deadlines.erase(deadlines.find(d));
    }
    if (!deadlines.empty()) {
      ASSERT_GT(*deadlines.begin(), now) << "a due connection was missed";
      ASSERT_LE(next, *deadlines.begin()) << "the next deadline overshot";
      ASSERT_GT(next, now);
    }
    now = next;
    ++calls;
  }
  EXPECT_EQ(table.live(), 0u);
  EXPECT_LT(calls, 3000 + 3 * 1024 + 10);
}

TEST(ConnTable, ShorterDeadlineIsRefiled) {
  ConnTable table(10, 3);
  uint32_t probes = 0;
  const ConnKey k = key_of(1);
  const uint32_t i = table.create(k, table.hash(k), int64_t{1} << 40, probes);
  table.at(i).state = ConnState::kUnreplied;
  table.set_deadline(i, 5000);
  int expired = 0;
  EXPECT_EQ(table.expire(4999, [&](const Conn&) { ++expired; }), 5000);
  EXPECT_EQ(table.expire(5000, [&](const Conn&) { ++expired; }), INT64_MAX);
  EXPECT_EQ(expired, 1);
}

FragmentKey frag_key(uint32_t id, PortId port = 1) {
  FlowKey flow;
  flow.protocol = 17;
  flow.source[15] = static_cast<uint8_t>(id % 5);
  return FragmentTable::make_key(port, flow, id);
}

TEST(FragmentTable, DeletionKeepsProbeChainsIntact) {
  FragmentTable table(64, 11);
  uint32_t probes = 0;
  for (uint32_t id = 0; id < 64; ++id)
    ASSERT_TRUE(table.record(frag_key(id), {Verdict::kAllow, DropReason::kNone, int32_t(id)},
                             100 + id, probes));
  EXPECT_FALSE(table.record(frag_key(1000), {}, 500, probes));
  // Expire the oldest half; the younger half must all still be found with their verdicts.
  EXPECT_EQ(table.expire(131), 132);
  EXPECT_EQ(table.live(), 32u);
  for (uint32_t id = 0; id < 64; ++id) {
    const FragmentVerdict* v = table.find(frag_key(id), 0, probes);
    if (id < 32) {
      EXPECT_EQ(v, nullptr) << id;
    } else {
      ASSERT_NE(v, nullptr) << id;
      EXPECT_EQ(v->rule_id, int32_t(id));
    }
  }
  // Flushing one port leaves the others.
  ASSERT_TRUE(table.record(frag_key(500, 2), {}, 1000, probes));
  table.flush_port(1);
  EXPECT_EQ(table.live(), 1u);
  EXPECT_NE(table.find(frag_key(500, 2), 0, probes), nullptr);
  EXPECT_EQ(table.expire(999), 1000);
  EXPECT_EQ(table.expire(1000), INT64_MAX);
  EXPECT_EQ(table.live(), 0u);
}

}  // namespace
}  // namespace dfw
