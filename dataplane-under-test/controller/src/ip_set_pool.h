#pragma once
// Interned IP sets: every distinct address list the controller hands out is stored once, named by
// the hash of its content ("ipset-<16 hex digits>"), and shared by every scope (hence every port)
// that resolves to it. Reference counted by scope; a change records which names appeared and
// disappeared so that the controller can report them.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dfw/rules.h"

namespace controller {

using IpSetId = uint32_t;
// The scope selects no address: rules with it as peer can never match and are left out.
inline constexpr IpSetId kEmptySet = 0xffffffffu;
// The scope is `any`: no address constraint on that side.
inline constexpr IpSetId kAnyAddress = 0xfffffffeu;

inline constexpr uint8_t kFamilyV4 = 1;
inline constexpr uint8_t kFamilyV6 = 2;
inline constexpr uint8_t kFamilyBoth = kFamilyV4 | kFamilyV6;
inline uint8_t family_of(const dfw::IpPrefix& p) { return p.is_v4 ? kFamilyV4 : kFamilyV6; }

struct IpSet {
  std::string name;
  std::vector<dfw::IpPrefix> prefixes;  // sorted by prefix_less, unique
  uint64_t hash = 0;
  uint64_t key = 0;  // the probe key the name was made from (== hash but on a collision)
  uint8_t families = 0;  // kFamilyV4 | kFamilyV6 of its prefixes
  uint32_t references = 0;
  bool alive_at_change_start = false;
  bool touched = false;
};

class IpSetPool {
 public:
  // Takes a reference on the set with this content (sorted, unique), creating it if needed.
  // An empty list yields kEmptySet (not stored).
  IpSetId acquire(std::vector<dfw::IpPrefix> prefixes);
  void release(IpSetId id);
  const IpSet& get(IpSetId id) const { return sets_[id]; }
  // Content hash of a set id, with fixed values for kEmptySet and kAnyAddress.
  uint64_t content_hash(IpSetId id) const;

  // Brackets one change: names created and destroyed in between (net), sorted.
  void begin_change();
  void end_change(std::vector<std::string>& added, std::vector<std::string>& removed);

  std::size_t size() const { return by_hash_.size(); }
  std::vector<std::string> names() const;  // sorted
  const IpSet* find(const std::string& name) const;

 private:
  void touch(IpSetId id);
  std::vector<IpSet> sets_;
  std::vector<IpSetId> free_ids_;
  std::map<uint64_t, IpSetId> by_hash_;  // probe key (content hash, bumped on collision) -> id
  std::vector<IpSetId> touched_;
};

uint64_t hash_prefixes(const std::vector<dfw::IpPrefix>& prefixes);
uint64_t hash_mix(uint64_t seed, uint64_t value);

}  // namespace controller
