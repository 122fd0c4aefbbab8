#pragma once
// Reading a segsim result file: what it holds (groups, tables, columns with units and lengths,
// attributes) and the values of a column. Used by `segsim inspect` and `segsim compare`.
//
// open() accepts only segsim results: an HDF5 file whose /meta group has format ==
// "segsim-result" and a format_version this build understands. Foreign columns (written by
// other tools) are read too: any signed integer as int64, unsigned as uint64, any float as
// double, fixed or variable-length strings as strings.
//
// Single-threaded, like everything using Debian's HDF5.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/result_types.h"

namespace analysis {

struct ColumnInfo {
  std::string name;
  std::string path;         // "/flows/bytes"
  ColumnType type;
  std::string stored_type;  // as stored: "int64", "uint32", "float64", "string", ...
  std::string units;        // empty if the dataset has no `units` attribute (not ours)
  uint64_t length = 0;
};

// A group holding one or more 1-D datasets; columns in creation order.
struct TableInfo {
  std::string path;
  uint64_t row_count = 0;    // length of the first column
  bool equal_lengths = true; // false if the columns disagree (never in files segsim wrote)
  std::vector<ColumnInfo> columns;
};

class ResultReader {
 public:
  // Opens `path`; nullptr with `error` ("no such file", "not an HDF5 file", "not a segsim result
  // file: ...", "written by a newer segsim ...").
  static std::unique_ptr<ResultReader> open(const std::string& path, std::string& error);
  virtual ~ResultReader() = default;

  virtual const std::string& path() const = 0;
  virtual int64_t format_version() const = 0;

  // Attributes of a group or dataset, in creation order; empty if the object does not exist.
  // Attributes of a type other than scalar number or string are left out.
  virtual std::vector<std::pair<std::string, AttributeValue>> attributes(
      const std::string& object_path) const = 0;
  virtual std::optional<AttributeValue> attribute(const std::string& object_path,
                                                  const std::string& key) const = 0;
  std::optional<AttributeValue> meta(const std::string& key) const;
  std::optional<AttributeValue> wall(const std::string& key) const;

  // Every group of the file (without "/"), sorted by path.
  virtual std::vector<std::string> groups() const = 0;
  // Every table (a group with datasets), sorted by path; /meta and /meta/wall hold only
  // attributes and are never tables.
  virtual std::vector<TableInfo> tables() const = 0;
  virtual std::optional<TableInfo> table(const std::string& group) const = 0;

  // Reads a whole column ("/flows/bytes"). False with `error` if it does not exist, is not 1-D
  // or holds another kind of value. read_int64 accepts unsigned columns whose values fit;
  // read_doubles converts any numeric column.
  virtual bool read_doubles(const std::string& column_path, std::vector<double>& values,
                            std::string& error) const = 0;
  virtual bool read_int64(const std::string& column_path, std::vector<int64_t>& values,
                          std::string& error) const = 0;
  virtual bool read_uint64(const std::string& column_path, std::vector<uint64_t>& values,
                           std::string& error) const = 0;
  virtual bool read_strings(const std::string& column_path, std::vector<std::string>& values,
                            std::string& error) const = 0;
};

// Formats an attribute value for people: strings as they are, numbers in full precision.
std::string to_display_string(const AttributeValue& value);

}  // namespace analysis
