#include "column_io.h"

#include <set>

#include "analysis/result_format.h"

namespace analysis::column_io {

bool validate_specs(const std::vector<ColumnSpec>& specs, std::string& error) {
  if (specs.empty()) {
    error = "a table needs at least one column";
    return false;
  }
  std::set<std::string> names;
  for (const ColumnSpec& spec : specs) {
    if (spec.name.empty() || spec.name == "." || spec.name == ".." ||
        spec.name.find('/') != std::string::npos || !hdf5::valid_utf8_text(spec.name)) {
      error = "invalid column name '" + spec.name + "' (empty, '.', '..' or holds '/')";
      return false;
    }
    if (!names.insert(spec.name).second) {
      error = "column '" + spec.name + "' appears twice";
      return false;
    }
    if (spec.units.empty() || !hdf5::valid_utf8_text(spec.units)) {
      error = "column '" + spec.name + "' has no units (use \"1\" for dimensionless values)";
      return false;
    }
  }
  return true;
}

bool validate_strings(const std::string& column_name, const std::string* values,
                      std::size_t count, std::string& error) {
  for (std::size_t row = 0; row < count; ++row) {
    if (!hdf5::valid_utf8_text(values[row])) {
      error = "column '" + column_name + "' row " + std::to_string(row) +
              ": not valid UTF-8 text (or holds a NUL byte)";
      return false;
    }
  }
  return true;
}

namespace {

bool write_units(hid_t dataset, const std::string& name, const std::string& units,
                 std::string& error) {
  if (!hdf5::write_attribute(dataset, format::kUnitsKey, AttributeValue(units), error)) {
    error = "column '" + name + "': " + error;
    return false;
  }
  return true;
}

// HDF5 writes variable-length strings from an array of C string pointers.
std::vector<const char*> c_string_pointers(const std::string* values, std::size_t count) {
  std::vector<const char*> pointers(count);
  for (std::size_t i = 0; i < count; ++i) pointers[i] = values[i].c_str();
  return pointers;
}

herr_t write_selection(hid_t dataset, ColumnType type, const void* values, std::size_t count,
                       hid_t memory_space, hid_t file_space) {
  hdf5::Handle in_memory_type = hdf5::memory_type(type);
  if (type == ColumnType::kString) {
    const std::vector<const char*> pointers =
        c_string_pointers(static_cast<const std::string*>(values), count);
    return H5Dwrite(dataset, in_memory_type.get(), memory_space, file_space, H5P_DEFAULT,
                    pointers.data());
  }
  return H5Dwrite(dataset, in_memory_type.get(), memory_space, file_space, H5P_DEFAULT, values);
}

}  // namespace

bool write_whole_column(hid_t group, const Column& column, std::string& error) {
  const auto type = static_cast<ColumnType>(column.values.index());
  const void* values = nullptr;
  std::size_t count = 0;
  std::visit(
      [&](const auto& vector) {
        values = vector.data();
        count = vector.size();
      },
      column.values);
  const bool chunked = count >= hdf5::kChunkRows;
  const hsize_t dims[1] = {count};
  hdf5::Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  hdf5::Handle stored_type = hdf5::file_type(type);
  hdf5::Handle properties = hdf5::dataset_creation_properties(type, chunked);
  hdf5::Handle dataset(H5Dcreate2(group, column.name.c_str(), stored_type.get(), space.get(),
                                  H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                       H5Dclose);
  if (!dataset.valid()) {
    error = "cannot create column '" + column.name + "': " + hdf5::last_error();
    return false;
  }
  if (count > 0 &&
      write_selection(dataset.get(), type, values, count, H5S_ALL, H5S_ALL) < 0) {
    error = "cannot write column '" + column.name + "': " + hdf5::last_error();
    return false;
  }
  return write_units(dataset.get(), column.name, column.units, error);
}

hdf5::Handle create_extendable_column(hid_t group, const ColumnSpec& spec, std::string& error) {
  const hsize_t dims[1] = {0};
  const hsize_t max_dims[1] = {H5S_UNLIMITED};
  hdf5::Handle space(H5Screate_simple(1, dims, max_dims), H5Sclose);
  hdf5::Handle stored_type = hdf5::file_type(spec.type);
  hdf5::Handle properties = hdf5::dataset_creation_properties(spec.type, /*chunked=*/true);
  hdf5::Handle dataset(H5Dcreate2(group, spec.name.c_str(), stored_type.get(), space.get(),
                                  H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                       H5Dclose);
  if (!dataset.valid()) {
    error = "cannot create column '" + spec.name + "': " + hdf5::last_error();
    return hdf5::Handle();
  }
  if (!write_units(dataset.get(), spec.name, spec.units, error)) return hdf5::Handle();
  return dataset;
}

bool write_rows(hid_t dataset, ColumnType type, const void* values, uint64_t first_row,
                uint64_t count, std::string& error) {
  if (count == 0) return true;
  const hsize_t new_size[1] = {first_row + count};
  if (H5Dset_extent(dataset, new_size) < 0) {
    error = "cannot extend column: " + hdf5::last_error();
    return false;
  }
  hdf5::Handle file_space(H5Dget_space(dataset), H5Sclose);
  const hsize_t start[1] = {first_row};
  const hsize_t block[1] = {count};
  hdf5::Handle memory_space(H5Screate_simple(1, block, nullptr), H5Sclose);
  if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, block, nullptr) < 0 ||
      write_selection(dataset, type, values, count, memory_space.get(), file_space.get()) < 0) {
    error = "cannot write rows: " + hdf5::last_error();
    return false;
  }
  return true;
}

}  // namespace analysis::column_io
