// pcap/pcapng replay through libpcap, one record at a time; see replay_source.h.
#include <pcap/pcap.h>

#include <cstring>
#include <string>

#include "models/traffic/replay_source.h"

namespace models::traffic {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

bool looks_gzipped(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  unsigned char magic[2] = {0, 0};
  const bool gz = std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::fclose(f);
  return gz;
}

class PcapReplay final : public ReplaySource {
 public:
  PcapReplay(sim::Kernel& kernel, VmTable& vms, PacketPool& pool, ReplayFlows& flows, const ReplayParams& params)
      : ReplaySource(kernel, vms, pool, flows, params) {}

  bool open(std::string& error) {
    if (!init(error)) return false;
    if (!reopen(error)) return false;
    // Read ahead the first packet so that a file without a usable record fails before the run.
    if (!fill_pending() && failed()) {
      error = error_;
      return false;
    }
    return true;
  }

  void start() override {
    if (has_pending_) schedule_pending();
  }

 private:
  bool reopen(std::string& error) {
    char message[PCAP_ERRBUF_SIZE] = {};
    handle_.reset(pcap_open_offline_with_tstamp_precision(params_.file.c_str(), PCAP_TSTAMP_PRECISION_NANO, message));
    if (!handle_) {
      error = params_.file + ": cannot read as pcap or pcapng: " + message;
      if (looks_gzipped(params_.file)) error += " (the file is gzip-compressed: gunzip it first)";
      return false;
    }
    if (pcap_datalink(handle_.get()) != DLT_EN10MB) {
      const char* name = pcap_datalink_val_to_name(pcap_datalink(handle_.get()));
      error = params_.file + ": link type " + (name ? name : std::to_string(pcap_datalink(handle_.get()))) +
              " is not supported (expected EN10MB, Ethernet)";
      handle_.reset();
      return false;
    }
    record_number_ = 0;
    return true;
  }

  // Reads the next replayable packet of the trace (all loops) into `out`. False at the end of the
  // last loop or on an input error (then failed()).
  bool read_packet(TracePacket& out) {
    while (!exhausted_) {
      pcap_pkthdr* header = nullptr;
      const u_char* data = nullptr;
      const int rc = pcap_next_ex(handle_.get(), &header, &data);
      if (rc == PCAP_ERROR_BREAK) {
        if (!end_of_pass()) break;
        continue;
      }
      if (rc != 1) {
        const std::string what = pcap_geterr(handle_.get());
        const char* field = what.find("header") != std::string::npos ? "record header" : "packet data";
        if (!bad_record(params_.file + ": record " + std::to_string(record_number_ + 1) + ": " + field + ": " + what)) {
          break;
        }
        if (!end_of_pass()) break;  // cannot resynchronize inside a pcap: next pass
        continue;
      }
      ++record_number_;
      ++stats_.records_read;
      const int64_t trace_ns = int64_t{header->ts.tv_sec} * 1'000'000'000 + header->ts.tv_usec;  // nanosecond precision
      const sim::Time at = replay_time(trace_ns);
      if (at >= params_.stop) break;
      ParsedFrame frame;
      const ParseStatus status = parse_frame(data, header->caplen, frame);
      if (status == ParseStatus::kNotIp) {
        skip(ReplaySkip::kNonIp);
        continue;
      }
      if (status == ParseStatus::kTruncated) {
        skip(ReplaySkip::kTruncatedFrame);
        continue;
      }
      if (status == ParseStatus::kMalformed) {
        if (!bad_record(params_.file + ": record " + std::to_string(record_number_) +
                        ": ip header: malformed (bad version, header length or total length)")) {
          break;
        }
        continue;
      }
      const uint8_t protocol = frame.tuple.protocol;
      if (protocol != kProtocolTcp && protocol != kProtocolUdp && protocol != kProtocolIcmp &&
          protocol != kProtocolIcmpv6) {
        skip(ReplaySkip::kUnsupportedProtocol);
        continue;
      }
      out.tuple = frame.tuple;
      rewrite_ports(out.tuple);
      out.tcp = frame.tcp;
      out.icmp = frame.icmp;
      out.payload_size = frame.l4_payload_size;
      out.segment_count = 1;
      out.wire_size = frame_wire_size(frame);
      out.at = at;
      return true;
    }
    exhausted_ = true;  // the end, the stop time or an error: never read again
    return false;
  }

