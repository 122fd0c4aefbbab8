#pragma once
// The run's result file: one HDF5 file per run, self-describing, readable with plain h5py/pandas.
//
// Layout conventions (documented in docs/results.md, names in analysis/result_format.h):
//  - /meta: attributes (format, format_version, scenario text, effective values, seed, version,
//    git revision) and the only wall-clock values of the file, under /meta/wall (start/end
//    time, wall seconds): `h5diff --exclude-path /meta/wall` of two equal runs is silent.
//  - A table is a group holding one 1-D dataset per column, all of equal length, each with a
//    `units` attribute ("ns", "bytes", "packets", "1" for dimensionless, "" never). pandas:
//    pd.DataFrame({c: g[c][()] for c in g}). String columns are variable-length UTF-8. Columns
//    keep their creation order (the group tracks link creation order).
//  - Time columns are integer nanoseconds of simulated time, named `time_ns` or `*_ns`.
//  - Files are reproducible: no object modification times, deterministic chunking and
//    compression, so identical inputs give identical dataset bytes.
//
// Atomicity: create() writes to "<path>.tmp-<pid>"; commit() flushes, closes and renames it to
// <path>. A writer destroyed without commit() (error, exception, signal unwinding) deletes its
// temporary file, so an interrupted run never leaves a file that looks finished. SIGINT, SIGTERM
// and SIGHUP delete live temporary files too, when the program has not installed its own handler
// for them (see analysis/temp_file_registry.h).
//
// Errors: the setters return nothing; a failure in them is remembered and reported by commit(),
// which then fails. The library is single-threaded (Debian's HDF5 is not thread-safe).

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/result_format.h"
#include "analysis/result_types.h"
#include "analysis/table_appender.h"

namespace analysis {

class ResultWriter {
 public:
  // Creates "<path>.tmp-<pid>" with /meta (format, format_version, segsim_version,
  // git_revision) and /meta/wall (start_utc). Returns nullptr and sets `error` if the temporary
  // file cannot be created (missing directory, permissions, a temporary file already there).
  static std::unique_ptr<ResultWriter> create(const std::string& path, std::string& error);
  virtual ~ResultWriter() = default;

  // Sets (or replaces) attribute `key` on the object at `object_path`: an existing group or
  // dataset, e.g. "/meta", "/meta/wall", "/flows" or "/flows/bytes".
  virtual void set_attribute(const std::string& object_path, const std::string& key,
                             const AttributeValue& value) = 0;
  void set_attribute(const std::string& object_path, const std::string& key,
                     const std::string& value) {
    set_attribute(object_path, key, AttributeValue(value));
  }
  void set_attribute(const std::string& object_path, const std::string& key, const char* value) {
    set_attribute(object_path, key, AttributeValue(std::string(value)));
  }
  void set_attribute(const std::string& object_path, const std::string& key, double value) {
    set_attribute(object_path, key, AttributeValue(value));
  }
  // Any integer: signed types are stored as int64, unsigned ones as uint64.
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void set_attribute(const std::string& object_path, const std::string& key, T value) {
    if constexpr (std::is_signed_v<T>) {
      set_attribute(object_path, key, AttributeValue(static_cast<int64_t>(value)));
    } else {
      set_attribute(object_path, key, AttributeValue(static_cast<uint64_t>(value)));
    }
  }

  // Attributes on /meta (reproducible run description) and /meta/wall (wall-clock values only).
  template <typename V>
  void set_meta(const std::string& key, const V& value) {
    set_attribute(format::kMetaGroup, key, value);
  }
  template <typename V>
  void set_wall(const std::string& key, const V& value) {
    set_attribute(format::kWallGroup, key, value);
  }

  // Writes a table (see above) at `group`, e.g. "/flows" or "/hosts/h1/series". Intermediate
  // groups are created. Returns false and sets `error` if columns differ in length, a name is
  // empty, repeated or holds '/', units are empty, a string is not UTF-8 or holds NUL, or the
  // group exists already.
  virtual bool write_table(const std::string& group, const std::vector<Column>& columns,
                           std::string& error) = 0;

  // Starts a streaming table at `group` with the declared columns (same checks as write_table).
  // The appender may outlive nothing: finish it, or let commit() finish it.
  virtual std::unique_ptr<TableAppender> append_table(const std::string& group,
                                                      const std::vector<ColumnSpec>& columns,
                                                      std::string& error) = 0;

  // Finishes open appenders, records /meta/wall end_utc and wall_seconds, flushes, closes and
  // atomically renames to the final path. False (with `error`) on failure, including an
  // earlier failed setter, in which case the temporary file is removed. Call at most once.
  virtual bool commit(std::string& error) = 0;

  // The final path given to create().
  virtual const std::string& path() const = 0;
  // Where the file is being written until commit().
  virtual const std::string& temporary_path() const = 0;
};

}  // namespace analysis
