#include "yaml_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "suggest.h"

namespace scenarios::detail {
namespace {

YAML::Mark mark_of(const YAML::Node& node) {
  // Mark() throws on an invalid (zombie) node; such nodes have no position.
  try {
    return node.Mark();
  } catch (const YAML::Exception&) {
    return YAML::Mark::null_mark();
  }
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const size_t end = dot == std::string_view::npos ? path.size() : dot;
    out.emplace_back(path.substr(start, end - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

// True when one path is a prefix of the other, segment by segment.
bool paths_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool is_name_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

constexpr size_t kMaxNameLength = 64;

bool is_valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!is_name_char(s[i], i == 0)) return false;
  }
  return true;
}

bool is_valid_label_key(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_name_char(s[0], true)) return false;
  for (char c : s) {
    if (!is_name_char(c, false) && c != '/') return false;
  }
  return true;
}

bool is_valid_label_value(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!is_name_char(c, false)) return false;
  }
  return true;
}

}  // namespace

LoadContext::LoadContext(Diagnostics& diagnostics, std::string file, std::filesystem::path base_directory,
                         std::vector<OverrideOrigin> overrides)
    : diagnostics_(diagnostics),
      file_(std::move(file)),
      base_directory_(std::move(base_directory)),
      overrides_(std::move(overrides)) {}

SourceLocation LoadContext::locate(const YAML::Node& node, std::string_view path) const {
  const YAML::Mark mark = mark_of(node);
  if (!mark.is_null()) return {file_, mark.line + 1, mark.column + 1};
  // Nodes without a mark were written by a --set override; the latest one covering the path wins.
  const std::vector<std::string> segments = split_path(path);
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    if (paths_overlap(it->segments, segments)) return {"--set " + it->text, 0, 0};
  }
  return {file_, 0, 0};
}

void LoadContext::error(const YAML::Node& node, std::string_view path, std::string message) {
  diagnostics_.error(locate(node, path), std::string(path), std::move(message));
}

void LoadContext::warning(const YAML::Node& node, std::string_view path, std::string message) {
  diagnostics_.warning(locate(node, path), std::string(path), std::move(message));
}

std::filesystem::path LoadContext::resolve(const std::string& path) const {
  const std::filesystem::path p(path);
  if (p.is_absolute()) return p;
  return (base_directory_ / p).lexically_normal();
}

