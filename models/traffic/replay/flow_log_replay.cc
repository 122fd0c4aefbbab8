// AWS VPC Flow Logs (version 2) replay: each record becomes `packets` evenly spaced packets over
// its [start, end] interval. Records are read one line at a time; those whose interval has begun
// wait in a heap ordered by their next packet time, so memory is bounded by the number of
// concurrently active records. Format and rules: docs/traffic.md ("Flow-log replay").
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "models/traffic/replay_source.h"

namespace models::traffic {
namespace {

constexpr std::size_t kFieldCount = 14;
constexpr const char* kFieldNames[kFieldCount] = {"version", "account-id", "interface-id", "srcaddr", "dstaddr",
                                                  "srcport", "dstport",    "protocol",     "packets", "bytes",
                                                  "start",   "end",        "action",       "log-status"};

struct FlowLogRecord {
  FiveTuple tuple;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t start_s = 0;
  int64_t end_s = 0;
};

// A record whose interval has begun: packet `next` of `record.packets` is due at `at`.
struct ActiveRecord {
  sim::Time at;
  uint64_t order = 0;  // tie-break: file order
  FlowLogRecord record;
  uint64_t next = 0;
  uint32_t seq = 0;    // TCP sequence number of the next packet
  sim::Time first;     // replay time of packet 0 and of the last one
  sim::Time last;
};
struct LaterFirst {
  bool operator()(const ActiveRecord& a, const ActiveRecord& b) const {
    return a.at != b.at ? a.at > b.at : a.order > b.order;
  }
};

template <class T>
bool parse_unsigned(std::string_view text, T& out, T max) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) return false;
  out = static_cast<T>(v);
  return true;
}

bool parse_ip(std::string_view text, IpAddress& out) {
  char buffer[64];
  if (text.size() >= sizeof buffer) return false;
  std::copy(text.begin(), text.end(), buffer);
  buffer[text.size()] = '\0';
  in_addr v4{};
  if (inet_pton(AF_INET, buffer, &v4) == 1) {
    out = IpAddress::v4(ntohl(v4.s_addr));
    return true;
  }
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, buffer, v6.data()) != 1) return false;
  out = IpAddress::v6(v6);
  return true;
}

class FlowLogReplay final : public ReplaySource {
 public:
  FlowLogReplay(sim::Kernel& kernel, VmTable& vms, PacketPool& pool, ReplayFlows& flows, const ReplayParams& params)
      : ReplaySource(kernel, vms, pool, flows, params) {}

  bool open(std::string& error) {
    if (!init(error) || !reopen(error)) return false;
    if (!read_ahead() && failed()) {
      error = error_;
      return false;
    }
    return true;
  }

  void start() override { admit_and_schedule(); }

 private:
  bool reopen(std::string& error) {
    in_.close();
    in_.clear();
    in_.open(params_.file);
    if (!in_) {
      error = params_.file + ": cannot open the flow log";
      return false;
    }
    line_number_ = 0;
    seen_record_line_ = false;
    return true;
  }

