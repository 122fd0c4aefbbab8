#include "scenarios/annotations.h"

#include <algorithm>

namespace scenarios {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(AnnotationKind::kCount)> kNames = {
    "migration_start", "migration_done", "failure", "recovery", "policy_change",
    "converged",       "drop",           "flow_done", "invariant_violation"};

}  // namespace

std::string_view annotation_kind_name(AnnotationKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kNames.size() ? kNames[i] : "unknown";
}

bool parse_annotation_kind(std::string_view name, AnnotationKind& kind) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      kind = static_cast<AnnotationKind>(i);
      return true;
    }
  }
  return false;
}

std::string annotation_kind_names() {
  std::string out;
  for (std::string_view n : kNames) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

int Annotations::subscribe(AnnotationKind kind, Listener listener, uint64_t every) {
  const int handle = next_handle_++;
  subscriptions_.push_back({handle, kind, std::move(listener), every == 0 ? 1 : every});
  refresh();
  return handle;
}

void Annotations::unsubscribe(int handle) {
  std::erase_if(subscriptions_, [handle](const Subscription& s) { return s.handle == handle; });
  refresh();
}

void Annotations::emit(const Annotation& record) {
  // Index loop: a listener may subscribe or unsubscribe while being called.
  for (std::size_t i = 0; i < subscriptions_.size(); ++i) {
    Subscription& s = subscriptions_[i];
    if (s.kind != record.kind) continue;
    if (s.seen++ % s.every != 0) continue;
    Listener listener = s.listener;  // copy: the vector may reallocate during the call
    listener(record);
  }
}

void Annotations::refresh() {
  listening_.fill(false);
  for (const Subscription& s : subscriptions_) listening_[static_cast<std::size_t>(s.kind)] = true;
}

}  // namespace scenarios
