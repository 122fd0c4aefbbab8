#pragma once
// The workload inventory the dfw-controller daemon reads (--workloads FILE): which workloads
// exist, their addresses, labels and hosts. YAML (docs/control-plane.md):
//
//   workloads:
//     - id: 1                      # the dfw port id, unique
//       name: web-1
//       host: h1
//       addresses: [10.0.0.1]      # 1..8 IPv4/IPv6 host addresses
//       labels: {role: web, app: shop}
//       processes:                 # optional, for process-level segmentation
//         - {name: nginx, labels: {service: http}, listening_ports: [tcp/80]}
//
// Every problem is reported as "file:line:column: field: message". Label keys are checked
// against the policy by the controller, not here.

#include <string>
#include <vector>

#include "controller/policy.h"

namespace daemons {

struct InventoryLoadResult {
  std::vector<controller::Workload> workloads;
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

InventoryLoadResult load_inventory_file(const std::string& path);
InventoryLoadResult load_inventory_text(const std::string& text, const std::string& file_name);

}  // namespace daemons
