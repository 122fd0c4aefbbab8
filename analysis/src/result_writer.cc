#include "analysis/result_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "analysis/temp_file_registry.h"
#include "column_io.h"
#include "hdf5_support.h"
#include "open_result_file.h"
#include "segsim/version.h"
#include "table_appender_impl.h"

namespace analysis {

const char* column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64: return "int64";
    case ColumnType::kUInt64: return "uint64";
    case ColumnType::kFloat64: return "float64";
    case ColumnType::kString: return "string";
  }
  return "unknown";
}

namespace {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// Makes the renamed file survive a power loss: its data must be on disk before the name is.
bool sync_file(const std::string& path, std::string& error) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0 || ::fsync(descriptor) != 0) {
    error = "cannot sync '" + path + "': " + std::strerror(errno);
    if (descriptor >= 0) ::close(descriptor);
    return false;
  }
  ::close(descriptor);
  return true;
}

class Hdf5ResultWriter final : public ResultWriter {
 public:
  Hdf5ResultWriter(std::string path, std::string temporary_path,
                   std::shared_ptr<OpenResultFile> file)
      : path_(std::move(path)),
        temporary_path_(std::move(temporary_path)),
        file_(std::move(file)),
        started_(std::chrono::steady_clock::now()) {}

  ~Hdf5ResultWriter() override {
    if (!committed_) discard();
  }

  bool write_header(std::string& error);

  using ResultWriter::set_attribute;
  void set_attribute(const std::string& object_path, const std::string& key,
                     const AttributeValue& value) override;
  bool write_table(const std::string& group, const std::vector<Column>& columns,
                   std::string& error) override;
  std::unique_ptr<TableAppender> append_table(const std::string& group,
                                              const std::vector<ColumnSpec>& columns,
                                              std::string& error) override;
  bool commit(std::string& error) override;
  const std::string& path() const override { return path_; }
  const std::string& temporary_path() const override { return temporary_path_; }

 private:
  bool check_open(std::string& error) const;
  bool check_table_group(const std::string& group, std::string& error) const;
  void discard();

  std::string path_;
  std::string temporary_path_;
  std::shared_ptr<OpenResultFile> file_;
  std::chrono::steady_clock::time_point started_;
  bool committed_ = false;
};

bool Hdf5ResultWriter::write_header(std::string& error) {
  hdf5::Handle meta = hdf5::open_or_create_group(file_->file.get(), format::kMetaGroup, error);
  hdf5::Handle wall = hdf5::open_or_create_group(file_->file.get(), format::kWallGroup, error);
  if (!meta.valid() || !wall.valid()) return false;
  return hdf5::write_attribute(meta.get(), format::kFormatKey,
                               AttributeValue(std::string(format::kFormatName)), error) &&
         hdf5::write_attribute(meta.get(), format::kFormatVersionKey,
                               AttributeValue(format::kFormatVersion), error) &&
         hdf5::write_attribute(meta.get(), format::kSegsimVersionKey,
                               AttributeValue(std::string(segsim::kVersion)), error) &&
         hdf5::write_attribute(meta.get(), format::kGitRevisionKey,
                               AttributeValue(std::string(segsim::kGitRevision)), error) &&
         hdf5::write_attribute(wall.get(), format::kWallStartKey,
                               AttributeValue(utc_now_iso8601()), error);
}

bool Hdf5ResultWriter::check_open(std::string& error) const {
  if (committed_ || !file_->is_open()) {
    error = path_ + ": the result file was committed or discarded already";
    return false;
  }
  return true;
}

