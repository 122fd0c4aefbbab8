#pragma once
// The vSwitch's MAC table: 48-bit MAC -> local VM, as a flat open-addressing hash table.
//
// Why not std::unordered_map: the host looks a MAC up two or three times per packet (source
// learning and destination on egress, destination on ingress), and a node-based map costs a
// modulo by a prime and a pointer chase per lookup. Here a lookup is one multiply-shift hash and
// a linear probe over a power-of-two array that stays small (a few entries per local VM), so it
// is usually one cache line. Deletion shifts the following entries back (no tombstones), so
// lookups never slow down as VMs come and go. Grows (rarely: when VMs are added or MACs learned)
// at half load; never allocates on lookup.

#include <cstdint>
#include <vector>

#include "models/packet.h"

namespace models {

class MacTable {
 public:
  // A MAC as the host keys it: the 6 bytes big-endian in the low 48 bits.
  static uint64_t key(const uint8_t* bytes) {
    uint64_t k = 0;
    for (int i = 0; i < 6; ++i) k = (k << 8) | bytes[i];
    return k;
  }

  // The VM owning `mac`, or kNoVm.
  VmIndex find(uint64_t mac) const {
    if (size_ == 0) return kNoVm;
    for (std::size_t i = slot_of(mac);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.mac == mac) return e.vm;
      if (e.mac == kEmpty) return kNoVm;
    }
  }
  // Sets the owner of `mac` (replacing an existing entry).
  void assign(uint64_t mac, VmIndex vm) { *slot_for_insert(mac) = vm; }
  // Adds `mac` -> `vm` unless `mac` is already known (source learning keeps the first owner).
  void learn(uint64_t mac, VmIndex vm) {
    if (find(mac) == kNoVm) assign(mac, vm);
  }
  // Removes every entry owned by `vm`.
  void erase_vm(VmIndex vm) {
    for (std::size_t i = 0; i < entries_.size();) {
      if (entries_[i].mac != kEmpty && entries_[i].vm == vm) {
        erase_at(i);  // the next entry may have shifted into slot i: look at it again
      } else {
        ++i;
      }
    }
  }
  std::size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;  // no MAC has bits above 47 set
  struct Entry {
    uint64_t mac = kEmpty;
    VmIndex vm = kNoVm;
  };

  std::size_t slot_of(uint64_t mac) const {
    return static_cast<std::size_t>((mac * 0x9E3779B97F4A7C15ULL) >> shift_) & mask_;
  }
  VmIndex* slot_for_insert(uint64_t mac) {
    if ((size_ + 1) * 2 > entries_.size()) grow();
    std::size_t i = slot_of(mac);
    while (entries_[i].mac != kEmpty && entries_[i].mac != mac) i = (i + 1) & mask_;
    if (entries_[i].mac == kEmpty) {
      entries_[i].mac = mac;
      ++size_;
    }
    return &entries_[i].vm;
  }
  void erase_at(std::size_t hole) {
    entries_[hole] = Entry{};
    --size_;
    // Backward-shift deletion: move later entries of the probe run into the hole when their home
    // slot does not lie strictly between the hole and their position (cyclically).
    for (std::size_t i = (hole + 1) & mask_; entries_[i].mac != kEmpty; i = (i + 1) & mask_) {
      const std::size_t home = slot_of(entries_[i].mac);
      const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (stays) continue;
      entries_[hole] = entries_[i];
      entries_[i] = Entry{};
      hole = i;
    }
  }
  void grow() {
    std::vector<Entry> old;
    old.swap(entries_);
    const std::size_t capacity = old.empty() ? 16 : old.size() * 2;
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    shift_ = 64;
    for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (const Entry& e : old)
      if (e.mac != kEmpty) assign(e.mac, e.vm);
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace models
