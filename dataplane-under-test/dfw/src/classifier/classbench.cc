#include "classifier/classbench.h"

#include <charconv>
#include <cstdio>

namespace dfw::classifier::classbench {

namespace {

// Walks one line, field by field, recording the first problem.
class LineReader {
 public:
  LineReader(std::string_view line, const std::string& file, std::size_t line_number)
      : rest_(line), file_(file), line_number_(line_number) {}

  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

  void skip_blanks() {
    while (!rest_.empty() && (rest_.front() == ' ' || rest_.front() == '\t' || rest_.front() == '\r')) {
      rest_.remove_prefix(1);
    }
  }
  bool at_end() {
    skip_blanks();
    return rest_.empty();
  }
  bool literal(char c, const char* field) {
    skip_blanks();
    if (rest_.empty() || rest_.front() != c) return fail(field, std::string("expected '") + c + "'");
    rest_.remove_prefix(1);
    return true;
  }
  template <typename T>
  bool number(T& out, uint64_t max, const char* field, int base = 10) {
    if (failed()) return false;
    skip_blanks();
    if (base == 16) {
      if (rest_.size() < 2 || rest_[0] != '0' || (rest_[1] != 'x' && rest_[1] != 'X')) {
        return fail(field, "expected a 0x hexadecimal number");
      }
      rest_.remove_prefix(2);
    }
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(rest_.data(), rest_.data() + rest_.size(), value, base);
    if (ec != std::errc() || value > max) {
      return fail(field, ec == std::errc() ? "value out of range (max " + std::to_string(max) + ")"
                                           : std::string("expected a number"));
    }
    rest_.remove_prefix(static_cast<std::size_t>(end - rest_.data()));
    out = static_cast<T>(value);
    return true;
  }
  bool address(uint32_t& out, const char* field) {
    if (failed()) return false;
    skip_blanks();
    uint32_t octets[4] = {};
    for (int i = 0; i < 4; ++i) {
      if (i > 0 && (rest_.empty() || rest_.front() != '.')) return fail(field, "expected a dotted IPv4 address");
      if (i > 0) rest_.remove_prefix(1);
      if (rest_.empty() || rest_.front() < '0' || rest_.front() > '9') return fail(field, "expected a dotted IPv4 address");
      if (!number(octets[i], 255, field)) return false;
    }
    out = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3];
    return true;
  }
  bool fail(const char* field, const std::string& what) {
    if (error_.empty()) error_ = file_ + ":" + std::to_string(line_number_) + ":" + field + ": " + what;
    return false;
  }

 private:
  std::string_view rest_;
  const std::string& file_;
  std::size_t line_number_;
  std::string error_;
};

template <typename Fn>
bool for_each_line(std::string_view text, Fn&& fn) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    ++line_number;
    if (!fn(line, line_number)) return false;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return true;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

uint32_t prefix_mask(uint8_t length) { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }

}  // namespace

bool parse_rules(std::string_view text, const std::string& file_name, std::vector<Rule>& out, std::string& error) {
  std::vector<Rule> rules;
  const bool ok = for_each_line(text, [&](std::string_view line, std::size_t line_number) {
    if (is_blank(line)) return true;
    LineReader in(line, file_name, line_number);
    Rule rule;
    uint16_t mask = 0, flags = 0, flags_mask = 0;
    in.literal('@', "source");
    in.address(rule.source, "source") && in.literal('/', "source") &&
        in.number(rule.source_length, 32, "source");
    in.address(rule.destination, "destination") && in.literal('/', "destination") &&
        in.number(rule.destination_length, 32, "destination");
    in.number(rule.source_port_first, 65535, "source_ports") && in.literal(':', "source_ports") &&
        in.number(rule.source_port_last, 65535, "source_ports");
    in.number(rule.destination_port_first, 65535, "destination_ports") &&
        in.literal(':', "destination_ports") &&
        in.number(rule.destination_port_last, 65535, "destination_ports");
    in.number(rule.protocol, 255, "protocol", 16) && in.literal('/', "protocol") &&
        in.number(mask, 255, "protocol", 16);
    in.number(flags, 0xffff, "flags", 16) && in.literal('/', "flags") && in.number(flags_mask, 0xffff, "flags", 16);
    if (!in.failed() && !in.at_end()) in.fail("flags", "unexpected text after the last field");
    if (!in.failed() && rule.source_port_first > rule.source_port_last) in.fail("source_ports", "inverted range");
    if (!in.failed() && rule.destination_port_first > rule.destination_port_last) {
      in.fail("destination_ports", "inverted range");
    }
    if (!in.failed() && mask != 0 && mask != 0xff) in.fail("protocol", "mask must be 0x00 or 0xFF");
    if (in.failed()) {
      error = in.error();
      return false;
    }
    rule.protocol_any = mask == 0;
    if (rule.protocol_any) rule.protocol = 0;
    rule.source &= prefix_mask(rule.source_length);
    rule.destination &= prefix_mask(rule.destination_length);
    rules.push_back(rule);
    return true;
  });
  if (!ok) return false;
  out = std::move(rules);
  return true;
}

