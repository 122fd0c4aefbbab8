#pragma once
// A synthetic, seeded label estate and policy for the controller benchmark: W workloads with the
// four standard label dimensions and R rules between label scopes, shaped like a datacenter's
// micro-segmentation policy (most rules between tiers of one application in one environment,
// fewer environment-, location- and estate-wide rules).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "controller/policy.h"

namespace controller::bench {

struct EstateShape {
  std::size_t workloads = 10'000;
  std::size_t rules = 1'000;
  std::size_t apps = 100;
  std::size_t roles = 8;   // tiers per application
  std::size_t envs = 4;
  std::size_t locs = 5;
  std::size_t hosts = 500;
  uint32_t seed = 1;
};

inline std::string label_value(const char* prefix, std::size_t i) { return prefix + std::to_string(i); }

inline std::vector<Workload> make_workloads(const EstateShape& shape) {
  std::mt19937_64 rng(shape.seed);
  std::vector<Workload> out;
  out.reserve(shape.workloads);
  for (std::size_t i = 0; i < shape.workloads; ++i) {
    Workload w;
    w.id = static_cast<WorkloadId>(i + 1);
    w.name = "vm-" + std::to_string(i + 1);
    dfw::IpPrefix v4;
    v4.is_v4 = true;
    v4.length = 128;
    v4.address[10] = 0xff;
    v4.address[11] = 0xff;
    v4.address[12] = 10;
    v4.address[13] = static_cast<uint8_t>((i >> 16) & 0xff);
    v4.address[14] = static_cast<uint8_t>((i >> 8) & 0xff);
    v4.address[15] = static_cast<uint8_t>(i & 0xff);
    w.addresses = {v4};
    w.labels = {{"app", label_value("app", rng() % shape.apps)},
                {"role", label_value("role", rng() % shape.roles)},
                {"env", label_value("env", rng() % shape.envs)},
                {"loc", label_value("loc", rng() % shape.locs)}};
    w.host = "host-" + std::to_string(i % shape.hosts);
    out.push_back(std::move(w));
  }
  return out;
}

inline Policy make_policy(const EstateShape& shape) {
  std::mt19937_64 rng(shape.seed * 7919 + 1);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  Policy policy;
  policy.default_action = dfw::Action::kDrop;
  for (std::size_t i = 0; i < shape.rules; ++i) {
    Rule r;
    r.name = "rule-" + std::to_string(i);
    std::size_t kind = pick(100);
    std::string env = label_value("env", pick(shape.envs));
    if (kind < 70) {  // tier to tier inside one application and environment
      std::string app = label_value("app", pick(shape.apps));
      r.from.labels = {{"app", app}, {"role", label_value("role", pick(shape.roles))}, {"env", env}};
      r.to.labels = {{"app", app}, {"role", label_value("role", pick(shape.roles))}, {"env", env}};
    } else if (kind < 85) {  // a role in one environment to a role in the same environment
      r.category = Category::kEnvironment;
      r.from.labels = {{"role", label_value("role", pick(shape.roles))}, {"env", env}};
      r.to.labels = {{"role", label_value("role", pick(shape.roles))}, {"env", env}};
    } else if (kind < 95) {  // location-local services
      r.category = Category::kInfrastructure;
      std::string loc = label_value("loc", pick(shape.locs));
      r.from.labels = {{"loc", loc}, {"app", label_value("app", pick(shape.apps))}};
      r.to.labels = {{"loc", loc}, {"role", label_value("role", pick(shape.roles))}};
    } else {  // estate-wide: one application's tier reaches a whole environment
      r.category = Category::kInfrastructure;
      r.from.labels = {{"app", label_value("app", pick(shape.apps))}, {"role", label_value("role", pick(shape.roles))}};
      r.to.labels = {{"env", env}};
    }
    uint16_t port = static_cast<uint16_t>(1024 + pick(50000));
    r.services = {{dfw::kProtoTcp, port, port, -1}};
    if (pick(4) == 0) r.services.push_back({dfw::kProtoUdp, port, port, -1});
    r.action = pick(10) == 0 ? dfw::Action::kDrop : dfw::Action::kAllow;
    policy.rules.push_back(std::move(r));
  }
  return policy;
}

}  // namespace controller::bench
