#pragma once
// The live-migration feature of a run: implements the `migrate` timeline action, writes the
// /migrations table and the migration headline numbers (docs/migration.md).

#include <memory>

#include "extension.h"

namespace scenarios {

std::unique_ptr<RunExtension> make_migration_extension(RunContext& context);

}  // namespace scenarios