bool parse_trace(std::string_view text, const std::string& file_name, std::vector<Header>& out, std::string& error) {
  std::vector<Header> headers;
  const bool ok = for_each_line(text, [&](std::string_view line, std::size_t line_number) {
    if (is_blank(line)) return true;
    LineReader in(line, file_name, line_number);
    Header h;
    in.number(h.source, 0xffffffffu, "source");
    in.number(h.destination, 0xffffffffu, "destination");
    in.number(h.source_port, 65535, "source_port");
    in.number(h.destination_port, 65535, "destination_port");
    in.number(h.protocol, 255, "protocol");
    if (in.failed()) {
      error = in.error();
      return false;
    }
    headers.push_back(h);
    return true;
  });
  if (!ok) return false;
  out = std::move(headers);
  return true;
}

bool read_file(const std::string& path, std::string& text, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": cannot open";
    return false;
  }
  text.clear();
  char buffer[1 << 16];
  std::size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, got);
  const bool read_error = std::ferror(file) != 0;
  std::fclose(file);
  if (read_error) {
    error = path + ": read error";
    return false;
  }
  return true;
}

bool rule_matches(const Rule& r, const Header& h) {
  const uint32_t sm = prefix_mask(r.source_length), dm = prefix_mask(r.destination_length);
  return (h.source & sm) == r.source && (h.destination & dm) == r.destination &&
         h.source_port >= r.source_port_first && h.source_port <= r.source_port_last &&
         h.destination_port >= r.destination_port_first && h.destination_port <= r.destination_port_last &&
         (r.protocol_any || h.protocol == r.protocol);
}

namespace {

std::array<uint8_t, 16> mapped(uint32_t v4) {
  std::array<uint8_t, 16> a{};
  a[10] = a[11] = 0xff;
  a[12] = static_cast<uint8_t>(v4 >> 24);
  a[13] = static_cast<uint8_t>(v4 >> 16);
  a[14] = static_cast<uint8_t>(v4 >> 8);
  a[15] = static_cast<uint8_t>(v4);
  return a;
}

}  // namespace

MatchBox box_of(const Rule& r) {
  MatchBox box;
  set_prefix(box, kSource0, mapped(r.source), 96u + r.source_length);
  set_prefix(box, kDestination0, mapped(r.destination), 96u + r.destination_length);
  box.low[kL4Source] = r.source_port_first;
  box.high[kL4Source] = r.source_port_last;
  box.low[kL4Destination] = r.destination_port_first;
  box.high[kL4Destination] = r.destination_port_last;
  if (!r.protocol_any) box.low[kProtocol] = box.high[kProtocol] = r.protocol;
  return box;
}

PointKey point_of(const Header& h) {
  PointKey p;
  set_address(p, kSource0, mapped(h.source));
  set_address(p, kDestination0, mapped(h.destination));
  p.value[kL4Source] = h.source_port;
  p.value[kL4Destination] = h.destination_port;
  p.value[kProtocol] = h.protocol;
  p.value[kDirection] = static_cast<uint32_t>(Direction::kIngress);
  return p;
}

ForestRuleTablePtr compile(const std::vector<Rule>& rules, const ForestLimits& limits) {
  ForestRuleTable::Contents contents;
  contents.rules.reserve(rules.size());
  contents.boxes.reserve(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    contents.rules.push_back({static_cast<uint32_t>(i), Action::kAllow, false});
    contents.boxes.push_back(box_of(rules[i]));
    contents.rule_of_box.push_back(static_cast<int32_t>(i));
  }
  return std::make_shared<const ForestRuleTable>(std::move(contents), limits);
}

}  // namespace dfw::classifier::classbench
