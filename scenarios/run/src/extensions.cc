// The list of run extensions. A new feature adds one line here and keeps everything else in its
// own files.

#include "annotation_bridge.h"
#include "capture_taps.h"
#include "control_plane_sim_extension.h"
#include "extension.h"
#include "failures.h"
#include "invariant_allowed.h"
#include "migration_extension.h"
#include "scale.h"

namespace scenarios {

bool create_extensions(RunContext& context, std::vector<std::unique_ptr<RunExtension>>& out,
                       std::string& error, int& exit_code) {
  exit_code = 0;
  if (auto taps = create_capture_taps(context, error, exit_code)) {
    out.push_back(std::move(taps));
  } else if (exit_code != 0) {
    return false;
  }
  // Before the features that talk to World::control_plane: it replaces it.
  if (!add_control_plane_sim(context, out, error, exit_code)) return false;
  out.push_back(create_failures_extension(context));
  out.push_back(make_migration_extension(context));
  out.push_back(create_scale_extension(context));
  out.push_back(create_allowed_invariant(context));
  out.push_back(create_annotation_bridge(context));  // last: chains the drop observers of the others
  return true;
}

}  // namespace scenarios
