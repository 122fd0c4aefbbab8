#pragma once
// The pcap file format (libpcap 2.4, nanosecond variant), written by hand so that the hot path
// is a couple of buffered fwrite() calls into a stream whose buffer is allocated once.
//
// Layout, every field little-endian (readers detect the byte order from the magic):
//   file header (24 bytes): magic 0xa1b23c4d (nanosecond timestamps), version 2.4, thiszone 0,
//     sigfigs 0, snaplen, linktype 1 (Ethernet)
//   per record (16 bytes + data): ts_sec, ts_nsec, incl_len = min(orig_len, snaplen),
//     orig_len = the frame's real length; then incl_len bytes of frame.
// A frame is given as its first `size` real bytes (the simulator's header bytes); the rest of
// the captured part is zeros, because payloads are never materialized.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "sim/time.h"

namespace models {

inline constexpr uint32_t kPcapMagicNanoseconds = 0xa1b23c4d;
inline constexpr uint32_t kPcapLinkTypeEthernet = 1;
inline constexpr uint32_t kPcapFileHeaderSize = 24;
inline constexpr uint32_t kPcapRecordHeaderSize = 16;
inline constexpr uint32_t kPcapDefaultSnapLength = 128;  // bytes; every header the models build fits

class PcapWriter {
 public:
  // Creates (truncates) `path` and writes the file header. snap_length must be >= 1.
  static std::unique_ptr<PcapWriter> open(const std::string& path, uint32_t snap_length,
                                          std::string& error);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one record at simulated time `time` (>= 0). `bytes` holds the frame's first `size`
  // bytes; the captured length is min(frame_length, snap_length), zero-filled beyond `size`.
  // Never allocates. A failed write is remembered and reported by close().
  void write(sim::Time time, const uint8_t* bytes, uint32_t size, uint32_t frame_length);

  // Flushes and closes the file; false (with the system's reason) if any write failed.
  bool close(std::string& error);

  const std::string& path() const { return path_; }
  uint32_t snap_length() const { return snap_length_; }
  uint64_t records() const { return records_; }
  uint64_t frame_bytes() const { return frame_bytes_; }  // sum of orig_len

 private:
  PcapWriter(std::string path, std::FILE* file, uint32_t snap_length);
  void put(const void* data, std::size_t size);

  std::string path_;
  std::FILE* file_;
  uint32_t snap_length_;
  std::vector<char> buffer_;  // the stream's buffer, allocated once
  uint64_t records_ = 0;
  uint64_t frame_bytes_ = 0;
  int write_errno_ = 0;
};

// Merges pcap files whose records are each in time order into `output`, in time order (ties:
// the earlier input first). The inputs must share snap length and link type. Not for the hot
// path: it runs once, when a capture with several streams is committed.
bool merge_pcap_files(const std::vector<std::string>& inputs, const std::string& output,
                      std::string& error);

}  // namespace models
