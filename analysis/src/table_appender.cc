#include <algorithm>

#include "column_io.h"
#include "table_appender_impl.h"

namespace analysis {

Hdf5TableAppender::Hdf5TableAppender(std::shared_ptr<OpenResultFile> file, std::string group)
    : file_(std::move(file)), group_(std::move(group)) {}

std::unique_ptr<Hdf5TableAppender> Hdf5TableAppender::create(
    std::shared_ptr<OpenResultFile> file, const std::string& group,
    const std::vector<ColumnSpec>& columns, std::string& error) {
  if (!column_io::validate_specs(columns, error)) {
    error = group + ": " + error;
    return nullptr;
  }
  if (hdf5::link_exists(file->file.get(), group)) {
    error = group + ": exists already";
    return nullptr;
  }
  hdf5::Handle group_handle = hdf5::open_or_create_group(file->file.get(), group, error);
  if (!group_handle.valid()) return nullptr;

  std::unique_ptr<Hdf5TableAppender> appender(new Hdf5TableAppender(file, group));
  for (const ColumnSpec& spec : columns) {
    hdf5::Handle dataset = column_io::create_extendable_column(group_handle.get(), spec, error);
    if (!dataset.valid()) {
      error = group + ": " + error;
      appender->abandon();
      group_handle.reset();
      H5Ldelete(file->file.get(), group.c_str(), H5P_DEFAULT);
      return nullptr;
    }
    BufferedColumn column{spec, std::move(dataset), {}};
    switch (spec.type) {
      case ColumnType::kInt64: column.rows.emplace<std::vector<int64_t>>(); break;
      case ColumnType::kUInt64: column.rows.emplace<std::vector<uint64_t>>(); break;
      case ColumnType::kFloat64: column.rows.emplace<std::vector<double>>(); break;
      case ColumnType::kString: column.rows.emplace<std::vector<std::string>>(); break;
    }
    std::visit([](auto& rows) { rows.reserve(hdf5::kChunkRows); }, column.rows);
    appender->columns_.push_back(std::move(column));
  }
  file->open_appenders.push_back(appender.get());
  return appender;
}

Hdf5TableAppender::~Hdf5TableAppender() {
  if (open_) {
    std::string error;
    if (!finish(error)) file_->defer_error(error);
  }
}

bool Hdf5TableAppender::check_batches(std::span<const ColumnBatch> columns,
                                      std::size_t& row_count, std::string& error) const {
  if (columns.size() != columns_.size()) {
    error = group_ + ": append got " + std::to_string(columns.size()) + " columns, the table has " +
            std::to_string(columns_.size());
    return false;
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const ColumnSpec& spec = columns_[i].spec;
    if (static_cast<ColumnType>(columns[i].index()) != spec.type) {
      error = group_ + ": column '" + spec.name + "' is declared " +
              column_type_name(spec.type) + " but got " +
              column_type_name(static_cast<ColumnType>(columns[i].index())) + " values";
      return false;
    }
    const std::size_t size = std::visit([](const auto& span) { return span.size(); }, columns[i]);
    if (i == 0) row_count = size;
    if (size != row_count) {
      error = group_ + ": column '" + spec.name + "' has " + std::to_string(size) +
              " values, column '" + columns_[0].spec.name + "' has " + std::to_string(row_count);
      return false;
    }
    if (const auto* strings = std::get_if<std::span<const std::string>>(&columns[i])) {
      if (!column_io::validate_strings(spec.name, strings->data(), strings->size(), error)) {
        error = group_ + ": " + error;
        return false;
      }
    }
  }
  return true;
}

void Hdf5TableAppender::buffer_rows(std::span<const ColumnBatch> columns, std::size_t first,
                                    std::size_t count) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    std::visit(
        [&](const auto& span) {
          using Value = typename std::decay_t<decltype(span)>::value_type;
          auto& rows = std::get<std::vector<std::remove_const_t<Value>>>(columns_[i].rows);
          rows.insert(rows.end(), span.begin() + first, span.begin() + first + count);
        },
        columns[i]);
  }
  rows_buffered_ += count;
}

bool Hdf5TableAppender::append(std::span<const ColumnBatch> columns, std::string& error) {
  if (!open_ || !file_->is_open()) {
    error = group_ + ": append after the table was finished or the result file closed";
    return false;
  }
  hdf5::ErrorSilencer silencer;
  std::size_t row_count = 0;
  if (!check_batches(columns, row_count, error)) return false;
  // Fill the buffers one chunk at a time: each chunk reaches the file whole and once, so the
  // file's bytes do not depend on how the caller batched its rows.
  std::size_t done = 0;
  while (done < row_count) {
    const std::size_t count =
        std::min<std::size_t>(row_count - done, hdf5::kChunkRows - rows_buffered_);
    buffer_rows(columns, done, count);
    done += count;
    if (rows_buffered_ == hdf5::kChunkRows && !write_buffered_rows(error)) return false;
  }
  return true;
}

bool Hdf5TableAppender::write_buffered_rows(std::string& error) {
  if (rows_buffered_ == 0) return true;
  for (BufferedColumn& column : columns_) {
    const void* values = std::visit([](const auto& rows) -> const void* { return rows.data(); },
                                    column.rows);
    if (!column_io::write_rows(column.dataset.get(), column.spec.type, values, rows_written_,
                               rows_buffered_, error)) {
      error = group_ + "/" + column.spec.name + ": " + error;
      // The table is now inconsistent; keep the file from being committed.
      file_->defer_error(error);
      close();
      return false;
    }
    std::visit([](auto& rows) { rows.clear(); }, column.rows);
  }
  rows_written_ += rows_buffered_;
  rows_buffered_ = 0;
  return true;
}

bool Hdf5TableAppender::finish(std::string& error) {
  if (!open_) {
    error = group_ + ": finished already";
    return false;
  }
  if (!file_->is_open()) {
    close();
    error = group_ + ": the result file was closed before the table was finished";
    return false;
  }
  hdf5::ErrorSilencer silencer;
  const bool written = write_buffered_rows(error);
  close();
  return written;
}

void Hdf5TableAppender::abandon() {
  rows_buffered_ = 0;
  close();
}

void Hdf5TableAppender::close() {
  open_ = false;
  for (BufferedColumn& column : columns_) {
    column.dataset.reset();
    std::visit([](auto& rows) { std::decay_t<decltype(rows)>().swap(rows); }, column.rows);
  }
  auto& list = file_->open_appenders;
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
}

}  // namespace analysis
