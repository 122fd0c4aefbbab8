#pragma once
// A table written in batches while the run goes on, for per-flow and per-packet records whose
// number grows with the run: memory stays at one chunk per column, whatever the run length.
//
// The table has the layout of ResultWriter::write_table (a group of equal-length 1-D column
// datasets with `units`), but its datasets are chunked, extendable and compressed. Rows are
// buffered per column and written one whole chunk at a time, so the file's bytes depend only on
// the rows appended, never on how the caller split them into batches.
//
// Obtained from ResultWriter::append_table; single-threaded like the writer.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "analysis/result_types.h"

namespace analysis {

class TableAppender {
 public:
  virtual ~TableAppender() = default;

  // Appends rows: one batch per declared column, in declaration order, every batch of the same
  // length (zero is allowed) and of the declared type. On a mismatch nothing is appended and
  // `error` names the column. Fails after finish() or once the writer committed or went away.
  virtual bool append(std::span<const ColumnBatch> columns, std::string& error) = 0;
  bool append(std::initializer_list<ColumnBatch> columns, std::string& error) {
    return append(std::span<const ColumnBatch>(columns.begin(), columns.size()), error);
  }

  // Writes the buffered rows and closes the datasets. ResultWriter::commit() finishes appenders
  // still open; an appender destroyed unfinished is finished then, and a failure there makes
  // commit() fail.
  virtual bool finish(std::string& error) = 0;

  virtual const std::string& group() const = 0;
  // Rows appended so far (buffered or written).
  virtual uint64_t row_count() const = 0;
};

}  // namespace analysis
