#include "models/capture_tap.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "models/headers.h"

namespace models {
namespace {

void put16_be(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void put32_be(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

uint32_t frame_size(uint32_t headers, uint32_t payload) {
  return std::max(headers + payload, kEthernetMinimumFrameSize);
}

// Payload of wire segment `i` of `count` carrying `total` bytes: `mss` each and the tail last if
// that gives exactly `count` segments (what the stacks build); otherwise an even split (a
// replayed run of segments coalesced from a trace, whose own sizes are not kept).
uint32_t segment_payload(uint32_t i, uint32_t count, uint32_t total, uint32_t mss) {
  if (mss > 0 && (total + mss - 1) / mss == count)
    return i + 1 < count ? mss : total - (count - 1) * mss;
  return total / count + (i < total % count ? 1 : 0);
}

}  // namespace

CaptureStream::CaptureStream(std::unique_ptr<PcapWriter> writer, uint32_t mss)
    : writer_(std::move(writer)), mss_(mss) {}

void CaptureStream::write(sim::Time at, const uint8_t* bytes, uint32_t size, uint32_t frame_length) {
  // Records of a stream stay in time order even where segment times are reconstructed.
  last_time_ = std::max(last_time_, at);
  writer_->write(last_time_, bytes, size, frame_length);
}

void CaptureStream::record_packet(const Packet& packet, sim::Time at) {
  // A super-packet is one frame of headers + aggregate payload, as its IP length field says.
  const uint32_t length = packet.segment_count > 1
                              ? frame_size(packet.header_size, packet.payload_size)
                              : packet.wire_size;
  write(at, packet.header.data(), packet.header_size, length);
}

void CaptureStream::record_wire_segments(const Packet& packet, sim::Time finish, sim::DataRate rate) {
  const uint32_t count = packet.segment_count;
  if (count <= 1) {
    write(finish, packet.header.data(), packet.header_size, packet.wire_size);
    return;
  }
  if (record_tcp_segments(packet, finish, rate)) return;
  // Anything else (a packet standing for `count` identical ACKs): `count` copies.
  const uint32_t each = packet.wire_size / count;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t length = i + 1 < count ? each : packet.wire_size - each * (count - 1);
    const uint64_t after = i + 1 < count ? packet.wire_size - uint64_t{each} * (i + 1) : 0;
    write(finish - rate.transmit_time(sim::Bytes(after)), packet.header.data(), packet.header_size,
          length);
  }
}

bool CaptureStream::record_tcp_segments(const Packet& packet, sim::Time finish, sim::DataRate rate) {
  ParsedFrame f;
  if (parse_frame(packet.header.data(), packet.header_size, f) != ParseStatus::kOk ||
      f.tuple.protocol != kProtocolTcp || f.l4_payload_size == 0)
    return false;
  const uint32_t headers = f.l4_offset + f.l4_header_size;
  const uint32_t count = packet.segment_count;
  const uint32_t total = f.l4_payload_size;
  if (headers > packet.header_size || total < count) return false;
  uint64_t after = 0;  // wire bytes of the segments after the current one
  for (uint32_t i = 0; i < count; ++i) after += frame_size(headers, segment_payload(i, count, total, mss_));

  std::memcpy(scratch_.data(), packet.header.data(), headers);
  uint8_t* ip = scratch_.data() + f.l3_offset;
  uint8_t* tcp = scratch_.data() + f.l4_offset;
  const bool v6 = f.tuple.source.is_v6;
  const uint32_t ip_header = f.l4_offset - f.l3_offset;
  const std::size_t address_size = v6 ? 16 : 4;
  uint32_t pseudo = checksum_add(0, f.tuple.source.bytes.data(), address_size);
  pseudo = checksum_add(pseudo, f.tuple.destination.bytes.data(), address_size);
  pseudo += kProtocolTcp;
  const uint8_t flags = tcp[13];
  uint32_t offset = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t payload = segment_payload(i, count, total, mss_);
    const uint32_t l4_size = f.l4_header_size + payload;
    if (v6) {
      put16_be(ip + 4, static_cast<uint16_t>(l4_size));
    } else {
      put16_be(ip + 2, static_cast<uint16_t>(ip_header + l4_size));
      put16_be(ip + 10, 0);
      put16_be(ip + 10, checksum_fold(checksum_add(0, ip, ip_header)));
    }
    put32_be(tcp + 4, f.tcp.seq + offset);
    uint8_t segment_flags = flags;
    if (i + 1 < count) segment_flags &= static_cast<uint8_t>(~(tcp_flags::kFin | tcp_flags::kPsh));
    if (i > 0) segment_flags &= static_cast<uint8_t>(~tcp_flags::kCwr);
    tcp[13] = segment_flags;
    put16_be(tcp + 16, 0);
    const uint32_t sum = pseudo + (l4_size >> 16) + (l4_size & 0xFFFF);
    put16_be(tcp + 16, checksum_fold(checksum_add(sum, tcp, f.l4_header_size)));
    const uint32_t length = frame_size(headers, payload);
    after -= length;
    write(finish - rate.transmit_time(sim::Bytes(after)), scratch_.data(), headers, length);
    offset += payload;
  }
  return true;
}

CaptureTap::CaptureTap(Params params) : params_(std::move(params)) {}

CaptureTap::~CaptureTap() {
  if (!committed_) remove_temporaries();
}

std::unique_ptr<CaptureTap> CaptureTap::create(const Params& params, std::string& error) {
  std::unique_ptr<CaptureTap> tap(new CaptureTap(params));
  tap->temporary_path_ = params.path + ".tmp-" + std::to_string(::getpid());
  const uint32_t streams = std::max<uint32_t>(params.streams, 1);
  for (uint32_t i = 0; i < streams; ++i) {
    // A single stream is written where the merge would put it: no copy at commit.
    std::string path = streams == 1 ? tap->temporary_path_ : tap->temporary_path_ + "." + std::to_string(i);
    auto writer = PcapWriter::open(path, params.snap_length, error);
    if (!writer) return nullptr;  // the destructor removes the streams opened so far
    tap->stream_paths_.push_back(std::move(path));
    tap->streams_.push_back(std::make_unique<CaptureStream>(std::move(writer), params.mss));
  }
  return tap;
}

std::vector<std::string> CaptureTap::temporary_paths() const {
  std::vector<std::string> paths = stream_paths_;
  if (stream_paths_.size() > 1) paths.push_back(temporary_path_);
  return paths;
}

void CaptureTap::remove_temporaries() {
  for (const std::string& path : stream_paths_) std::remove(path.c_str());
  std::remove(temporary_path_.c_str());
}

bool CaptureTap::commit(std::string& error) {
  if (committed_) {
    error = params_.path + ": capture already committed";
    return false;
  }
  for (auto& stream : streams_) {
    if (!stream->writer().close(error)) {
      remove_temporaries();
      return false;
    }
  }
  if (stream_paths_.size() > 1) {
    const bool merged = merge_pcap_files(stream_paths_, temporary_path_, error);
    for (const std::string& path : stream_paths_) std::remove(path.c_str());
    if (!merged) {
      std::remove(temporary_path_.c_str());
      return false;
    }
  }
  if (std::rename(temporary_path_.c_str(), params_.path.c_str()) != 0) {
    error = params_.path + ": " + std::strerror(errno);
    std::remove(temporary_path_.c_str());
    return false;
  }
  committed_ = true;
  return true;
}

uint64_t CaptureTap::records() const {
  uint64_t n = 0;
  for (const auto& stream : streams_) n += stream->writer().records();
  return n;
}

uint64_t CaptureTap::frame_bytes() const {
  uint64_t n = 0;
  for (const auto& stream : streams_) n += stream->writer().frame_bytes();
  return n;
}

}  // namespace models
