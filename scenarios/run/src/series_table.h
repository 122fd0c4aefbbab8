#pragma once
// A streaming time-series table whose columns are declared by a sample struct's visit() (the one
// place a model names its counters and their units). Rows are buffered for one sampling round and
// appended as one batch, so memory does not grow with the run.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "analysis/result_writer.h"
#include "analysis/table_appender.h"

namespace scenarios {

class SeriesTable {
 public:
  // Declares an int64 "time_ns" column, for samples that do not carry their own time.
  void add_time_column() { declare<int64_t>("time_ns", "ns"); }
  // Declares a uint64 key column (host index, core index, ...).
  void add_key_column(std::string name, std::string units) { declare<uint64_t>(std::move(name), std::move(units)); }
  // Declares the sample's fields, in visit() order.
  template <class Sample>
  void add_sample_columns(const Sample& prototype) {
    prototype.visit([this](const auto& name, const char* units, auto value) {
      declare<std::conditional_t<std::is_signed_v<decltype(value)>, int64_t, uint64_t>>(std::string(name), units);
    });
  }

  bool open(analysis::ResultWriter& writer, const std::string& group, std::string& error) {
    appender_ = writer.append_table(group, specs_, error);
    return appender_ != nullptr;
  }

  // One row: key values, then the sample's fields.
  template <class Sample>
  void add_row(std::initializer_list<uint64_t> keys, const Sample& sample) {
    add_row_from(0, keys, sample);
  }
  // One row of a table declared with add_time_column() first.
  template <class Sample>
  void add_row_with_time(int64_t time_ns, std::initializer_list<uint64_t> keys, const Sample& sample) {
    std::get<std::vector<int64_t>>(buffers_[0]).push_back(time_ns);
    add_row_from(1, keys, sample);
  }

  // Appends the buffered rows to the file.
  bool flush(std::string& error) {
    if (!appender_) return true;
    std::vector<analysis::ColumnBatch> batches;
    batches.reserve(buffers_.size());
    for (auto& b : buffers_) {
      std::visit([&batches](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        batches.emplace_back(std::span<const T>(v));
      }, b);
    }
    const bool ok = appender_->append(std::span<const analysis::ColumnBatch>(batches), error);
    for (auto& b : buffers_) std::visit([](auto& v) { v.clear(); }, b);
    return ok;
  }

 private:
  template <class T>
  void declare(std::string name, std::string units) {
    specs_.push_back({std::move(name), std::move(units),
                      std::is_signed_v<T> ? analysis::ColumnType::kInt64 : analysis::ColumnType::kUInt64});
    buffers_.emplace_back(std::vector<T>{});
  }
  template <class Sample>
  void add_row_from(std::size_t column, std::initializer_list<uint64_t> keys, const Sample& sample) {
    for (uint64_t k : keys) std::get<std::vector<uint64_t>>(buffers_[column++]).push_back(k);
    sample.visit([this, &column](const auto&, const char*, auto value) {
      using T = std::conditional_t<std::is_signed_v<decltype(value)>, int64_t, uint64_t>;
      std::get<std::vector<T>>(buffers_[column++]).push_back(static_cast<T>(value));
    });
  }

  std::vector<analysis::ColumnSpec> specs_;
  std::vector<std::variant<std::vector<int64_t>, std::vector<uint64_t>>> buffers_;
  std::unique_ptr<analysis::TableAppender> appender_;
};

}  // namespace scenarios