  // The wire size of the rebuilt frame (as headers.h counts it), for coalesced sums.
  static uint32_t frame_wire_size(const ParsedFrame& frame) {
    const uint32_t ip = frame.tuple.source.is_v6 ? kIpv6HeaderSize : kIpv4HeaderSize;
    uint32_t l4 = frame.l4_header_size;
    if (frame.tuple.protocol == kProtocolTcp) {
      l4 = kTcpHeaderSize + (frame.tcp.mss_option ? 4 : 0) + (frame.tcp.window_scale_option >= 0 ? 4 : 0);
    }
    const uint32_t size = kEthernetHeaderSize + ip + l4 + frame.l4_payload_size;
    return size < kEthernetMinimumFrameSize ? kEthernetMinimumFrameSize : size;
  }

  bool end_of_pass() {
    if (!next_loop()) return false;
    std::string error;
    if (!reopen(error)) {
      if (error_.empty()) error_ = error;
      kernel_.stop();
      return false;
    }
    return true;
  }

  static bool is_plain_data(const TracePacket& p) {
    return p.tuple.protocol == kProtocolTcp && p.payload_size > 0 &&
           (p.tcp.flags & (tcp_flags::kSyn | tcp_flags::kFin | tcp_flags::kRst)) == 0;
  }

  // Can `next` extend the super-packet `group`? Same flow and direction, in-order data.
  bool mergeable(const TracePacket& group, const TracePacket& next) const {
    if (!is_plain_data(group) || !is_plain_data(next) || !(next.tuple == group.tuple)) return false;
    if (next.tcp.seq != group.tcp.seq + group.payload_size) return false;
    const uint32_t limit = std::min<uint64_t>(params_.segment_size.count(),
                                              max_super_packet_payload(group.tuple.source.is_v6, kTcpHeaderSize));
    return uint64_t{group.payload_size} + next.payload_size <= limit && group.segment_count < 0xFFFF;
  }

  // Moves the held packet (or a new one) into pending_ and, with coalescing, absorbs the
  // following segments of the same flow. False if the trace is over.
  bool fill_pending() {
    if (!has_held_ && !read_packet(held_)) {
      has_pending_ = false;
      return false;
    }
    pending_ = held_;
    has_held_ = false;
    has_pending_ = true;
    if (!params_.coalesce) return true;
    while (read_packet(held_)) {
      if (!mergeable(pending_, held_)) {
        has_held_ = true;
        break;
      }
      pending_.payload_size += held_.payload_size;
      pending_.segment_count += 1;
      pending_.wire_size += held_.wire_size;
      pending_.tcp.flags |= held_.tcp.flags;  // PSH of any segment
      pending_.tcp.ack = held_.tcp.ack;
      pending_.tcp.window = held_.tcp.window;
    }
    return true;
  }

  void schedule_pending() {
    kernel_.schedule_at(pending_.at, entity_, [this] { on_due(); });
  }

  void on_due() {
    if (failed()) return;
    emit(pending_);
    if (fill_pending()) schedule_pending();
  }

  PcapHandle handle_;
  uint64_t record_number_ = 0;  // 1-based number of the last record read in this pass
  TracePacket pending_;
  TracePacket held_;
  bool has_pending_ = false;
  bool has_held_ = false;
  bool exhausted_ = false;
};

}  // namespace

std::unique_ptr<ReplaySource> create_pcap_replay(sim::Kernel& kernel, VmTable& vms, PacketPool& pool,
                                                 ReplayFlows& flows, const ReplayParams& params,
                                                 std::string& error) {
  auto replay = std::make_unique<PcapReplay>(kernel, vms, pool, flows, params);
  if (!replay->open(error)) return nullptr;
  return replay;
}

}  // namespace models::traffic
