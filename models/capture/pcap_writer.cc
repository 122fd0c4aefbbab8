#include "models/pcap_writer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace models {
namespace {

constexpr std::size_t kStreamBufferSize = 256 * 1024;
constexpr uint64_t kNanosPerSecond = 1'000'000'000;

void put32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v);
  out[1] = static_cast<uint8_t>(v >> 8);
  out[2] = static_cast<uint8_t>(v >> 16);
  out[3] = static_cast<uint8_t>(v >> 24);
}

void put16(uint8_t* out, uint16_t v) {
  out[0] = static_cast<uint8_t>(v);
  out[1] = static_cast<uint8_t>(v >> 8);
}

uint32_t get32(const uint8_t* in) {
  return uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 | uint32_t{in[3]} << 24;
}

std::string system_error(const std::string& path, int error_number) {
  return path + ": " + std::strerror(error_number);
}

}  // namespace

PcapWriter::PcapWriter(std::string path, std::FILE* file, uint32_t snap_length)
    : path_(std::move(path)), file_(file), snap_length_(snap_length), buffer_(kStreamBufferSize) {
  // Full buffering into our own buffer: fwrite() then copies bytes and never allocates.
  std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
}

PcapWriter::~PcapWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

std::unique_ptr<PcapWriter> PcapWriter::open(const std::string& path, uint32_t snap_length,
                                             std::string& error) {
  if (snap_length == 0) {
    error = path + ": snap length must be at least 1 byte";
    return nullptr;
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    error = system_error(path, errno);
    return nullptr;
  }
  std::unique_ptr<PcapWriter> writer(new PcapWriter(path, file, snap_length));
  uint8_t header[kPcapFileHeaderSize];
  put32(header, kPcapMagicNanoseconds);
  put16(header + 4, 2);  // version 2.4
  put16(header + 6, 4);
  put32(header + 8, 0);   // thiszone: timestamps are simulated time, no zone
  put32(header + 12, 0);  // sigfigs
  put32(header + 16, snap_length);
  put32(header + 20, kPcapLinkTypeEthernet);
  writer->put(header, sizeof header);
  return writer;
}

void PcapWriter::put(const void* data, std::size_t size) {
  if (write_errno_ != 0) return;
  if (std::fwrite(data, 1, size, file_) != size) write_errno_ = errno != 0 ? errno : EIO;
}

void PcapWriter::write(sim::Time time, const uint8_t* bytes, uint32_t size, uint32_t frame_length) {
  static constexpr std::array<uint8_t, 256> kZeros{};
  const uint64_t ns = static_cast<uint64_t>(std::max<int64_t>(time.ns(), 0));
  const uint32_t captured = std::min(frame_length, snap_length_);
  uint8_t header[kPcapRecordHeaderSize];
  put32(header, static_cast<uint32_t>(ns / kNanosPerSecond));
  put32(header + 4, static_cast<uint32_t>(ns % kNanosPerSecond));
  put32(header + 8, captured);
  put32(header + 12, frame_length);
  put(header, sizeof header);
  const uint32_t real = std::min(size, captured);
  put(bytes, real);
  for (uint32_t left = captured - real; left > 0;) {
    const uint32_t n = std::min<uint32_t>(left, kZeros.size());
    put(kZeros.data(), n);
    left -= n;
  }
  ++records_;
  frame_bytes_ += frame_length;
}

bool PcapWriter::close(std::string& error) {
  if (file_ == nullptr) {
    error = path_ + ": already closed";
    return false;
  }
  if (std::fflush(file_) != 0 && write_errno_ == 0) write_errno_ = errno != 0 ? errno : EIO;
  if (std::fclose(file_) != 0 && write_errno_ == 0) write_errno_ = errno != 0 ? errno : EIO;
  file_ = nullptr;
  if (write_errno_ != 0) {
    error = system_error(path_, write_errno_);
    return false;
  }
  return true;
}

namespace {

// One input of a merge: its stream and the record read ahead.
struct MergeInput {
  std::FILE* file = nullptr;
  std::string path;
  uint8_t header[kPcapRecordHeaderSize];
  std::vector<uint8_t> data;
  bool has_record = false;
  uint64_t time_ns = 0;
};

// Reads the next record of `in`; false with `error` on a malformed file.
bool read_record(MergeInput& in, uint32_t snap_length, std::string& error) {
  const std::size_t got = std::fread(in.header, 1, sizeof in.header, in.file);
  if (got == 0 && std::feof(in.file)) {
    in.has_record = false;
    return true;
  }
  if (got != sizeof in.header) {
    error = in.path + ": truncated record header";
    return false;
  }
  const uint32_t captured = get32(in.header + 8);
  if (captured > snap_length) {
    error = in.path + ": record longer than the snap length";
    return false;
  }
  in.data.resize(captured);
  if (std::fread(in.data.data(), 1, captured, in.file) != captured) {
    error = in.path + ": truncated record data";
    return false;
  }
  in.time_ns = uint64_t{get32(in.header)} * kNanosPerSecond + get32(in.header + 4);
  in.has_record = true;
  return true;
}

}  // namespace

bool merge_pcap_files(const std::vector<std::string>& inputs, const std::string& output,
                      std::string& error) {
  std::vector<MergeInput> in(inputs.size());
  auto close_all = [&] {
    for (MergeInput& i : in)
      if (i.file != nullptr) std::fclose(i.file);
  };
  uint8_t file_header[kPcapFileHeaderSize] = {};
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    in[k].path = inputs[k];
    in[k].file = std::fopen(inputs[k].c_str(), "rb");
    uint8_t h[kPcapFileHeaderSize];
    if (in[k].file == nullptr) {
      error = system_error(inputs[k], errno);
      close_all();
      return false;
    }
    if (std::fread(h, 1, sizeof h, in[k].file) != sizeof h || get32(h) != kPcapMagicNanoseconds) {
      error = inputs[k] + ": not a nanosecond pcap file";
      close_all();
      return false;
    }
    if (k == 0) {
      std::memcpy(file_header, h, sizeof h);
    } else if (std::memcmp(file_header, h, sizeof h) != 0) {
      error = inputs[k] + ": file header differs from " + inputs[0] + "'s";
      close_all();
      return false;
    }
  }
  const uint32_t snap_length = get32(file_header + 16);
  std::FILE* out = std::fopen(output.c_str(), "wb");
  if (out == nullptr) {
    error = system_error(output, errno);
    close_all();
    return false;
  }
  bool ok = std::fwrite(file_header, 1, sizeof file_header, out) == sizeof file_header;
  for (MergeInput& i : in) ok = ok && read_record(i, snap_length, error);
  while (ok) {
    MergeInput* next = nullptr;
    for (MergeInput& i : in)
      if (i.has_record && (next == nullptr || i.time_ns < next->time_ns)) next = &i;
    if (next == nullptr) break;
    ok = std::fwrite(next->header, 1, sizeof next->header, out) == sizeof next->header &&
         std::fwrite(next->data.data(), 1, next->data.size(), out) == next->data.size();
    if (!ok) error = system_error(output, errno);
    ok = ok && read_record(*next, snap_length, error);
  }
  close_all();
  if (std::fclose(out) != 0 && ok) {
    error = system_error(output, errno);
    ok = false;
  }
  return ok;
}

}  // namespace models
