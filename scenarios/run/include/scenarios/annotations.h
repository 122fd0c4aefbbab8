#pragma once
// Annotations: named event records that a run publishes while it goes on (a migration finished,
// a host failed, a packet was dropped, a policy change converged), for whoever listens — today
// Python's `sim.on(kind, callback)`, in the spirit of SimOS annotations.
//
// Emitters guard every record with wants():
//
//   if (annotations.wants(AnnotationKind::kDrop)) annotations.emit({now, AnnotationKind::kDrop, {...}});
//
// so that a run nobody listens to pays one load and one compare per site and builds nothing.
// High-rate kinds (drops) are sampled per listener: `every` = N delivers the 1st, (N+1)th, ...
// record of that kind, counted per listener, so sampling is deterministic.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace scenarios {

enum class AnnotationKind : uint8_t {
  kMigrationStart,   // a live migration began (pre-copy starts)
  kMigrationDone,    // a migration switched over (fields: downtime_ns, connections_moved, ...)
  kFailure,          // a component failed (host, link, switch, controller, partition, agent)
  kRecovery,         // a failed component came back
  kPolicyChange,     // the controller accepted a policy or workload change
  kConverged,        // every port impacted by a change enforces it
  kDrop,             // one packet dropped (high rate: sample it)
  kFlowDone,         // a flow completed or failed
  kInvariantViolation,
  kCount
};

std::string_view annotation_kind_name(AnnotationKind kind);
// Parses a name as written by annotation_kind_name ("migration_done"); false if unknown.
bool parse_annotation_kind(std::string_view name, AnnotationKind& kind);
// Every kind name, in enum order (for error messages: "expected one of ...").
std::string annotation_kind_names();

using AnnotationValue = std::variant<int64_t, double, std::string>;

struct Annotation {
  int64_t time_ns = 0;
  AnnotationKind kind = AnnotationKind::kCount;
  std::vector<std::pair<std::string, AnnotationValue>> fields;  // in the emitter's order
};

class Annotations {
 public:
  using Listener = std::function<void(const Annotation&)>;

  // Returns a handle for unsubscribe(). `every` >= 1.
  int subscribe(AnnotationKind kind, Listener listener, uint64_t every = 1);
  void unsubscribe(int handle);

  bool wants(AnnotationKind kind) const { return listening_[static_cast<std::size_t>(kind)]; }
  void emit(const Annotation& record);

 private:
  struct Subscription {
    int handle;
    AnnotationKind kind;
    Listener listener;
    uint64_t every;
    uint64_t seen = 0;
  };
  void refresh();

  std::array<bool, static_cast<std::size_t>(AnnotationKind::kCount)> listening_{};
  std::vector<Subscription> subscriptions_;
  int next_handle_ = 1;
};

}  // namespace scenarios
