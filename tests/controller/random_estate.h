#pragma once
// A seeded generator of small random label estates, policies and packets for the controller's
// property tests: labels over the four standard keys plus a custom one, IP lists that overlap the
// estate's addresses, optional processes, and packets between workloads and outside addresses.

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "controller/address.h"
#include "controller/policy.h"
#include "policy_evaluator.h"

namespace controller::testing {

inline const std::vector<std::pair<std::string, std::vector<std::string>>> kLabelValues = {
    {"role", {"web", "api", "db", "cache"}},
    {"app", {"shop", "blog", "crm"}},
    {"env", {"prod", "dev"}},
    {"loc", {"eu", "us"}},
    {"tenant", {"a", "b"}},
};
inline const std::vector<uint16_t> kPorts = {22, 53, 80, 443, 5432, 8050, 8080, 9999};

inline dfw::IpPrefix address(const std::string& text) {
  dfw::IpPrefix p;
  parse_prefix(text, p);  // every literal here is valid
  return p;
}

class Generator {
 public:
  explicit Generator(uint32_t seed, bool with_processes) : rng_(seed), with_processes_(with_processes) {}

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  Labels labels(double density) {
    Labels out;
    for (const auto& [key, values] : kLabelValues) {
      if (chance(density)) out[key] = values[pick(values.size())];
    }
    return out;
  }

  Workload workload(WorkloadId id) {
    Workload w;
    w.id = id;
    w.name = "vm-" + std::to_string(id);
    // A third of the v4 addresses fall into the `corp` list (10.0.1.0/24).
    w.addresses.push_back(address("10.0." + std::to_string(pick(3)) + "." + std::to_string(id)));
    if (chance(0.5)) w.addresses.push_back(address("2001:db8::" + std::to_string(id)));
    w.labels = labels(0.8);
    w.host = "host-" + std::to_string(pick(4));
    if (with_processes_ && chance(0.3)) {
      Process p;
      p.name = "proc";
      for (const auto& [key, values] : kLabelValues) {
        if (!w.labels.contains(key) && chance(0.7)) p.labels[key] = values[pick(values.size())];
      }
      for (int i = 0; i < 2; ++i) {
        p.listening_ports.push_back({chance(0.7) ? dfw::kProtoTcp : dfw::kProtoUdp, kPorts[pick(kPorts.size())]});
      }
      w.processes.push_back(p);
    }
    return w;
  }

  Scope scope() {
    Scope s;
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.08) {
      s.any = true;
    } else if (r < 0.13) {
      // every workload
    } else if (r < 0.25) {
      s.ip_lists.push_back(chance(0.5) ? "corp" : (chance(0.5) ? "ext" : "v6net"));
      if (chance(0.4)) s.labels = labels(0.4);
    } else {
      s.labels = labels(0.35);
      if (s.labels.empty()) s.labels["role"] = kLabelValues[0].second[pick(4)];
    }
    return s;
  }

  Service service() {
    static const std::vector<Service> kServices = {
        {dfw::kProtoTcp, 80, 80, -1},        {dfw::kProtoTcp, 8000, 8100, -1}, {dfw::kProtoUdp, 53, 53, -1},
        {dfw::kProtoIcmp, 0, 65535, -1},     {dfw::kProtoIcmp, 0, 65535, 8},   {dfw::kProtoTcp, 5432, 5432, -1},
        {dfw::kProtoAny, 0, 65535, -1},      {dfw::kProtoUdp, 0, 65535, -1},   {dfw::kProtoIcmpv6, 0, 65535, 128},
    };
    return kServices[pick(kServices.size())];
  }

  Policy policy(std::size_t rule_count) {
    Policy p;
    p.custom_labels = {"tenant"};
    p.ip_lists["corp"] = {address("10.0.1.0/24")};
    p.ip_lists["ext"] = {address("192.0.2.0/24"), address("2001:db8:ffff::/48")};
    p.ip_lists["v6net"] = {address("2001:db8::/123")};
    p.default_action = chance(0.5) ? dfw::Action::kDrop : dfw::Action::kAllow;
    for (std::size_t i = 0; i < rule_count; ++i) {
      Rule r;
      r.name = "r" + std::to_string(i);
      r.category = static_cast<Category>(pick(kCategoryCount));
      r.from = scope();
      r.to = scope();
      std::size_t services = pick(3);
      for (std::size_t j = 0; j < services; ++j) r.services.push_back(service());
      r.action = static_cast<dfw::Action>(pick(3));
      r.log = chance(0.2);
      p.rules.push_back(r);
    }
    return p;
  }

  dfw::IpPrefix endpoint(const std::vector<Workload>& workloads, bool v6) {
    if (chance(0.8)) {
      for (int attempt = 0; attempt < 20; ++attempt) {
        const Workload& w = workloads[pick(workloads.size())];
        for (const auto& a : w.addresses) {
          if (a.is_v4 != v6) return a;
        }
      }
    }
    static const std::vector<std::string> kV4 = {"192.0.2.7", "203.0.113.9", "10.0.1.250", "10.0.0.251"};
    static const std::vector<std::string> kV6 = {"2001:db8::1f", "2001:db8:ffff::1", "2001:db9::1", "2001:db8::fe"};
    return address(v6 ? kV6[pick(kV6.size())] : kV4[pick(kV4.size())]);
  }

  Packet packet(const std::vector<Workload>& workloads) {
    Packet p;
    bool v6 = chance(0.3);
    p.source = endpoint(workloads, v6);
    p.destination = endpoint(workloads, v6);
    std::size_t kind = pick(3);
    p.protocol = kind == 0 ? dfw::kProtoTcp : kind == 1 ? dfw::kProtoUdp : (v6 ? dfw::kProtoIcmpv6 : dfw::kProtoIcmp);
    if (kind < 2) p.destination_port = kPorts[pick(kPorts.size())];
    else p.icmp_type = chance(0.5) ? 8 : (v6 ? 128 : 0);
    return p;
  }

 private:
  std::mt19937 rng_;
  bool with_processes_;
};

}  // namespace controller::testing
