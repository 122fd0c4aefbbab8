#include "analysis/result_reader.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "analysis/result_format.h"
#include "hdf5_support.h"

namespace analysis {

std::optional<AttributeValue> ResultReader::meta(const std::string& key) const {
  return attribute(format::kMetaGroup, key);
}

std::optional<AttributeValue> ResultReader::wall(const std::string& key) const {
  return attribute(format::kWallGroup, key);
}

std::string to_display_string(const AttributeValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* number = std::get_if<double>(&value)) {
    // The shortest text that reads back as the same double, fixed notation on a tie.
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, *number);
    return std::string(buffer, result.ptr);
  }
  return std::visit(
      [](const auto& v) -> std::string {
        if constexpr (std::is_integral_v<std::decay_t<decltype(v)>>) return std::to_string(v);
        else return {};
      },
      value);
}

namespace {

struct VisitState {
  hid_t file;
  std::vector<std::string> groups;
};

extern "C" herr_t collect_group(hid_t, const char* name, const H5L_info_t* link, void* data) {
  if (link->type != H5L_TYPE_HARD) return 0;
  auto* state = static_cast<VisitState*>(data);
  const std::string path = std::string("/") + name;
  H5O_info_t info;
  if (H5Oget_info_by_name2(state->file, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
      info.type == H5O_TYPE_GROUP) {
    state->groups.push_back(path);
  }
  return 0;
}

extern "C" herr_t collect_link_name(hid_t, const char* name, const H5L_info_t* link,
                                    void* data) {
  if (link->type == H5L_TYPE_HARD) static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

// How the stored element type reads back, or nullopt for types that are not columns.
std::optional<ColumnType> column_type_of(hid_t type, std::string& stored_name) {
  const std::size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      if (H5Tget_sign(type) == H5T_SGN_NONE) {
        stored_name = "uint" + std::to_string(bits);
        return ColumnType::kUInt64;
      }
      stored_name = "int" + std::to_string(bits);
      return ColumnType::kInt64;
    case H5T_FLOAT:
      stored_name = "float" + std::to_string(bits);
      return ColumnType::kFloat64;
    case H5T_STRING:
      stored_name = "string";
      return ColumnType::kString;
    default:
      return std::nullopt;
  }
}

class Hdf5ResultReader final : public ResultReader {
 public:
  Hdf5ResultReader(std::string path, hdf5::Handle file, int64_t format_version)
      : path_(std::move(path)), file_(std::move(file)), format_version_(format_version) {}

  const std::string& path() const override { return path_; }
  int64_t format_version() const override { return format_version_; }

  std::vector<std::pair<std::string, AttributeValue>> attributes(
      const std::string& object_path) const override;
  std::optional<AttributeValue> attribute(const std::string& object_path,
                                          const std::string& key) const override;
  std::vector<std::string> groups() const override;
  std::vector<TableInfo> tables() const override;
  std::optional<TableInfo> table(const std::string& group) const override;

  bool read_doubles(const std::string& column_path, std::vector<double>& values,
                    std::string& error) const override;
  bool read_int64(const std::string& column_path, std::vector<int64_t>& values,
                  std::string& error) const override;
  bool read_uint64(const std::string& column_path, std::vector<uint64_t>& values,
                   std::string& error) const override;
  bool read_strings(const std::string& column_path, std::vector<std::string>& values,
                    std::string& error) const override;

 private:
  hdf5::Handle open_object(const std::string& object_path) const;
  // Opens a 1-D dataset and reports its length and kind.
  hdf5::Handle open_column(const std::string& column_path, uint64_t& length, ColumnType& type,
                           std::string& error) const;
  template <typename T>
  bool read_numbers(const std::string& column_path, hid_t memory_type, std::vector<T>& values,
                    std::string& error) const;

  std::string path_;
  hdf5::Handle file_;
  int64_t format_version_;
};

hdf5::Handle Hdf5ResultReader::open_object(const std::string& object_path) const {
  if (object_path != "/" && !hdf5::link_exists(file_.get(), object_path)) return hdf5::Handle();
  return hdf5::Handle(H5Oopen(file_.get(), object_path.c_str(), H5P_DEFAULT), H5Oclose);
}

std::vector<std::pair<std::string, AttributeValue>> Hdf5ResultReader::attributes(
    const std::string& object_path) const {
  hdf5::ErrorSilencer silencer;
  std::vector<std::pair<std::string, AttributeValue>> result;
  hdf5::Handle object = open_object(object_path);
  if (!object.valid()) return result;
  for (const std::string& key : hdf5::attribute_names(object.get())) {
    if (auto value = hdf5::read_attribute(object.get(), key)) result.emplace_back(key, *value);
  }
  return result;
}

std::optional<AttributeValue> Hdf5ResultReader::attribute(const std::string& object_path,
                                                          const std::string& key) const {
  hdf5::ErrorSilencer silencer;
  hdf5::Handle object = open_object(object_path);
  if (!object.valid()) return std::nullopt;
  return hdf5::read_attribute(object.get(), key);
}

std::vector<std::string> Hdf5ResultReader::groups() const {
  hdf5::ErrorSilencer silencer;
  VisitState state{file_.get(), {}};
  H5Lvisit(file_.get(), H5_INDEX_NAME, H5_ITER_INC, collect_group, &state);
  std::sort(state.groups.begin(), state.groups.end());
  return state.groups;
}

std::optional<TableInfo> Hdf5ResultReader::table(const std::string& group) const {
  hdf5::ErrorSilencer silencer;
  hdf5::Handle group_handle = open_object(group);
  if (!group_handle.valid()) return std::nullopt;
  std::vector<std::string> names;
  hsize_t position = 0;
  if (H5Literate(group_handle.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, &position,
                  collect_link_name, &names) < 0) {
    H5Eclear2(H5E_DEFAULT);  // creation order not tracked (a foreign file): by name then
    names.clear();
    position = 0;
    H5Literate(group_handle.get(), H5_INDEX_NAME, H5_ITER_INC, &position, collect_link_name,
                &names);
  }
  TableInfo info;
  info.path = group;
  for (const std::string& name : names) {
    ColumnInfo column;
    column.name = name;
    column.path = join(group, name);
    std::string ignored;
    hdf5::Handle dataset = open_column(column.path, column.length, column.type, ignored);
    if (!dataset.valid()) continue;  // a subgroup or a dataset that is not a column
    hdf5::Handle type(H5Dget_type(dataset.get()), H5Tclose);
    column_type_of(type.get(), column.stored_type);
    if (auto units = hdf5::read_attribute(dataset.get(), "units")) {
      if (const auto* text = std::get_if<std::string>(&*units)) column.units = *text;
    }
    if (info.columns.empty()) info.row_count = column.length;
    if (column.length != info.row_count) info.equal_lengths = false;
    info.columns.push_back(std::move(column));
  }
  if (info.columns.empty()) return std::nullopt;
  return info;
}

std::vector<TableInfo> Hdf5ResultReader::tables() const {
  std::vector<TableInfo> result;
  std::vector<std::string> candidates = groups();
  candidates.insert(candidates.begin(), "/");
  for (const std::string& group : candidates) {
    if (auto info = table(group)) result.push_back(std::move(*info));
  }
  return result;
}

hdf5::Handle Hdf5ResultReader::open_column(const std::string& column_path, uint64_t& length,
                                           ColumnType& type, std::string& error) const {
  hdf5::ErrorSilencer silencer;
  H5O_info_t info;
  if (!hdf5::link_exists(file_.get(), column_path) ||
      H5Oget_info_by_name2(file_.get(), column_path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
      info.type != H5O_TYPE_DATASET) {
    H5Eclear2(H5E_DEFAULT);
    error = path_ + ": no column '" + column_path + "'";
    return hdf5::Handle();
  }
  hdf5::Handle dataset(H5Dopen2(file_.get(), column_path.c_str(), H5P_DEFAULT), H5Dclose);
  hdf5::Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hdf5::Handle stored_type(H5Dget_type(dataset.get()), H5Tclose);
  hsize_t dims[1] = {0};
  std::string stored_name;
  const auto kind = column_type_of(stored_type.get(), stored_name);
  if (!dataset.valid() || H5Sget_simple_extent_ndims(space.get()) != 1 || !kind) {
    H5Eclear2(H5E_DEFAULT);
    error = path_ + ": '" + column_path + "' is not a column (1-D numbers or strings)";
    return hdf5::Handle();
  }
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  length = dims[0];
  type = *kind;
  return dataset;
}

template <typename T>
bool Hdf5ResultReader::read_numbers(const std::string& column_path, hid_t memory_type,
                                    std::vector<T>& values, std::string& error) const {
  uint64_t length = 0;
  ColumnType type{};
  hdf5::Handle dataset = open_column(column_path, length, type, error);
  if (!dataset.valid()) return false;
  if (type == ColumnType::kString) {
    error = path_ + ": column '" + column_path + "' holds strings, not numbers";
    return false;
  }
  values.resize(length);
  hdf5::ErrorSilencer silencer;
  if (length > 0 &&
      H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    error = path_ + ": cannot read '" + column_path + "': " + hdf5::last_error();
    return false;
  }
  return true;
}

bool Hdf5ResultReader::read_doubles(const std::string& column_path, std::vector<double>& values,
                                    std::string& error) const {
  return read_numbers(column_path, H5T_NATIVE_DOUBLE, values, error);
}

bool Hdf5ResultReader::read_int64(const std::string& column_path, std::vector<int64_t>& values,
                                  std::string& error) const {
  uint64_t length = 0;
  ColumnType type{};
  if (!open_column(column_path, length, type, error).valid()) return false;
  if (type == ColumnType::kFloat64) {
    error = path_ + ": column '" + column_path + "' holds floating-point values, not integers";
    return false;
  }
  if (type != ColumnType::kUInt64) return read_numbers(column_path, H5T_NATIVE_INT64, values, error);
  std::vector<uint64_t> unsigned_values;
  if (!read_numbers(column_path, H5T_NATIVE_UINT64, unsigned_values, error)) return false;
  values.resize(unsigned_values.size());
  for (std::size_t i = 0; i < unsigned_values.size(); ++i) {
    if (unsigned_values[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      error = path_ + ": column '" + column_path + "' row " + std::to_string(i) +
              " does not fit in int64";
      return false;
    }
    values[i] = static_cast<int64_t>(unsigned_values[i]);
  }
  return true;
}

bool Hdf5ResultReader::read_uint64(const std::string& column_path, std::vector<uint64_t>& values,
                                   std::string& error) const {
  uint64_t length = 0;
  ColumnType type{};
  if (!open_column(column_path, length, type, error).valid()) return false;
  if (type == ColumnType::kUInt64) return read_numbers(column_path, H5T_NATIVE_UINT64, values, error);
  if (type != ColumnType::kInt64) {
    error = path_ + ": column '" + column_path + "' does not hold integers";
    return false;
  }
  std::vector<int64_t> signed_values;
  if (!read_numbers(column_path, H5T_NATIVE_INT64, signed_values, error)) return false;
  values.resize(signed_values.size());
  for (std::size_t i = 0; i < signed_values.size(); ++i) {
    if (signed_values[i] < 0) {
      error = path_ + ": column '" + column_path + "' row " + std::to_string(i) + " is negative";
      return false;
    }
    values[i] = static_cast<uint64_t>(signed_values[i]);
  }
  return true;
}

bool Hdf5ResultReader::read_strings(const std::string& column_path,
                                    std::vector<std::string>& values, std::string& error) const {
  uint64_t length = 0;
  ColumnType type{};
  hdf5::Handle dataset = open_column(column_path, length, type, error);
  if (!dataset.valid()) return false;
  if (type != ColumnType::kString) {
    error = path_ + ": column '" + column_path + "' holds numbers, not strings";
    return false;
  }
  hdf5::ErrorSilencer silencer;
  values.clear();
  if (length == 0) return true;
  hdf5::Handle stored_type(H5Dget_type(dataset.get()), H5Tclose);
  if (H5Tis_variable_str(stored_type.get()) > 0) {
    hdf5::Handle memory_type = hdf5::memory_type(ColumnType::kString);
    std::vector<char*> pointers(length, nullptr);
    if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                pointers.data()) < 0) {
      error = path_ + ": cannot read '" + column_path + "': " + hdf5::last_error();
      return false;
    }
    values.reserve(length);
    for (char* text : pointers) values.emplace_back(text != nullptr ? text : "");
    hdf5::Handle space(H5Dget_space(dataset.get()), H5Sclose);
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
    return true;
  }
  // Fixed-length strings (files from other tools): NUL- or space-padded cells.
  const std::size_t cell_size = H5Tget_size(stored_type.get());
  std::vector<char> cells(cell_size * length);
  if (H5Dread(dataset.get(), stored_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) <
      0) {
    error = path_ + ": cannot read '" + column_path + "': " + hdf5::last_error();
    return false;
  }
  values.reserve(length);
  for (uint64_t i = 0; i < length; ++i) {
    const char* cell = cells.data() + i * cell_size;
    values.emplace_back(cell, strnlen(cell, cell_size));
  }
  return true;
}

}  // namespace

std::unique_ptr<ResultReader> ResultReader::open(const std::string& path, std::string& error) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    error = path + ": no such file";
    return nullptr;
  }
  if (std::filesystem::is_directory(path, ec)) {
    error = path + ": is a directory, not a result file";
    return nullptr;
  }
  hdf5::ErrorSilencer silencer;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) {
    error = path + ": cannot read: " + hdf5::last_error();
    return nullptr;
  }
  if (is_hdf5 == 0) {
    error = path + ": not an HDF5 file";
    return nullptr;
  }
  hdf5::Handle access = hdf5::file_access_properties(/*strong_close=*/false);
  hdf5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()), H5Fclose);
  if (!file.valid()) {
    error = path + ": cannot open: " + hdf5::last_error();
    return nullptr;
  }
  const std::string not_ours = path + ": not a segsim result file (";
  H5O_info_t info;
  if (H5Lexists(file.get(), format::kMetaGroup, H5P_DEFAULT) <= 0 ||
      H5Oget_info_by_name2(file.get(), format::kMetaGroup, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
      info.type != H5O_TYPE_GROUP) {
    error = not_ours + "no /meta group)";
    return nullptr;
  }
  hdf5::Handle meta(H5Gopen2(file.get(), format::kMetaGroup, H5P_DEFAULT), H5Gclose);
  const auto format_name = hdf5::read_attribute(meta.get(), format::kFormatKey);
  if (!format_name) {
    error = not_ours + "/meta has no 'format' attribute)";
    return nullptr;
  }
  const auto* name = std::get_if<std::string>(&*format_name);
  if (name == nullptr || *name != format::kFormatName) {
    error = not_ours + "/meta format is '" + to_display_string(*format_name) + "', expected '" +
            format::kFormatName + "')";
    return nullptr;
  }
  const auto version = hdf5::read_attribute(meta.get(), format::kFormatVersionKey);
  const auto* version_number = version ? std::get_if<int64_t>(&*version) : nullptr;
  if (version_number == nullptr) {
    error = not_ours + "/meta has no integer 'format_version' attribute)";
    return nullptr;
  }
  if (*version_number > format::kFormatVersion || *version_number < 1) {
    error = path + ": format_version " + std::to_string(*version_number) +
            " is not supported; this segsim reads versions 1 to " +
            std::to_string(format::kFormatVersion);
    return nullptr;
  }
  meta.reset();
  return std::make_unique<Hdf5ResultReader>(path, std::move(file), *version_number);
}

}  // namespace analysis
