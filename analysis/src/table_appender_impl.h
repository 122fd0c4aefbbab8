#pragma once
// The HDF5 implementation of TableAppender (see analysis/table_appender.h).

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "analysis/table_appender.h"
#include "hdf5_support.h"
#include "open_result_file.h"

namespace analysis {

class Hdf5TableAppender final : public TableAppender {
 public:
  // Creates the group and its empty extendable columns; nullptr with `error` on failure.
  static std::unique_ptr<Hdf5TableAppender> create(std::shared_ptr<OpenResultFile> file,
                                                   const std::string& group,
                                                   const std::vector<ColumnSpec>& columns,
                                                   std::string& error);
  ~Hdf5TableAppender() override;

  using TableAppender::append;
  bool append(std::span<const ColumnBatch> columns, std::string& error) override;
  bool finish(std::string& error) override;
  const std::string& group() const override { return group_; }
  uint64_t row_count() const override { return rows_written_ + rows_buffered_; }

  // Closes the datasets without writing buffered rows: the file is being discarded.
  void abandon();

 private:
  using Buffer = std::variant<std::vector<int64_t>, std::vector<uint64_t>, std::vector<double>,
                              std::vector<std::string>>;
  struct BufferedColumn {
    ColumnSpec spec;
    hdf5::Handle dataset;
    Buffer rows;
  };

  Hdf5TableAppender(std::shared_ptr<OpenResultFile> file, std::string group);
  bool check_batches(std::span<const ColumnBatch> columns, std::size_t& row_count,
                     std::string& error) const;
  void buffer_rows(std::span<const ColumnBatch> columns, std::size_t first, std::size_t count);
  bool write_buffered_rows(std::string& error);
  void close();

  std::shared_ptr<OpenResultFile> file_;
  std::string group_;
  std::vector<BufferedColumn> columns_;
  uint64_t rows_written_ = 0;
  uint64_t rows_buffered_ = 0;
  bool open_ = true;
};

}  // namespace analysis
