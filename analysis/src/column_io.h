#pragma once
// Writing column datasets: validation of column declarations and values, whole columns for
// ResultWriter::write_table, and extendable columns for the streaming TableAppender.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/result_types.h"
#include "hdf5_support.h"

namespace analysis::column_io {

// Names non-empty, unique, without '/' or '.' alone; units non-empty; at least one column.
bool validate_specs(const std::vector<ColumnSpec>& specs, std::string& error);

// Every string of `values` well-formed UTF-8 without NUL; `error` names column and row.
bool validate_strings(const std::string& column_name, const std::string* values,
                      std::size_t count, std::string& error);

// Creates dataset `column.name` in `group` holding all values, with its `units` attribute.
// Columns of kChunkRows rows or more are chunked and compressed.
bool write_whole_column(hid_t group, const Column& column, std::string& error);

// Creates an empty, extendable, chunked dataset for `spec` with its `units` attribute.
hdf5::Handle create_extendable_column(hid_t group, const ColumnSpec& spec, std::string& error);

// Grows `dataset` to first_row + count rows and writes `count` values at `first_row`. `values`
// points to int64/uint64/double values, or to std::string values for kString.
bool write_rows(hid_t dataset, ColumnType type, const void* values, uint64_t first_row,
                uint64_t count, std::string& error);

}  // namespace analysis::column_io
