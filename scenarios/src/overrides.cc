#include "overrides.h"

namespace scenarios::detail {
namespace {

// A deep copy built node by node: such nodes have no mark, unlike the parsed value.
YAML::Node copy_without_marks(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return YAML::Node(node.Scalar());
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const YAML::Node& element : node) out.push_back(copy_without_marks(element));
      return out;
    }
    case YAML::NodeType::Map: {
      YAML::Node out(YAML::NodeType::Map);
      for (auto it = node.begin(); it != node.end(); ++it) {
        out[it->first.Scalar()] = copy_without_marks(it->second);
      }
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
  }
  return YAML::Node(YAML::NodeType::Null);
}

bool has_only_scalar_keys(const YAML::Node& node) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar() || !has_only_scalar_keys(it->second)) return false;
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& element : node) {
      if (!has_only_scalar_keys(element)) return false;
    }
  }
  return true;
}

std::optional<size_t> parse_index(const std::string& segment) {
  if (segment.empty() || segment.size() > 9) return std::nullopt;
  size_t value = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

std::vector<std::string> split_segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

class OverrideApplier {
 public:
  OverrideApplier(Diagnostics& diagnostics, const std::string& text) : diagnostics_(diagnostics), text_(text) {}

  void error(const std::string& field, const std::string& message) {
    diagnostics_.error({"--set " + text_, 0, 0}, field, message);
  }

  // Writes `value` at `segments` under `root`; false (with a diagnostic) if the path cannot be followed.
  bool apply(YAML::Node& root, const std::vector<std::string>& segments, const YAML::Node& value) {
    if (!root.IsMap()) {
      if (!root.IsNull()) {
        error("", "the scenario document is not a map");
        return false;
      }
      root = YAML::Node(YAML::NodeType::Map);
    }
    YAML::Node current = root;
    std::string path;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& segment = segments[i];
      const bool last = i + 1 == segments.size();
      const std::string parent = path;
      path = join_path(path, segment);
      if (current.IsSequence()) {
        const auto index = parse_index(segment);
        if (!index) {
          error(path, "'" + segment + "' is not a list index (" + (parent.empty() ? "the document" : parent) +
                          " is a list of " + std::to_string(current.size()) + " entries)");
          return false;
        }
        if (*index >= current.size()) {
          error(path, "index " + segment + " is out of range (" + parent + " has " + std::to_string(current.size()) +
                          " entries)");
          return false;
        }
        if (last) {
          current[*index] = value;
          return true;
        }
        YAML::Node child = current[*index];
        current.reset(child);
        continue;
      }
      if (!current.IsMap()) {
        error(path, "cannot set '" + segment + "' inside " + parent + ", which is " + describe_node(current) +
                        ", not a map or list");
        return false;
      }
      if (last) {
        current[segment] = value;
        return true;
      }
      if (!current[segment] || current[segment].IsNull()) current[segment] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child = current[segment];
      current.reset(child);
    }
    return true;
  }

 private:
  Diagnostics& diagnostics_;
  const std::string& text_;
};

}  // namespace

std::vector<OverrideOrigin> apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides,
                                            Diagnostics& diagnostics) {
  std::vector<OverrideOrigin> origins;
  for (const std::string& text : overrides) {
    OverrideApplier applier(diagnostics, text);
    const size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0) {
      applier.error("", "expected path.to.key=value, e.g. --set traffic.0.load=0.5");
      continue;
    }
    const std::string path = text.substr(0, equals);
    const std::vector<std::string> segments = split_segments(path);
    bool empty_segment = false;
    for (const std::string& s : segments) empty_segment = empty_segment || s.empty();
    if (empty_segment) {
      applier.error(path, "empty path segment (expected keys and list indices separated by single dots)");
      continue;
    }
    const std::string value_text = text.substr(equals + 1);
    YAML::Node parsed;
    try {
      parsed = YAML::Load(value_text);
    } catch (const YAML::Exception& e) {
      applier.error(path, "the value is not valid YAML: " + e.msg);
      continue;
    }
    if (!has_only_scalar_keys(parsed)) {
      applier.error(path, "the value has a map key that is not a plain name");
      continue;
    }
    if (applier.apply(root, segments, copy_without_marks(parsed))) origins.push_back({text, segments});
  }
  return origins;
}

}  // namespace scenarios::detail