int LoadContext::line_of(const YAML::Node& node) {
  const YAML::Mark mark = mark_of(node);
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string join_path(std::string_view parent, size_t index) { return join_path(parent, std::to_string(index)); }

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

bool is_absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

std::optional<std::string> read_scalar(LoadContext& ctx, const YAML::Node& node, std::string_view path,
                                       std::string_view what) {
  if (!node.IsScalar()) {
    ctx.error(node, path, "expected " + std::string(what) + ", got " + describe_node(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<uint64_t> read_unsigned(LoadContext& ctx, const YAML::Node& node, std::string_view path,
                                      uint64_t min, uint64_t max) {
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const auto text = read_scalar(ctx, node, path, range);
  if (!text) return std::nullopt;
  uint64_t value = 0;
  bool valid = !text->empty() && text->size() <= 20;
  for (char c : *text) {
    if (c < '0' || c > '9') {
      valid = false;
      break;
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      valid = false;
      break;
    }
    value = value * 10 + digit;
  }
  if (!valid || value < min || value > max) {
    ctx.error(node, path, "'" + *text + "' is out of range or not an integer (expected " + range + ")");
    return std::nullopt;
  }
  return value;
}

std::optional<double> read_number(LoadContext& ctx, const YAML::Node& node, std::string_view path, double min,
                                  double max, bool min_exclusive) {
  char range[128];
  std::snprintf(range, sizeof range, "a number %s %g and <= %g", min_exclusive ? ">" : ">=", min, max);
  const auto text = read_scalar(ctx, node, path, range);
  if (!text) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = text->empty() ? NAN : std::strtod(text->c_str(), &end);
  const bool parsed = !text->empty() && end == text->c_str() + text->size() && errno == 0 && std::isfinite(value);
  const bool in_range = parsed && (min_exclusive ? value > min : value >= min) && value <= max;
  if (!in_range) {
    ctx.error(node, path, "'" + *text + "' is " + (parsed ? "out of range" : "not a number") + " (expected " + range + ")");
    return std::nullopt;
  }
  return value;
}

std::optional<sim::Time> read_duration(LoadContext& ctx, const YAML::Node& node, std::string_view path, ZeroIs zero) {
  const auto text = read_scalar(ctx, node, path, "a duration with a unit, e.g. 5us");
  if (!text) return std::nullopt;
  auto parsed = parse_duration(*text, zero);
  if (!parsed) ctx.error(node, path, parsed.error);
  return parsed.value;
}

std::optional<std::string> read_name(LoadContext& ctx, const YAML::Node& node, std::string_view path) {
  const auto text = read_scalar(ctx, node, path, "a name");
  if (!text) return std::nullopt;
  if (!is_valid_name(*text)) {
    ctx.error(node, path,
              "invalid name '" + *text + "' (expected letters, digits, '_', '.', '-', starting with a letter or digit, at most " +
                  std::to_string(kMaxNameLength) + " characters)");
    return std::nullopt;
  }
  return text;
}

std::map<std::string, std::string> read_labels(LoadContext& ctx, const YAML::Node& node, std::string_view path) {
  std::map<std::string, std::string> labels;
  MapReader reader(ctx, node, std::string(path), "a map of labels, e.g. {role: web, env: prod}");
  for (const std::string& key : reader.keys()) {
    const std::string field = reader.field(key);
    if (!is_valid_label_key(key)) {
      ctx.error(*reader.find_key_node(key), field,
                "invalid label key '" + key + "' (expected letters, digits, '_', '.', '-', '/', at most 63 characters)");
      continue;
    }
    const YAML::Node* value = reader.find(key);
    if (value == nullptr) {
      ctx.error(*reader.find_key_node(key), field, "label '" + key + "' has no value (expected e.g. " + key + ": web)");
      continue;
    }
    const auto text = read_scalar(ctx, *value, field, "a label value");
    if (!text) continue;
    if (!is_valid_label_value(*text)) {
      ctx.error(*value, field, "invalid label value '" + *text + "' (expected letters, digits, '_', '.', '-', at most 63 characters)");
      continue;
    }
    labels[key] = *text;
  }
  return labels;
}

MapReader::MapReader(LoadContext& ctx, const YAML::Node& node, std::string path, std::string_view what)
    : ctx_(ctx), node_(node), path_(std::move(path)) {
  if (!node.IsMap()) {
    ctx.error(node, path_, "expected " + std::string(what) + ", got " + describe_node(node));
    return;
  }
  is_map_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
    if (!key.IsScalar()) {
      ctx.error(key, path_, "map keys must be plain names, got " + describe_node(key));
      continue;
    }
    bool duplicate = false;
    for (const Entry& e : entries_) {
      if (e.key == key.Scalar()) {
        ctx.error(key, field(e.key),
                  "duplicate key '" + e.key + "' (first given at line " + std::to_string(LoadContext::line_of(e.key_node)) + ")");
        duplicate = true;
      }
    }
    if (!duplicate) entries_.push_back({key.Scalar(), key, it->second});
  }
}

void MapReader::check_keys(const std::vector<std::string>& allowed, std::string_view context) {
  for (const Entry& e : entries_) {
    bool known = false;
    for (const std::string& a : allowed) known = known || a == e.key;
    if (!known) {
      ctx_.error(e.key_node, field(e.key), "unknown key '" + e.key + "'" + std::string(context) + suggestion_suffix(e.key, allowed));
    }
  }
}

const YAML::Node* MapReader::find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return is_absent(e.value) ? nullptr : &e.value;
  }
  return nullptr;
}

const YAML::Node* MapReader::find_key_node(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e.key_node;
  }
  return nullptr;
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.key);
  return out;
}

const YAML::Node* MapReader::require(std::string_view key, std::string_view expected) {
  const YAML::Node* value = find(key);
  if (value == nullptr && is_map_) {
    const YAML::Node* key_node = find_key_node(key);
    ctx_.error(key_node ? *key_node : node_, field(key),
               std::string(key_node ? "no value given" : "missing required key") + " (expected " + std::string(expected) + ")");
  }
  return value;
}

const YAML::Node* MapReader::scalar_for(std::string_view key, Need need, std::string_view expected) {
  return need == Need::required ? require(key, expected) : find(key);
}

bool MapReader::read_string(std::string_view key, std::string& out, Need need) {
  const YAML::Node* node = scalar_for(key, need, "a string");
  if (!node) return false;
  auto text = read_scalar(ctx_, *node, field(key), "a string");
  if (!text) return false;
  out = std::move(*text);
  return true;
}

bool MapReader::read_name(std::string_view key, std::string& out, Need need) {
  const YAML::Node* node = scalar_for(key, need, "a name");
  if (!node) return false;
  auto text = detail::read_name(ctx_, *node, field(key));
  if (!text) return false;
  out = std::move(*text);
  return true;
}

bool MapReader::read_choice(std::string_view key, std::string& out, const std::vector<std::string>& choices, Need need) {
  std::string expected = "one of ";
  for (size_t i = 0; i < choices.size(); ++i) expected += (i ? ", " : "") + choices[i];
  const YAML::Node* node = scalar_for(key, need, expected);
  if (!node) return false;
  const auto text = read_scalar(ctx_, *node, field(key), expected);
  if (!text) return false;
  for (const std::string& c : choices) {
    if (c == *text) {
      out = c;
      return true;
    }
  }
  const std::string best = closest_match(*text, choices);
  ctx_.error(*node, field(key),
             "invalid value '" + *text + "' (expected " + expected + (best.empty() ? "" : "; did you mean '" + best + "'?") + ")");
  return false;
}

