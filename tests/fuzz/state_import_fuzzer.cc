// libFuzzer target: Datapath::import_port on arbitrary bytes must never crash and never
// half-import: either it succeeds, or the port does not exist and no connection was added.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "dfw/datapath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dfw::DatapathConfig config;
  config.connection_limit = 64;
  dfw::Datapath dp(config);
  const dfw::Status s = dp.import_port(5, std::span<const uint8_t>(data, size), nullptr, 1000);
  if (!s && (dp.has_port(5) || dp.stats().live_connections != 0)) abort();
  if (s && dp.connection_count(5) != dp.stats().live_connections) abort();
  return 0;
}
