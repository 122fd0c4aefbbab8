// segsim-dfw verdicts: pushes a sequence of frames through a real dfw::Datapath with one port and
// prints dfw's verdict for each. The differential test against the Linux kernel firewall
// (tests/dfw/nft_diff) sends the same frames through nftables and compares, packet by packet.
//
// POLICY (text, one statement per line, '#' starts a comment):
//   option tcp_loose on|off
//   default allow|drop|reject
//   rule ID allow|drop|reject [dir in|out|both] [proto tcp|udp|icmp|icmpv6|N]
//        [src PREFIX[,PREFIX...]] [dst PREFIX[,PREFIX...]] [sport A[-B]] [dport A[-B]]
//        [icmp-type T] [icmp-code C] [log]
// Rules are one section, first match wins; `dir out` is the VM's egress.
//
// PACKETS (text, one frame per line, '#' comments):
//   egress|ingress TIME_NS HEX
// TIME_NS is the datapath's `now` (non-decreasing); HEX the whole Ethernet frame.
//
// Output, one line per frame: INDEX allow|drop REASON rule=ID conn=hit|new|- reply=HEX|-
// where reply is the frame a reject generated (TCP RST / ICMP unreachable), in hex.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "dfw/datapath.h"
#include "dfw/rules.h"
#include "platform/platform.h"

namespace dfw::tools {

namespace {

constexpr const char* kUsage =
    "usage: segsim-dfw verdicts --rules POLICY --packets PACKETS\n"
    "  POLICY   text policy: 'option tcp_loose on|off', 'default ACTION',\n"
    "           'rule ID ACTION [dir in|out|both] [proto P] [src CIDRS] [dst CIDRS]\n"
    "            [sport A[-B]] [dport A[-B]] [icmp-type T] [icmp-code C] [log]'\n"
    "  PACKETS  one frame per line: 'egress|ingress TIME_NS HEX'\n"
    "  Prints one line per frame: INDEX allow|drop REASON rule=ID conn=hit|new|- reply=HEX|-\n"
    "  (reply: the frame a reject rule generated, in hex)\n";

constexpr PortId kPort = 1;

// Keeps the frames a reject generates for the packet being processed.
class ReplyRecorder final : public platform::FrameSink {
 public:
  void transmit(uint32_t, bool, const uint8_t* frame, uint32_t size) override {
    replies_.emplace_back(frame, frame + size);
  }
  std::vector<std::vector<uint8_t>>& replies() { return replies_; }