void Hdf5ResultWriter::set_attribute(const std::string& object_path, const std::string& key,
                                     const AttributeValue& value) {
  std::string error;
  if (!check_open(error)) {
    file_->defer_error(error);
    return;
  }
  hdf5::ErrorSilencer silencer;
  if (!hdf5::valid_object_path(object_path, error) ||
      !hdf5::link_exists(file_->file.get(), object_path)) {
    file_->defer_error("attribute '" + key + "': no object '" + object_path + "' in the file");
    return;
  }
  hdf5::Handle object(H5Oopen(file_->file.get(), object_path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    file_->defer_error("cannot open '" + object_path + "': " + hdf5::last_error());
    return;
  }
  if (!hdf5::write_attribute(object.get(), key, value, error)) {
    file_->defer_error(object_path + ": " + error);
  }
}

bool Hdf5ResultWriter::check_table_group(const std::string& group, std::string& error) const {
  if (!check_open(error) || !hdf5::valid_object_path(group, error)) return false;
  if (group == format::kMetaGroup || group == format::kWallGroup) {
    error = group + " holds attributes only; choose another group for the table";
    return false;
  }
  return true;
}

bool Hdf5ResultWriter::write_table(const std::string& group, const std::vector<Column>& columns,
                                   std::string& error) {
  if (!check_table_group(group, error)) return false;
  hdf5::ErrorSilencer silencer;
  std::vector<ColumnSpec> specs;
  specs.reserve(columns.size());
  for (const Column& column : columns) {
    specs.push_back({column.name, column.units, static_cast<ColumnType>(column.values.index())});
  }
  if (!column_io::validate_specs(specs, error)) {
    error = group + ": " + error;
    return false;
  }
  const std::size_t row_count = std::visit([](const auto& v) { return v.size(); },
                                           columns.front().values);
  for (const Column& column : columns) {
    const std::size_t size = std::visit([](const auto& v) { return v.size(); }, column.values);
    if (size != row_count) {
      error = group + ": column '" + column.name + "' has " + std::to_string(size) +
              " rows, column '" + columns.front().name + "' has " + std::to_string(row_count);
      return false;
    }
    if (const auto* strings = std::get_if<std::vector<std::string>>(&column.values);
        strings && !column_io::validate_strings(column.name, strings->data(), strings->size(),
                                                error)) {
      error = group + ": " + error;
      return false;
    }
  }
  if (hdf5::link_exists(file_->file.get(), group)) {
    error = group + ": exists already";
    return false;
  }
  hdf5::Handle group_handle = hdf5::open_or_create_group(file_->file.get(), group, error);
  if (!group_handle.valid()) return false;
  for (const Column& column : columns) {
    if (!column_io::write_whole_column(group_handle.get(), column, error)) {
      error = group + ": " + error;
      // Leave no half-written table behind.
      group_handle.reset();
      H5Ldelete(file_->file.get(), group.c_str(), H5P_DEFAULT);
      return false;
    }
  }
  return true;
}

std::unique_ptr<TableAppender> Hdf5ResultWriter::append_table(
    const std::string& group, const std::vector<ColumnSpec>& columns, std::string& error) {
  if (!check_table_group(group, error)) return nullptr;
  hdf5::ErrorSilencer silencer;
  return Hdf5TableAppender::create(file_, group, columns, error);
}

bool Hdf5ResultWriter::commit(std::string& error) {
  if (!check_open(error)) return false;
  hdf5::ErrorSilencer silencer;
  // Copy: finishing an appender removes it from the list.
  const std::vector<Hdf5TableAppender*> appenders = file_->open_appenders;
  for (Hdf5TableAppender* appender : appenders) {
    std::string appender_error;
    if (!appender->finish(appender_error)) file_->defer_error(appender_error);
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  set_attribute(format::kWallGroup, format::kWallEndKey, AttributeValue(utc_now_iso8601()));
  set_attribute(format::kWallGroup, format::kWallSecondsKey, AttributeValue(wall_seconds));

  if (!file_->deferred_error.empty()) {
    error = path_ + ": " + file_->deferred_error;
    discard();
    return false;
  }
  if (!file_->file.reset()) {
    error = path_ + ": cannot close the temporary file: " + hdf5::last_error();
    discard();
    return false;
  }
  if (!sync_file(temporary_path_, error)) {
    discard();
    return false;
  }
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    error = "cannot rename '" + temporary_path_ + "' to '" + path_ + "': " + std::strerror(errno);
    discard();
    return false;
  }
  unregister_temp_file(temporary_path_);
  committed_ = true;
  return true;
}

void Hdf5ResultWriter::discard() {
  hdf5::ErrorSilencer silencer;
  const std::vector<Hdf5TableAppender*> appenders = file_->open_appenders;
  for (Hdf5TableAppender* appender : appenders) appender->abandon();
  file_->file.reset();
  std::remove(temporary_path_.c_str());
  unregister_temp_file(temporary_path_);
  committed_ = true;  // nothing left to do; later calls report a closed file
}

}  // namespace

std::unique_ptr<ResultWriter> ResultWriter::create(const std::string& path, std::string& error) {
  if (path.empty()) {
    error = "empty result file path";
    return nullptr;
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    error = "cannot write '" + path + "': directory '" + parent.string() + "' does not exist";
    return nullptr;
  }
  if (std::filesystem::is_directory(path, ec)) {
    error = "cannot write '" + path + "': it is a directory";
    return nullptr;
  }
  const std::string temporary_path = path + ".tmp-" + std::to_string(::getpid());
  if (std::filesystem::exists(temporary_path, ec)) {
    error = "cannot write '" + path + "': temporary file '" + temporary_path +
            "' exists (another writer of the same path in this process?)";
    return nullptr;
  }

  hdf5::ErrorSilencer silencer;
  hdf5::Handle creation = hdf5::file_creation_properties();
  hdf5::Handle access = hdf5::file_access_properties(/*strong_close=*/true);
  auto file = std::make_shared<OpenResultFile>();
  file->file = hdf5::Handle(
      H5Fcreate(temporary_path.c_str(), H5F_ACC_EXCL, creation.get(), access.get()), H5Fclose);
  if (!file->is_open()) {
    error = "cannot create '" + temporary_path + "': " + hdf5::last_error();
    return nullptr;
  }
  register_temp_file(temporary_path);
  auto writer = std::make_unique<Hdf5ResultWriter>(path, temporary_path, std::move(file));
  if (!writer->write_header(error)) {
    error = "cannot write '" + temporary_path + "': " + error;
    return nullptr;  // the writer's destructor removes the temporary file
  }
  return writer;
}

}  // namespace analysis
