#pragma once
// segsim-dfw bench (bench_command.cc) and its traffic/rule generators (bench_traffic.cc).

#include <cstdint>
#include <vector>

#include "dfw/rules.h"

namespace dfw::tools {

// bench [--mode established|new|all] [--connections N] [--rules N,N] [--packets N] [--batch N]
//       [--seed S] [--json]
int run_bench_command(int argc, char** argv);

// A 64-byte Ethernet/IPv4/UDP frame from 10.x.y.z to 10.x.y.z with ports derived from `flow`
// (distinct flows give distinct 5-tuples for flow < 2^32). Writes kBenchFrameSize bytes.
inline constexpr uint32_t kBenchFrameSize = 64;
void write_bench_frame(uint32_t flow, uint8_t* frame);

// `count` random rules over 10.0.0.0/8 (prefixes /8../32, port ranges, TCP/UDP/any), about 90%
// allow, default allow: a policy where most new flows are classified deep and then admitted.
RuleSetSpec generate_bench_rules(uint32_t count, uint64_t seed);

}  // namespace dfw::tools
