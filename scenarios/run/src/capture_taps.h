#pragma once
// Capture taps (scenario outputs.pcap) as a run extension: capture_taps.cc.

#include <memory>
#include <string>

#include "extension.h"

namespace scenarios {

// The taps of `context.scenario`'s outputs.pcap, attached to the world's VMs and links. Returns
// nullptr with exit_code 0 when the scenario asks for none (nothing is attached: zero cost), and
// nullptr with `error` and exit_code (2 bad input, 1 a file that cannot be created) on failure.
std::unique_ptr<RunExtension> create_capture_taps(RunContext& context, std::string& error, int& exit_code);

}  // namespace scenarios
