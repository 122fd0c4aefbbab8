#include "scenarios/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "overrides.h"
#include "sections.h"
#include "syntax_field.h"
#include "yaml_reader.h"

namespace scenarios {
namespace {

using detail::LoadContext;
using detail::MapReader;
using detail::Need;

// Top-level keys, in the order they are read (later sections resolve names from earlier ones).
const std::vector<std::string> kRootKeys = {"name",   "description", "duration", "seed",   "topology",
                                            "policy", "transport",   "traffic",  "timeline", "outputs",
                                            "control_plane", "failures"};

std::string file_stem(const std::string& display_name) {
  const std::string stem = std::filesystem::path(display_name).stem().string();
  return stem.empty() ? "scenario" : stem;
}

void read_document(LoadContext& ctx, const YAML::Node& root, Scenario& s) {
  MapReader r(ctx, root, "", "a scenario map with duration, topology, traffic, ...");
  if (!r.is_map()) return;
  r.check_keys(kRootKeys);
  r.read_name("name", s.name);
  r.read_string("description", s.description);
  detail::NameIndex index;
  index.duration_valid = r.read_duration("duration", s.duration, Need::required, ZeroIs::rejected);
  r.read_unsigned("seed", s.seed, Need::optional, 0, UINT64_MAX);

  if (const YAML::Node* topology = r.require("topology", "a map with fabric, hosts and vms")) {
    detail::read_topology(ctx, *topology, s, index);
  }
  if (const YAML::Node* policy = r.find("policy")) detail::read_policy(ctx, *policy, s, index);
  if (const YAML::Node* transport = r.find("transport")) detail::read_transport(ctx, *transport, s);
  if (const YAML::Node* control_plane = r.find("control_plane")) detail::read_control_plane(ctx, *control_plane, s);
  if (const YAML::Node* traffic = r.find("traffic")) detail::read_traffic(ctx, *traffic, s, index);
  if (const YAML::Node* timeline = r.find("timeline")) detail::read_timeline(ctx, *timeline, s, index);
  if (const YAML::Node* failures = r.find("failures")) detail::read_failures(ctx, *failures, s, index);
  if (const YAML::Node* outputs = r.find("outputs")) detail::read_outputs(ctx, *outputs, s, index);
}

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

std::optional<Scenario> load_scenario_text(std::string_view text, const std::string& display_name,
                                           const std::filesystem::path& base_directory,
                                           const std::vector<std::string>& overrides, Diagnostics& diagnostics) {
  const size_t errors_before = diagnostics.error_count();
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::ParserException& e) {
    diagnostics.error({display_name, e.mark.line + 1, e.mark.column + 1}, detail::field_near_line(text, e.mark.line + 1),
                      "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  if (documents.size() > 1) {
    diagnostics.error({display_name, 0, 0}, "", "the file holds " + std::to_string(documents.size()) +
                                                    " YAML documents (expected exactly one scenario)");
    return std::nullopt;
  }
  YAML::Node root = documents.empty() ? YAML::Node() : documents.front();

  Scenario scenario;
  scenario.name = file_stem(display_name);
  scenario.source_path = display_name;
  scenario.source_text = std::string(text);
  try {
    std::vector<detail::OverrideOrigin> origins = detail::apply_overrides(root, overrides, diagnostics);
    if (root.IsNull()) {
      diagnostics.error({display_name, 0, 0}, "", "the scenario is empty (expected a map with duration, topology, ...)");
    } else {
      LoadContext ctx(diagnostics, display_name, base_directory, std::move(origins));
      read_document(ctx, root, scenario);
    }
    scenario.effective_yaml = emit(root);
  } catch (const YAML::Exception& e) {
    // The readers check node types before converting, so this means a loader bug; still a
    // clean error rather than a crash.
    diagnostics.error({display_name, e.mark.line + 1, e.mark.column + 1}, "", std::string("internal error while validating: ") + e.what());
  }
  diagnostics.sort_by_location();
  if (diagnostics.error_count() > errors_before) return std::nullopt;
  return scenario;
}

std::optional<Scenario> load_scenario(const std::filesystem::path& path, const std::vector<std::string>& overrides,
                                      Diagnostics& diagnostics) {
  const std::string display_name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diagnostics.error({display_name, 0, 0}, "", "cannot read scenario: it is a directory (expected a YAML file)");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics.error({display_name, 0, 0}, "", std::string("cannot read scenario: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    diagnostics.error({display_name, 0, 0}, "", "error while reading the scenario file");
    return std::nullopt;
  }
  const std::filesystem::path base = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return load_scenario_text(text.str(), display_name, base, overrides, diagnostics);
}

}  // namespace scenarios
