#include "models/host_stats.h"

#include <string>

namespace models {

std::string_view host_drop_reason_name(HostDropReason reason) {
  switch (reason) {
#define MODELS_X(name, text) \
  case HostDropReason::name: \
    return text;
    MODELS_HOST_DROP_REASONS(MODELS_X)
#undef MODELS_X
    case HostDropReason::kCount:
      break;
  }
  return "unknown";
}

std::string_view HostSample::dfw_drop_column_name(std::size_t reason) {
  static const std::array<std::string, dfw::kDropReasonCount> names = [] {
    std::array<std::string, dfw::kDropReasonCount> out;
    for (std::size_t i = 0; i < dfw::kDropReasonCount; ++i)
      out[i] = "drops_" + std::string(dfw::drop_reason_name(static_cast<dfw::DropReason>(i)));
    return out;
  }();
  return names[reason];
}

std::string_view HostSample::host_drop_column_name(std::size_t reason) {
  static const std::array<std::string, kHostDropReasonCount> names = [] {
    std::array<std::string, kHostDropReasonCount> out;
    for (std::size_t i = 0; i < kHostDropReasonCount; ++i)
      out[i] = "drops_" + std::string(host_drop_reason_name(static_cast<HostDropReason>(i)));
    return out;
  }();
  return names[reason];
}

}  // namespace models
