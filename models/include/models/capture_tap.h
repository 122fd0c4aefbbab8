#pragma once
// Capture taps: pcap files of what a VM port or a fabric link carries (scenario outputs.pcap).
//
// What a tap shows (docs/models.md, "Capture taps"):
//  - A VM-port tap sees the VM side of the vNIC, as tcpdump on the hypervisor's tap interface
//    (or inside the VM) would: one record per packet the VM hands to its vNIC (timestamp: that
//    moment, Packet::sent_at; packets the vNIC refuses, vnic_queue_full, are not shown) and one per
//    packet delivered to the VM (after the ingress firewall). A segmentation-offload
//    super-packet is one record, as a GSO skb is: its length is the headers plus the aggregate
//    payload, which is what its IP length field says.
//  - A link tap sees the wire: each super-packet is split into its wire segments, MSS-sized
//    (the tap's `mss`) with the tail last, each with its own IP length, IPv4 header checksum,
//    TCP sequence number and checksum; FIN and PSH only on the last segment, CWR only on the
//    first (Linux's GSO rules). A packet standing for N identical ACKs shows N frames. Each
//    segment is timestamped when its last bit leaves the sending port. Both directions of the
//    cable (and parallel cables of a bonded host) go into one file, in time order.
// Captured bytes: the real header bytes, then zeros (payloads are never materialized) up to the
// snap length (default 128 bytes); orig_len is the real frame length. Checksums follow the
// frame builders' convention: they are those of an all-zero payload.
//
// Files: each stream writes its own temporary "<path>.tmp-<pid>.<stream>"; commit() merges the
// streams in time order into "<path>.tmp-<pid>" and renames it to `path`. A tap destroyed without
// commit() removes its temporaries, so a failed run never leaves a capture that looks complete.
//
// Cost: a port or link without a tap pays one null-pointer test per packet. With a tap, a record
// is a few buffered fwrite() calls (no allocation).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/packet.h"
#include "models/pcap_writer.h"
#include "sim/time.h"
#include "sim/units.h"

namespace models {

// One time-ordered stream of records of a tap (a VM port, or one direction of one cable).
class CaptureStream {
 public:
  CaptureStream(std::unique_ptr<PcapWriter> writer, uint32_t mss);

  // VM-port view: the packet as one record at `at`.
  void record_packet(const Packet& packet, sim::Time at);
  // Wire view: one record per wire segment; the last segment's last bit leaves the port at
  // `finish`, earlier segments at `rate`'s serialization time before.
  void record_wire_segments(const Packet& packet, sim::Time finish, sim::DataRate rate);

  PcapWriter& writer() { return *writer_; }

 private:
  void write(sim::Time at, const uint8_t* bytes, uint32_t size, uint32_t frame_length);
  bool record_tcp_segments(const Packet& packet, sim::Time finish, sim::DataRate rate);

  std::unique_ptr<PcapWriter> writer_;
  uint32_t mss_;
  sim::Time last_time_ = sim::Time::zero();
  std::array<uint8_t, kMaxHeaderSize> scratch_{};
};

class CaptureTap {
 public:
  struct Params {
    std::string name;                             // the VM or link name, for reports
    std::string path;                             // the final pcap file
    uint32_t streams = 1;                         // 1 for a VM port; one per link direction
    uint32_t snap_length = kPcapDefaultSnapLength;  // bytes captured per frame
    uint32_t mss = 1460;                          // payload per wire segment (link view)
  };
  // Opens the streams' temporary files; nullptr with `error` if one cannot be created.
  static std::unique_ptr<CaptureTap> create(const Params& params, std::string& error);
  ~CaptureTap();
  CaptureTap(const CaptureTap&) = delete;
  CaptureTap& operator=(const CaptureTap&) = delete;

  CaptureStream& stream(std::size_t i) { return *streams_[i]; }
  std::size_t stream_count() const { return streams_.size(); }

  // Closes the streams, merges them in time order and renames the result to path(). On failure
  // every temporary is removed and no file is left at path().
  bool commit(std::string& error);

  // Every file the tap may leave behind until commit() (for signal-time cleanup).
  std::vector<std::string> temporary_paths() const;

  const std::string& name() const { return params_.name; }
  const std::string& path() const { return params_.path; }
  uint64_t records() const;      // frames written
  uint64_t frame_bytes() const;  // sum of their real lengths (orig_len)

 private:
  explicit CaptureTap(Params params);
  void remove_temporaries();

  Params params_;
  std::string temporary_path_;
  std::vector<std::string> stream_paths_;
  std::vector<std::unique_ptr<CaptureStream>> streams_;
  bool committed_ = false;
};

}  // namespace models
