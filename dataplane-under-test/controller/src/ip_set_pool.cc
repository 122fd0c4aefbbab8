#include "ip_set_pool.h"

#include <algorithm>
#include <cstring>

#include "controller/address.h"

namespace controller {

uint64_t hash_mix(uint64_t seed, uint64_t value) {
  // splitmix64 finalizer over the running state: cheap, well distributed, platform independent.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL + value * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t hash_prefixes(const std::vector<dfw::IpPrefix>& prefixes) {
  uint64_t h = hash_mix(0x1f2e3d4c5b6a7988ULL, prefixes.size());
  for (const auto& p : prefixes) {
    uint64_t hi, lo;
    std::memcpy(&hi, p.address.data(), 8);
    std::memcpy(&lo, p.address.data() + 8, 8);
    h = hash_mix(h, hi);
    h = hash_mix(h, lo);
    h = hash_mix(h, (uint64_t{p.length} << 1) | (p.is_v4 ? 1 : 0));
  }
  return h;
}

namespace {
bool same_content(const std::vector<dfw::IpPrefix>& a, const std::vector<dfw::IpPrefix>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), prefix_equal);
}
std::string set_name(uint64_t key) {
  static const char kHex[] = "0123456789abcdef";
  std::string name = "ipset-0000000000000000";
  for (int i = 0; i < 16; ++i) name[6 + i] = kHex[(key >> (60 - 4 * i)) & 0xf];
  return name;
}
}  // namespace

IpSetId IpSetPool::acquire(std::vector<dfw::IpPrefix> prefixes) {
  if (prefixes.empty()) return kEmptySet;
  uint64_t hash = hash_prefixes(prefixes);
  // Linear probing over the 64-bit key space on the (practically impossible) collision.
  uint64_t key = hash;
  for (;;) {
    auto it = by_hash_.find(key);
    if (it == by_hash_.end()) break;
    IpSet& existing = sets_[it->second];
    if (existing.hash == hash && same_content(existing.prefixes, prefixes)) {
      touch(it->second);
      ++existing.references;
      return it->second;
    }
    ++key;
  }
  IpSetId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<IpSetId>(sets_.size());
    sets_.emplace_back();
  }
  IpSet& set = sets_[id];
  set = IpSet{};
  set.name = set_name(key);
  for (const auto& prefix : prefixes) set.families |= family_of(prefix);
  set.prefixes = std::move(prefixes);
  set.hash = hash;
  set.key = key;
  set.references = 1;
  set.alive_at_change_start = false;
  set.touched = true;
  touched_.push_back(id);
  by_hash_.emplace(key, id);
  return id;
}

void IpSetPool::release(IpSetId id) {
  if (id == kEmptySet || id == kAnyAddress) return;
  touch(id);
  --sets_[id].references;
}

uint64_t IpSetPool::content_hash(IpSetId id) const {
  if (id == kEmptySet) return 0x0e0e0e0e0e0e0e0eULL;
  if (id == kAnyAddress) return 0xa0a0a0a0a0a0a0a0ULL;
  return sets_[id].hash;
}

void IpSetPool::touch(IpSetId id) {
  IpSet& set = sets_[id];
  if (set.touched) return;
  set.touched = true;
  set.alive_at_change_start = true;  // untouched sets in the pool were alive when the change began
  touched_.push_back(id);
}

void IpSetPool::begin_change() { touched_.clear(); }

void IpSetPool::end_change(std::vector<std::string>& added, std::vector<std::string>& removed) {
  for (IpSetId id : touched_) {
    IpSet& set = sets_[id];
    set.touched = false;
    bool alive = set.references > 0;
    if (alive && !set.alive_at_change_start) added.push_back(set.name);
    if (!alive && set.alive_at_change_start) removed.push_back(set.name);
    if (!alive) {
      by_hash_.erase(set.key);
      set.prefixes = {};
      set.name.clear();
      free_ids_.push_back(id);
    }
  }
  touched_.clear();
  std::sort(added.begin(), added.end());
  std::sort(removed.begin(), removed.end());
}

std::vector<std::string> IpSetPool::names() const {
  std::vector<std::string> out;
  out.reserve(by_hash_.size());
  for (const auto& [key, id] : by_hash_) out.push_back(sets_[id].name);
  std::sort(out.begin(), out.end());
  return out;
}

const IpSet* IpSetPool::find(const std::string& name) const {
  if (name.size() != 22 || name.compare(0, 6, "ipset-") != 0) return nullptr;
  uint64_t key = 0;
  for (std::size_t i = 6; i < name.size(); ++i) {
    char c = name[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return nullptr;
    key = (key << 4) | static_cast<uint64_t>(digit);
  }
  auto it = by_hash_.find(key);
  return it == by_hash_.end() ? nullptr : &sets_[it->second];
}

}  // namespace controller
