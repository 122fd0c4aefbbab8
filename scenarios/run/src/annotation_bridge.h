#pragma once
// Publishes per-packet model events as annotations (annotations.h) for whoever listens (Python's
// sim.on("drop", ...)): today the packets hosts drop, by the firewall (layer "dfw") or by the
// host itself (layer "host"). Link and switch drops are not published yet.
//
// One observer per host (models::Host::DropObserver), chained in front of an observer a feature
// installed before start() (migrations attribute drops too), so both see every drop. When nobody
// listens a drop costs one virtual call and one wants() test; records are built only for
// listeners.

#include <memory>
#include <string>

#include "extension.h"

namespace scenarios {

std::unique_ptr<RunExtension> create_annotation_bridge(RunContext& context);

}  // namespace scenarios