  // Reads the next record (all loops) into lookahead_. False at the end or on an error.
  bool read_ahead() {
    has_lookahead_ = false;
    while (true) {
      if (!std::getline(in_, line_)) {
        if (!next_loop()) return false;
        std::string error;
        if (!reopen(error)) {
          if (error_.empty()) error_ = error;
          kernel_.stop();
          return false;
        }
        continue;
      }
      ++line_number_;
      FlowLogRecord r;
      switch (parse_line(r)) {
        case Line::kBlank: continue;
        case Line::kSkip: continue;
        case Line::kBad:
          if (!bad_record(bad_message_)) return false;
          continue;
        case Line::kRecord: break;
      }
      ++stats_.records_read;
      rewrite_ports(r.tuple);
      lookahead_.record = r;
      lookahead_.order = order_++;
      lookahead_.next = 0;
      lookahead_.seq = static_cast<uint32_t>(flow_hash(r.tuple));  // a stable initial sequence number
      lookahead_.first = replay_time(r.start_s * 1'000'000'000);
      const int64_t span_ns = (r.end_s - r.start_s) * 1'000'000'000;
      lookahead_.last = lookahead_.first + sim::Nanos(std::llround(static_cast<double>(span_ns) / params_.speed));
      lookahead_.at = lookahead_.first;
      if (lookahead_.first >= params_.stop) return false;
      has_lookahead_ = true;
      return true;
    }
  }

  enum class Line { kBlank, kSkip, kBad, kRecord };

  Line bad(std::size_t field, std::string_view value, const char* expected) {
    bad_message_ = params_.file + ":" + std::to_string(line_number_) + ": field " + std::to_string(field + 1) + " (" +
                   kFieldNames[field] + "): '" + std::string(value) + "' is not " + expected;
    return Line::kBad;
  }

  Line parse_line(FlowLogRecord& r) {
    std::string_view fields[kFieldCount];
    std::size_t count = 0;
    std::string_view rest(line_);
    while (true) {
      const std::size_t begin = rest.find_first_not_of(" \t\r");
      if (begin == std::string_view::npos) break;
      rest.remove_prefix(begin);
      const std::size_t end = std::min(rest.find_first_of(" \t\r"), rest.size());
      if (count == kFieldCount) {
        bad_message_ = params_.file + ":" + std::to_string(line_number_) +
                       ": more than 14 fields (expected a version-2 record: version account-id interface-id srcaddr "
                       "dstaddr srcport dstport protocol packets bytes start end action log-status)";
        return Line::kBad;
      }
      fields[count++] = rest.substr(0, end);
      rest.remove_prefix(end);
    }
    if (count == 0) return Line::kBlank;
    const bool first_line = !seen_record_line_;
    seen_record_line_ = true;
    if (fields[0] == "version") {
      if (first_line) return Line::kSkip;  // the optional header line
      return bad(0, fields[0], "a record (a header line is allowed only first)");
    }
    if (count < kFieldCount) {
      bad_message_ = params_.file + ":" + std::to_string(line_number_) + ": field " + std::to_string(count + 1) + " (" +
                     kFieldNames[count] + ") is missing (expected 14 fields, got " + std::to_string(count) + ")";
      return Line::kBad;
    }
    if (fields[0] != "2") return bad(0, fields[0], "2 (only version-2 records are read)");
    const std::string_view status = fields[13];
    if (status == "NODATA" || status == "SKIPDATA") {
      skip(ReplaySkip::kNoData);
      return Line::kSkip;
    }
    if (status != "OK") return bad(13, status, "OK, NODATA or SKIPDATA");
    if (!parse_ip(fields[3], r.tuple.source)) return bad(3, fields[3], "an IP address");
    if (!parse_ip(fields[4], r.tuple.destination)) return bad(4, fields[4], "an IP address");
    if (r.tuple.source.is_v6 != r.tuple.destination.is_v6) return bad(4, fields[4], "of the same family as srcaddr");
    if (!parse_unsigned<uint16_t>(fields[5], r.tuple.source_port, 65535)) return bad(5, fields[5], "a port 0..65535");
    if (!parse_unsigned<uint16_t>(fields[6], r.tuple.destination_port, 65535)) return bad(6, fields[6], "a port 0..65535");
    if (!parse_unsigned<uint8_t>(fields[7], r.tuple.protocol, 255)) return bad(7, fields[7], "a protocol number 0..255");
    if (!parse_unsigned<uint64_t>(fields[8], r.packets, 1'000'000'000'000ULL) || r.packets == 0)
      return bad(8, fields[8], "a packet count >= 1");
    if (!parse_unsigned<uint64_t>(fields[9], r.bytes, UINT64_MAX / 2)) return bad(9, fields[9], "a byte count");
    uint64_t start = 0, end = 0;
    if (!parse_unsigned<uint64_t>(fields[10], start, 1ULL << 40)) return bad(10, fields[10], "unix seconds");
    if (!parse_unsigned<uint64_t>(fields[11], end, 1ULL << 40)) return bad(11, fields[11], "unix seconds");
    if (end < start) return bad(11, fields[11], "at or after start");
    if (fields[12] != "ACCEPT" && fields[12] != "REJECT") return bad(12, fields[12], "ACCEPT or REJECT");
    r.start_s = static_cast<int64_t>(start);
    r.end_s = static_cast<int64_t>(end);
    const uint8_t p = r.tuple.protocol;
    if (p != kProtocolTcp && p != kProtocolUdp && p != kProtocolIcmp && p != kProtocolIcmpv6) {
      skip(ReplaySkip::kUnsupportedProtocol);
      return Line::kSkip;
    }
    return Line::kRecord;
  }

  // Moves records whose first packet is due no later than the earliest active packet into the
  // heap, then schedules the earliest.
  void admit_and_schedule() {
    while (has_lookahead_ && (active_.empty() || lookahead_.at <= active_.top().at)) {
      if (lookahead_.at < kernel_.now()) lookahead_.at = kernel_.now();
      active_.push(lookahead_);
      read_ahead();
      if (failed()) return;
    }
    if (active_.empty()) return;
    kernel_.schedule_at(active_.top().at, entity_, [this] { on_due(); });
  }

  void on_due() {
    if (failed()) return;
    ActiveRecord a = active_.top();
    active_.pop();
    send(a);
    if (++a.next < a.record.packets) {
      const int64_t span = (a.last - a.first).ns();
      const auto offset = static_cast<int64_t>(static_cast<long double>(span) * a.next / (a.record.packets - 1));
      a.at = std::max(a.first + sim::Nanos(offset), kernel_.now());
      active_.push(a);
    }
    admit_and_schedule();
  }

  void send(ActiveRecord& a) {
    const FlowLogRecord& r = a.record;
    // bytes / packets per packet; the first (bytes mod packets) packets carry one byte more.
    const uint64_t size = r.bytes / r.packets + (a.next < r.bytes % r.packets ? 1 : 0);
    const bool v6 = r.tuple.source.is_v6;
    const uint64_t ip = v6 ? kIpv6HeaderSize : kIpv4HeaderSize;
    uint64_t l4 = kIcmpHeaderSize;
    if (r.tuple.protocol == kProtocolTcp) l4 = kTcpHeaderSize;
    if (r.tuple.protocol == kProtocolUdp) l4 = kUdpHeaderSize;
    const uint64_t payload = size > ip + l4 ? size - ip - l4 : 0;
    TracePacket p;
    p.tuple = r.tuple;
    p.payload_size = static_cast<uint32_t>(std::min<uint64_t>(payload, max_super_packet_payload(v6, static_cast<uint32_t>(l4))));
    p.tcp.seq = a.seq;
    p.tcp.ack = 1;
    p.tcp.flags = static_cast<uint8_t>(tcp_flags::kAck | (p.payload_size ? tcp_flags::kPsh : 0));
    p.tcp.window = 0xFFFF;
    p.icmp.sequence = static_cast<uint16_t>(a.next);
    p.at = kernel_.now();
    a.seq += p.payload_size;
    emit(p);
  }

  std::ifstream in_;
  std::string line_;
  std::string bad_message_;
  uint64_t line_number_ = 0;
  bool seen_record_line_ = false;
  ActiveRecord lookahead_;
  bool has_lookahead_ = false;
  uint64_t order_ = 0;
  std::priority_queue<ActiveRecord, std::vector<ActiveRecord>, LaterFirst> active_;
};

}  // namespace

std::unique_ptr<ReplaySource> create_flow_log_replay(sim::Kernel& kernel, VmTable& vms, PacketPool& pool,
                                                     ReplayFlows& flows, const ReplayParams& params,
                                                     std::string& error) {
  auto replay = std::make_unique<FlowLogReplay>(kernel, vms, pool, flows, params);
  if (!replay->open(error)) return nullptr;
  return replay;
}

}  // namespace models::traffic
