// failures: failures drawn at random during the run (docs/failures.md). Timeline failures are
// actions of the timeline section; this section adds the seeded MTBF/MTTR process.
//
//   failures:
//     random:
//       - {component: host, mtbf: 2s, mttr: 500ms, targets: [h1, h2], restart_after: 100ms}
//       - {component: link, mtbf: 1s, mttr: 100ms}       # every link

#include <algorithm>

#include "sections.h"

namespace scenarios::detail {
namespace {

void read_random_entry(LoadContext& ctx, const YAML::Node& node, const std::string& path, const NameIndex& index,
                       Scenario& s) {
  MapReader r(ctx, node, path, "a random failure {component, mtbf, mttr, targets, restart_after}");
  if (!r.is_map()) return;
  r.check_keys({"component", "mtbf", "mttr", "targets", "restart_after"});
  RandomFailureSpec spec;
  spec.line = LoadContext::line_of(node);
  const bool component_ok = r.read_choice("component", spec.component, {"host", "link", "switch"}, Need::required);
  bool ok = component_ok;
  ok = r.read_duration("mtbf", spec.mtbf, Need::required, ZeroIs::rejected) && ok;
  ok = r.read_duration("mttr", spec.mttr, Need::required, ZeroIs::rejected) && ok;
  if (r.has("restart_after")) {
    ok = r.read_duration("restart_after", spec.restart_after, ZeroIs::rejected) && ok;
    if (component_ok && spec.component != "host") {
      ctx.error(*r.find_key_node("restart_after"), r.field("restart_after"),
                "restart_after applies to component: host only (HA restarts the VMs of a crashed host)");
      ok = false;
    }
  }
  if (const YAML::Node* targets = r.find("targets")) {
    const std::string targets_path = r.field("targets");
    if (!targets->IsSequence() || targets->size() == 0) {
      ctx.error(*targets, targets_path,
                "expected a non-empty list of names (omit targets for every " +
                    (component_ok ? spec.component : std::string("component")) + "), got " + describe_node(*targets));
      ok = false;
    } else if (component_ok) {
      for (size_t i = 0; i < targets->size(); ++i) {
        const YAML::Node& item = (*targets)[i];
        const std::string item_path = join_path(targets_path, i);
        auto name = read_scalar(ctx, item, item_path, "a name");
        if (!name) {
          ok = false;
          continue;
        }
        if (spec.component == "host") {
          ok = check_reference(ctx, item, item_path, *name, index.host_names, "host") && ok;
        } else if (spec.component == "switch") {
          ok = check_reference(ctx, item, item_path, *name, index.layout.switches, "switch") && ok;
        } else if (const FabricLink* link = index.layout.find_link(*name)) {
          *name = link->name;  // canonical, as in the timeline
        } else {
          ok = check_reference(ctx, item, item_path, *name, index.link_names, "link") && ok;
        }
        if (std::find(spec.targets.begin(), spec.targets.end(), *name) != spec.targets.end()) {
          ctx.error(item, item_path, "'" + *name + "' is listed twice");
          ok = false;
        }
        spec.targets.push_back(*name);
      }
    }
  }
  if (ok) s.failures.random.push_back(std::move(spec));
}

}  // namespace

void read_failures(LoadContext& ctx, const YAML::Node& node, Scenario& s, const NameIndex& index) {
  MapReader r(ctx, node, "failures", "a map {random: [...]}");
  if (!r.is_map()) return;
  r.check_keys({"random"});
  const YAML::Node* random = r.find("random");
  if (!random) return;
  const std::string path = r.field("random");
  if (!random->IsSequence()) {
    ctx.error(*random, path, "expected a list of {component, mtbf, mttr, targets}, got " + describe_node(*random));
    return;
  }
  for (size_t i = 0; i < random->size(); ++i) read_random_entry(ctx, (*random)[i], join_path(path, i), index, s);
}

}  // namespace scenarios::detail
