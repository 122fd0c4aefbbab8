#pragma once
// Reading typed fields out of a yaml-cpp tree while collecting diagnostics (internal).
//
// LoadContext knows which file the nodes came from and turns a node plus its field path into
// a "file:line:column" location; nodes that a --set override put into the tree carry no mark
// and are attributed to that override instead. MapReader walks one YAML map: it reports a
// node that is not a map, duplicate keys and (on check_keys) unknown keys with a "did you mean"
// suggestion, and reads typed values with strict unit parsing. A null value counts as absent.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/diagnostics.h"
#include "scenarios/units_parse.h"

namespace scenarios::detail {

// Where a --set override wrote into the tree, for attributing diagnostics to it.
struct OverrideOrigin {
  std::string text;                   // "traffic.0.load=0.5", as given
  std::vector<std::string> segments;  // {"traffic", "0", "load"}
};

class LoadContext {
 public:
  LoadContext(Diagnostics& diagnostics, std::string file, std::filesystem::path base_directory,
              std::vector<OverrideOrigin> overrides = {});

  SourceLocation locate(const YAML::Node& node, std::string_view path) const;
  void error(const YAML::Node& node, std::string_view path, std::string message);
  void warning(const YAML::Node& node, std::string_view path, std::string message);

  Diagnostics& diagnostics() { return diagnostics_; }
  const std::string& file() const { return file_; }
  // `path` joined to the scenario file's directory, unless it is absolute.
  std::filesystem::path resolve(const std::string& path) const;
  // Line (1-based) of a node, 0 when it has none.
  static int line_of(const YAML::Node& node);

 private:
  Diagnostics& diagnostics_;
  std::string file_;
  std::filesystem::path base_directory_;
  std::vector<OverrideOrigin> overrides_;
};

std::string join_path(std::string_view parent, std::string_view key);
std::string join_path(std::string_view parent, size_t index);
// "a map", "a list", "a value": for "expected X, got Y" messages.
std::string describe_node(const YAML::Node& node);
bool is_absent(const YAML::Node& node);

// The scalar text of `node`, or an error "expected <what>, got a list".
std::optional<std::string> read_scalar(LoadContext& ctx, const YAML::Node& node, std::string_view path,
                                       std::string_view what);
std::optional<uint64_t> read_unsigned(LoadContext& ctx, const YAML::Node& node, std::string_view path,
                                      uint64_t min, uint64_t max);
std::optional<double> read_number(LoadContext& ctx, const YAML::Node& node, std::string_view path, double min,
                                  double max, bool min_exclusive);
std::optional<sim::Time> read_duration(LoadContext& ctx, const YAML::Node& node, std::string_view path, ZeroIs zero);
// A name of a host, VM, switch, group or rule: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters.
std::optional<std::string> read_name(LoadContext& ctx, const YAML::Node& node, std::string_view path);
// A map of label key -> value with label syntax checked.
std::map<std::string, std::string> read_labels(LoadContext& ctx, const YAML::Node& node, std::string_view path);

enum class Need { optional, required };

class MapReader {
 public:
  // `what` names the expected map in the "expected ..." message, e.g. "a link (rate, delay, ...)".
  MapReader(LoadContext& ctx, const YAML::Node& node, std::string path, std::string_view what = "a map");

  bool is_map() const { return is_map_; }
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  LoadContext& context() { return ctx_; }
  std::string field(std::string_view key) const { return join_path(path_, key); }

  // Reports every key not in `allowed` with a suggestion; `context` is added to the message,
  // e.g. " for traffic kind 'pcap'".
  void check_keys(const std::vector<std::string>& allowed, std::string_view context = "");
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The value under `key`; nullptr when the key is absent or its value is null.
  const YAML::Node* find(std::string_view key) const;
  const YAML::Node* find_key_node(std::string_view key) const;
  // Like find, reporting "missing required key" when absent.
  const YAML::Node* require(std::string_view key, std::string_view expected);
  std::vector<std::string> keys() const;

  // Typed readers: leave `out` untouched and return false when absent or invalid.
  bool read_string(std::string_view key, std::string& out, Need need = Need::optional);
  bool read_name(std::string_view key, std::string& out, Need need = Need::optional);
  bool read_choice(std::string_view key, std::string& out, const std::vector<std::string>& choices,
                   Need need = Need::optional);
  bool read_duration(std::string_view key, sim::Time& out, Need need, ZeroIs zero);
  bool read_duration(std::string_view key, std::optional<sim::Time>& out, ZeroIs zero);
  bool read_data_rate(std::string_view key, sim::DataRate& out, Need need = Need::optional);
  bool read_size(std::string_view key, sim::Bytes& out, Need need, ZeroIs zero);
  bool read_size(std::string_view key, std::optional<sim::Bytes>& out, ZeroIs zero);
  bool read_frequency(std::string_view key, uint64_t& out, Need need = Need::optional);
  bool read_unsigned(std::string_view key, uint64_t& out, Need need, uint64_t min, uint64_t max);
  template <class T>
  bool read_unsigned_as(std::string_view key, T& out, Need need, uint64_t min, uint64_t max) {
    uint64_t value = 0;
    if (!read_unsigned(key, value, need, min, max)) return false;
    out = static_cast<T>(value);
    return true;
  }
  bool read_number(std::string_view key, double& out, Need need, double min, double max, bool min_exclusive = false);
  bool read_bool(std::string_view key, bool& out);
  bool read_string_list(std::string_view key, std::vector<std::string>& out, Need need = Need::optional);
  bool read_labels(std::string_view key, std::map<std::string, std::string>& out);

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  const YAML::Node* scalar_for(std::string_view key, Need need, std::string_view expected);

  LoadContext& ctx_;
  YAML::Node node_;
  std::string path_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
};

}  // namespace scenarios::detail
