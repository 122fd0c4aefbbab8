#pragma once
// An open-addressing hash map from a transport endpoint pair to a slot index, for demultiplexing
// received segments to connections. Linear probing with backward-shift deletion: no tombstones,
// lookups stay short, and memory grows only when the table doubles (never per packet).

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace models::traffic {

// The remote endpoint, the local port and the protocol, seen from one VM's stack.
struct ConnectionKey {
  std::array<uint8_t, 16> remote_address{};
  uint16_t remote_port = 0;
  uint16_t local_port = 0;
  uint8_t protocol = 0;
  uint8_t is_v6 = 0;
  bool operator==(const ConnectionKey&) const = default;
};

class ConnectionMap {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  ConnectionMap() { entries_.resize(kInitialCapacity); }

  uint32_t find(const ConnectionKey& key) const {
    const std::size_t mask = entries_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      const Entry& e = entries_[i];
      if (e.value == kAbsent) return kAbsent;
      if (e.key == key) return e.value;
    }
  }

  // Inserts or overwrites.
  void insert(const ConnectionKey& key, uint32_t value) {
    if ((count_ + 1) * 2 > entries_.size()) grow();
    place(key, value);
  }

  bool erase(const ConnectionKey& key) {
    const std::size_t mask = entries_.size() - 1;
    std::size_t i = hash(key) & mask;
    for (;; i = (i + 1) & mask) {
      if (entries_[i].value == kAbsent) return false;
      if (entries_[i].key == key) break;
    }
    // Backward shift: pull later members of the probe run into the hole.
    std::size_t hole = i;
    for (std::size_t j = (hole + 1) & mask; entries_[j].value != kAbsent; j = (j + 1) & mask) {
      const std::size_t home = hash(entries_[j].key) & mask;
      const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole].value = kAbsent;
    --count_;
    return true;
  }

  std::size_t size() const { return count_; }

 private:
  static constexpr std::size_t kInitialCapacity = 64;
  struct Entry {
    ConnectionKey key;
    uint32_t value = kAbsent;
  };

  static uint64_t hash(const ConnectionKey& k) {
    uint64_t a = 0, b = 0;
    std::memcpy(&a, k.remote_address.data(), 8);
    std::memcpy(&b, k.remote_address.data() + 8, 8);
    uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + 0xC2B2AE3D27D4EB4FULL);
    h ^= (uint64_t{k.remote_port} << 32) | (uint64_t{k.local_port} << 16) |
         (uint64_t{k.protocol} << 8) | k.is_v6;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
  }

  void place(const ConnectionKey& key, uint32_t value) {
    const std::size_t mask = entries_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      Entry& e = entries_[i];
      if (e.value == kAbsent) {
        e.key = key;
        e.value = value;
        ++count_;
        return;
      }
      if (e.key == key) {
        e.value = value;
        return;
      }
    }
  }

  void grow() {
    std::vector<Entry> old(entries_.size() * 2);
    old.swap(entries_);
    count_ = 0;
    for (const Entry& e : old)
      if (e.value != kAbsent) place(e.key, e.value);
  }

  std::vector<Entry> entries_;
  std::size_t count_ = 0;
};

}  // namespace models::traffic
