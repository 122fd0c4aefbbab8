#pragma once
// The port state blob (Datapath::export_port / import_port), format version 1.
//
//   header (20 bytes):  magic "DFWS" | u16 format version | u16 reserved (0)
//                       | u32 payload size | u32 CRC-32C of the payload | u32 reserved (0)
//   payload:            u32 port id | u64 rule table version | u8 has rule table
//                       | port counters: u64 packets[2], bytes[2], allowed, dropped
//                       | u32 drop reason count, u64 drops_by_reason[count]
//                       | u32 rule count, per rule: u32 id, u64 hits, u64 bytes
//                       | u32 connection count, per connection (kConnRecordSize bytes):
//                         local[16] remote[16] u16 local_port u16 remote_port u8 protocol
//                         u8 state u8 flags u8 origin u8 icmp_type i32 rule_id i32 rule_index
//                         i64 remaining ns | u32 td_end[2] td_maxend[2] td_maxwin[2]
//                         | u8 td_scale[2] td_flags[2]
// All integers little-endian. Connections are written in pool order; import preserves them.

#include <cstdint>
#include <cstring>
#include <vector>

namespace dfw::state {

inline constexpr uint8_t kMagic[4] = {'D', 'F', 'W', 'S'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr uint32_t kHeaderSize = 20;
inline constexpr uint32_t kConnRecordSize = 16 + 16 + 2 + 2 + 5 + 4 + 4 + 8 + 24 + 4;
inline constexpr uint32_t kRuleRecordSize = 4 + 8 + 8;

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void bytes(const uint8_t* p, std::size_t n) { out_.insert(out_.end(), p, p + n); }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

// Bounds-checked reader: once a read runs past the end, ok() is false and reads return zero.
class Reader {
 public:
  Reader(const uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  void bytes(uint8_t* out, std::size_t n) {
    if (!take(n)) {
      std::memset(out, 0, n);
      return;
    }
    std::memcpy(out, p_ + at_ - n, n);
  }
  bool ok() const { return ok_; }
  std::size_t remaining() const { return n_ - at_; }

 private:
  bool take(std::size_t n) {
    if (!ok_ || n > n_ - at_) {
      ok_ = false;
      return false;
    }
    at_ += n;
    return true;
  }
  uint64_t le(int n) {
    if (!take(static_cast<std::size_t>(n))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p_[at_ - n + i]) << (8 * i);
    return v;
  }
  const uint8_t* p_;
  std::size_t n_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace dfw::state
