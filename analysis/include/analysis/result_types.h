#pragma once
// Value types shared by the result writer, the streaming table appender and the reader.

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace analysis {

// The element types a column may hold. Files store them as little-endian int64, uint64, IEEE
// float64 and variable-length UTF-8 strings.
enum class ColumnType { kInt64, kUInt64, kFloat64, kString };

const char* column_type_name(ColumnType type);  // "int64", "uint64", "float64", "string"

// A whole column, owned: the unit of ResultWriter::write_table.
struct Column {
  std::string name;
  std::string units;  // e.g. "ns", "bytes", "packets", "cycles", "1" (dimensionless); never ""
  std::variant<std::vector<int64_t>, std::vector<uint64_t>, std::vector<double>,
               std::vector<std::string>>
      values;
};

// A column declared up front for a streaming table (TableAppender).
struct ColumnSpec {
  std::string name;
  std::string units;
  ColumnType type;
};

// A borrowed batch of one column's values; the alternative must match the declared type.
// Converts implicitly from std::vector<T>, std::array<T, N> and std::span<const T>.
using ColumnBatch = std::variant<std::span<const int64_t>, std::span<const uint64_t>,
                                 std::span<const double>, std::span<const std::string>>;

// The value of an attribute (on /meta, /meta/wall, a table group or a dataset).
using AttributeValue = std::variant<std::string, int64_t, uint64_t, double>;

}  // namespace analysis