 private:
  std::vector<std::vector<uint8_t>> replies_;
};

// Where an input error happened, for messages of the form FILE:LINE: field: problem.
struct Location {
  const std::string& file;
  int line;
  bool fail(const std::string& field, const std::string& problem) const {
    std::fprintf(stderr, "segsim-dfw verdicts: %s:%d: %s: %s\n", file.c_str(), line, field.c_str(),
                 problem.c_str());
    return false;
  }
};

bool parse_unsigned(const std::string& text, unsigned long max, unsigned long& out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtoul(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0' && out <= max;
}

bool parse_action(const std::string& text, Action& out) {
  if (text == "allow") out = Action::kAllow;
  else if (text == "drop") out = Action::kDrop;
  else if (text == "reject") out = Action::kReject;
  else return false;
  return true;
}

bool parse_port_range(const std::string& text, PortRange& out) {
  const std::size_t dash = text.find('-');
  unsigned long first = 0, last = 0;
  if (!parse_unsigned(text.substr(0, dash), 65535, first)) return false;
  last = first;
  if (dash != std::string::npos && !parse_unsigned(text.substr(dash + 1), 65535, last)) return false;
  out.first = static_cast<uint16_t>(first);
  out.last = static_cast<uint16_t>(last);
  return true;
}

bool parse_prefixes(const std::string& text, std::vector<IpPrefix>& out) {
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    IpPrefix p;
    if (!IpPrefix::parse(item, p)) return false;
    out.push_back(p);
  }
  return !out.empty();
}

bool parse_protocol(const std::string& text, uint8_t& out) {
  if (text == "tcp") out = kProtoTcp;
  else if (text == "udp") out = kProtoUdp;
  else if (text == "icmp") out = kProtoIcmp;
  else if (text == "icmpv6") out = kProtoIcmpv6;
  else {
    unsigned long n = 0;
    if (!parse_unsigned(text, 255, n)) return false;
    out = static_cast<uint8_t>(n);
  }
  return true;
}

// `rule ID ACTION key value ... [log]`; words[0] is "rule".
bool parse_rule(const std::vector<std::string>& words, const Location& at, RuleSpec& rule) {
  unsigned long id = 0;
  if (words.size() < 3) return at.fail("rule", "expected 'rule ID ACTION ...'");
  if (!parse_unsigned(words[1], 0xFFFFFFFFul, id)) return at.fail("rule id", "not a number: " + words[1]);
  rule.id = static_cast<uint32_t>(id);
  if (!parse_action(words[2], rule.action)) return at.fail("action", "expected allow|drop|reject");
  for (std::size_t i = 3; i < words.size(); ++i) {
    const std::string& key = words[i];
    if (key == "log") {
      rule.log = true;
      continue;
    }
    if (i + 1 >= words.size()) return at.fail(key, "needs a value");
    const std::string& value = words[++i];
    unsigned long n = 0;
    if (key == "dir") {
      if (value == "in") rule.direction = RuleDirection::kIn;
      else if (value == "out") rule.direction = RuleDirection::kOut;
      else if (value == "both") rule.direction = RuleDirection::kBoth;
      else return at.fail(key, "expected in|out|both");
    } else if (key == "proto") {
      if (!parse_protocol(value, rule.protocol)) return at.fail(key, "expected tcp|udp|icmp|icmpv6|0-255");
    } else if (key == "src") {
      if (!parse_prefixes(value, rule.sources)) return at.fail(key, "bad prefix list: " + value);
    } else if (key == "dst") {
      if (!parse_prefixes(value, rule.destinations)) return at.fail(key, "bad prefix list: " + value);
    } else if (key == "sport") {
      if (!parse_port_range(value, rule.source_ports)) return at.fail(key, "expected A or A-B");
    } else if (key == "dport") {
      if (!parse_port_range(value, rule.destination_ports)) return at.fail(key, "expected A or A-B");
    } else if (key == "icmp-type") {
      if (!parse_unsigned(value, 255, n)) return at.fail(key, "expected 0-255");
      rule.icmp_type = static_cast<int16_t>(n);
    } else if (key == "icmp-code") {
      if (!parse_unsigned(value, 255, n)) return at.fail(key, "expected 0-255");
      rule.icmp_code = static_cast<int16_t>(n);
    } else {
      return at.fail(key, "unknown rule field");
    }
  }
  return true;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line.substr(0, line.find('#')));
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

bool read_policy(const std::string& path, RuleSetSpec& spec, DatapathConfig& config) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "segsim-dfw verdicts: %s: cannot open\n", path.c_str());
    return false;
  }
  spec.sections.push_back(SectionSpec{"policy", {}});
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const Location at{path, number};
    const std::vector<std::string> words = split_words(line);
    if (words.empty()) continue;
    if (words[0] == "option") {
      if (words.size() != 3 || words[1] != "tcp_loose" || (words[2] != "on" && words[2] != "off")) {
        return at.fail("option", "expected 'option tcp_loose on|off'");
      }
      config.tcp_loose = words[2] == "on";
    } else if (words[0] == "default") {
      if (words.size() != 2 || !parse_action(words[1], spec.default_action)) {
        return at.fail("default", "expected 'default allow|drop|reject'");
      }
    } else if (words[0] == "rule") {
      RuleSpec rule;
      if (!parse_rule(words, at, rule)) return false;
      spec.sections[0].rules.push_back(std::move(rule));
    } else {
      return at.fail(words[0], "unknown statement (option, default, rule)");
    }
  }
  return true;
}

