#pragma once
// Reading a flow-size CDF table (internal): one "<size_bytes> <cumulative>" pair per line,
// blank lines and lines starting with '#' ignored. Cumulative values are percent when the last
// one is 100 and probabilities when it is 1; they are returned as probabilities.

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "scenarios/scenario.h"
#include "yaml_reader.h"

namespace scenarios::detail {

// `reference` and `field` locate the scenario key naming the file, for "cannot read" messages;
// problems inside the table are reported at the table's own file:line.
std::optional<std::vector<CdfPoint>> read_flow_size_cdf(LoadContext& ctx, const std::filesystem::path& path,
                                                        const YAML::Node& reference, std::string_view field);

}  // namespace scenarios::detail
