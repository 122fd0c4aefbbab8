#pragma once
// ClassBench filter sets and header traces (format: ../shared/data/classbench/SOURCE.md).
//
// A filter-set line: "@src/len<TAB>dst/len<TAB>lo : hi<TAB>lo : hi<TAB>0xPP/0xMM<TAB>0xVVVV/0xMMMM".
// The protocol mask is 0xFF (exact) or 0x00 (any); the flags field is checked for form and then
// ignored. A trace line: at least five unsigned decimals (source, destination as 32-bit integers,
// source port, destination port, protocol); later columns are ignored. Errors name
// file:line:field and nothing is returned half-parsed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/forest_rule_table.h"
#include "classifier/match_box.h"

namespace dfw::classifier::classbench {

struct Rule {
  uint32_t source = 0;
  uint8_t source_length = 0;
  uint32_t destination = 0;
  uint8_t destination_length = 0;
  uint16_t source_port_first = 0, source_port_last = 65535;
  uint16_t destination_port_first = 0, destination_port_last = 65535;
  uint8_t protocol = 0;
  bool protocol_any = true;
};

struct Header {
  uint32_t source = 0;
  uint32_t destination = 0;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  uint8_t protocol = 0;
};

// `file_name` only labels errors. False and `error` set on the first bad line.
bool parse_rules(std::string_view text, const std::string& file_name, std::vector<Rule>& out, std::string& error);
bool parse_trace(std::string_view text, const std::string& file_name, std::vector<Header>& out, std::string& error);

// Whole-file variants. False with `error` naming the file if it cannot be read.
bool read_file(const std::string& path, std::string& text, std::string& error);

bool rule_matches(const Rule& rule, const Header& header);  // the ClassBench semantics, directly
MatchBox box_of(const Rule& rule);
PointKey point_of(const Header& header);  // an IPv4 packet, direction ingress

// A table whose rule i is ClassBench line i+1 (CompiledRule::id = i).
ForestRuleTablePtr compile(const std::vector<Rule>& rules, const ForestLimits& limits = {});

}  // namespace dfw::classifier::classbench