bool MapReader::read_duration(std::string_view key, sim::Time& out, Need need, ZeroIs zero) {
  const YAML::Node* node = scalar_for(key, need, "a duration with a unit, e.g. 5us");
  if (!node) return false;
  const auto value = detail::read_duration(ctx_, *node, field(key), zero);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::read_duration(std::string_view key, std::optional<sim::Time>& out, ZeroIs zero) {
  sim::Time value;
  if (!read_duration(key, value, Need::optional, zero)) return false;
  out = value;
  return true;
}

bool MapReader::read_data_rate(std::string_view key, sim::DataRate& out, Need need) {
  const YAML::Node* node = scalar_for(key, need, "a data rate with a unit, e.g. 10Gbps");
  if (!node) return false;
  const auto text = read_scalar(ctx_, *node, field(key), "a data rate with a unit, e.g. 10Gbps");
  if (!text) return false;
  const auto parsed = parse_data_rate(*text);
  if (!parsed) {
    ctx_.error(*node, field(key), parsed.error);
    return false;
  }
  out = *parsed.value;
  return true;
}

bool MapReader::read_size(std::string_view key, sim::Bytes& out, Need need, ZeroIs zero) {
  const YAML::Node* node = scalar_for(key, need, "a size with a unit, e.g. 64KiB");
  if (!node) return false;
  const auto text = read_scalar(ctx_, *node, field(key), "a size with a unit, e.g. 64KiB");
  if (!text) return false;
  const auto parsed = parse_size(*text, zero);
  if (!parsed) {
    ctx_.error(*node, field(key), parsed.error);
    return false;
  }
  out = *parsed.value;
  return true;
}

bool MapReader::read_size(std::string_view key, std::optional<sim::Bytes>& out, ZeroIs zero) {
  sim::Bytes value;
  if (!read_size(key, value, Need::optional, zero)) return false;
  out = value;
  return true;
}

bool MapReader::read_frequency(std::string_view key, uint64_t& out, Need need) {
  const YAML::Node* node = scalar_for(key, need, "a frequency with a unit, e.g. 2.6GHz");
  if (!node) return false;
  const auto text = read_scalar(ctx_, *node, field(key), "a frequency with a unit, e.g. 2.6GHz");
  if (!text) return false;
  const auto parsed = parse_frequency(*text);
  if (!parsed) {
    ctx_.error(*node, field(key), parsed.error);
    return false;
  }
  out = *parsed.value;
  return true;
}

bool MapReader::read_unsigned(std::string_view key, uint64_t& out, Need need, uint64_t min, uint64_t max) {
  const YAML::Node* node = scalar_for(key, need, "an integer");
  if (!node) return false;
  const auto value = detail::read_unsigned(ctx_, *node, field(key), min, max);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::read_number(std::string_view key, double& out, Need need, double min, double max, bool min_exclusive) {
  const YAML::Node* node = scalar_for(key, need, "a number");
  if (!node) return false;
  const auto value = detail::read_number(ctx_, *node, field(key), min, max, min_exclusive);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::read_bool(std::string_view key, bool& out) {
  const YAML::Node* node = find(key);
  if (!node) return false;
  const auto text = read_scalar(ctx_, *node, field(key), "true or false");
  if (!text) return false;
  if (*text == "true" || *text == "false") {
    out = *text == "true";
    return true;
  }
  ctx_.error(*node, field(key), "invalid value '" + *text + "' (expected true or false)");
  return false;
}

bool MapReader::read_string_list(std::string_view key, std::vector<std::string>& out, Need need) {
  const YAML::Node* node = scalar_for(key, need, "a list");
  if (!node) return false;
  if (!node->IsSequence()) {
    ctx_.error(*node, field(key), "expected a list, e.g. [a, b], got " + describe_node(*node));
    return false;
  }
  bool ok = true;
  std::vector<std::string> values;
  for (size_t i = 0; i < node->size(); ++i) {
    const auto text = read_scalar(ctx_, (*node)[i], join_path(field(key), i), "a string");
    if (text) values.push_back(*text);
    ok = ok && text.has_value();
  }
  if (ok) out = std::move(values);
  return ok;
}

bool MapReader::read_labels(std::string_view key, std::map<std::string, std::string>& out) {
  const YAML::Node* node = find(key);
  if (!node) return false;
  out = detail::read_labels(ctx_, *node, field(key));
  return true;
}

}  // namespace scenarios::detail