struct Frame {
  Direction direction = Direction::kEgress;
  int64_t now = 0;
  std::vector<uint8_t> bytes;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_packets(const std::string& path, std::vector<Frame>& frames) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "segsim-dfw verdicts: %s: cannot open\n", path.c_str());
    return false;
  }
  std::string line;
  int64_t last_now = 0;
  for (int number = 1; std::getline(in, line); ++number) {
    const Location at{path, number};
    const std::vector<std::string> words = split_words(line);
    if (words.empty()) continue;
    if (words.size() != 3) return at.fail("frame", "expected 'egress|ingress TIME_NS HEX'");
    Frame f;
    if (words[0] == "egress") f.direction = Direction::kEgress;
    else if (words[0] == "ingress") f.direction = Direction::kIngress;
    else return at.fail("direction", "expected egress|ingress");
    unsigned long long now = 0;
    errno = 0;
    char* end = nullptr;
    now = std::strtoull(words[1].c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || words[1][0] == '-' || now > INT64_MAX) {
      return at.fail("time", "expected nanoseconds");
    }
    f.now = static_cast<int64_t>(now);
    if (f.now < last_now) return at.fail("time", "goes backwards");
    last_now = f.now;
    const std::string& hex = words[2];
    if (hex.size() % 2 != 0) return at.fail("hex", "odd number of digits");
    f.bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      const int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
      if (hi < 0 || lo < 0) return at.fail("hex", "not a hex digit at column " + std::to_string(i + 1));
      f.bytes.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    frames.push_back(std::move(f));
  }
  return true;
}

}  // namespace

int run_verdicts_command(int argc, char** argv) {
  std::string rules_path, packets_path;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "segsim-dfw verdicts: %s needs a value\n%s", flag.c_str(), kUsage);
      return 2;
    }
    if (flag == "--rules") {
      rules_path = argv[++i];
    } else if (flag == "--packets") {
      packets_path = argv[++i];
    } else {
      std::fprintf(stderr, "segsim-dfw verdicts: unknown option %s\n%s", flag.c_str(), kUsage);
      return 2;
    }
  }
  if (rules_path.empty() || packets_path.empty()) {
    std::fprintf(stderr, "segsim-dfw verdicts: --rules and --packets are required\n%s", kUsage);
    return 2;
  }

  RuleSetSpec spec;
  DatapathConfig config;
  std::vector<Frame> frames;
  if (!read_policy(rules_path, spec, config) || !read_packets(packets_path, frames)) return 2;
  Status status;
  RuleTablePtr table = compile_rules(spec, status);
  if (!table) {
    std::fprintf(stderr, "segsim-dfw verdicts: %s: %s\n", rules_path.c_str(), status.message().c_str());
    return 2;
  }
  Datapath datapath(config);
  ReplyRecorder recorder;
  datapath.set_frame_sink(&recorder);
  status = datapath.add_port(kPort, table);
  if (!status) {
    std::fprintf(stderr, "segsim-dfw verdicts: add_port: %s\n", status.message().c_str());
    return 2;
  }

  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    datapath.expire(f.now);
    PacketView view;
    view.data = f.bytes.data();
    view.header_size = static_cast<uint32_t>(f.bytes.size());
    view.wire_size = view.header_size;
    recorder.replies().clear();
    const Result r = datapath.process(kPort, f.direction, view, f.now);
    const std::string_view reason = drop_reason_name(r.reason);
    std::printf("%zu %s %.*s rule=%d conn=%s reply=", i,
                r.verdict == Verdict::kAllow ? "allow" : "drop", static_cast<int>(reason.size()),
                reason.data(), r.rule_id,
                r.connection_created ? "new" : (r.connection_hit ? "hit" : "-"));
    if (recorder.replies().empty()) std::fputs("-", stdout);
    for (std::size_t n = 0; n < recorder.replies().size(); ++n) {
      if (n > 0) std::fputs(",", stdout);
      for (const uint8_t byte : recorder.replies()[n]) std::printf("%02x", byte);
    }
    std::fputs("\n", stdout);
  }
  return 0;
}

}  // namespace dfw::tools
