#pragma once
// `segsim inspect OUT.h5`: a readable summary of a result file.

#include <ostream>
#include <string>

namespace analysis {

// Prints to `out` the run description (scenario, seed, version, git revision, wall time), every
// table (path, rows, columns with type and units) and the headline numbers of /summary if the
// file has one. Returns 0 on success; 2, with one message on `err` naming the file, if the file
// is missing, unreadable, not HDF5 or not a segsim result (no /meta or no format attribute).
int inspect_file(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace analysis
