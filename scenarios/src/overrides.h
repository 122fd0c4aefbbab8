#pragma once
// --set path.to.key=value: edits of the YAML tree made before validation (internal).
//
// The path is a dotted list of map keys and list indices ("traffic.0.load"); the value is
// parsed as YAML, so "0.5", "10Gbps", "[web, app]" and "{kind: star}" all work. Map keys that
// do not exist yet are created (validation then reports them if the schema has no such key,
// naming the override); list indices must exist. Nodes written by an override carry no source
// mark, which is how diagnostics about them are attributed to the override.

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "scenarios/diagnostics.h"
#include "yaml_reader.h"

namespace scenarios::detail {

// Applies each override in order. Returns the origins (for LoadContext); reports malformed
// overrides and paths that cannot be followed (an index out of range, a key under a scalar).
std::vector<OverrideOrigin> apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides,
                                            Diagnostics& diagnostics);

}  // namespace scenarios::detail
