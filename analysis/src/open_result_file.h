#pragma once
// State shared by a ResultWriter and the TableAppenders it handed out: the open file, the
// appenders still open (so commit() can finish them) and the first deferred error.

#include <string>
#include <vector>

#include "hdf5_support.h"

namespace analysis {

class Hdf5TableAppender;

struct OpenResultFile {
  hdf5::Handle file;
  std::vector<Hdf5TableAppender*> open_appenders;
  // The first failure of a call that could not report it (a setter, an appender finished by its
  // destructor); commit() fails with it.
  std::string deferred_error;

  bool is_open() const { return file.valid(); }
  void defer_error(const std::string& error) {
    if (deferred_error.empty()) deferred_error = error;
  }
};

}  // namespace analysis
