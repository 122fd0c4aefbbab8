#pragma once
// The stored (filtered, compressed) bytes of every chunk of a dataset, read with the HDF5 C API,
// so determinism tests compare what is on disk rather than decoded values.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace analysis::testing {

// Returns one byte vector per chunk, or an empty list for a contiguous dataset. `ok` is false if
// anything could not be read.
inline std::vector<std::vector<unsigned char>> raw_chunks(const std::string& file_path,
                                                          const std::string& dataset_path,
                                                          bool& ok) {
  ok = false;
  std::vector<std::vector<unsigned char>> chunks;
  const hid_t file = H5Fopen(file_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return chunks;
  const hid_t dataset = H5Dopen2(file, dataset_path.c_str(), H5P_DEFAULT);
  const hid_t properties = H5Dget_create_plist(dataset);
  const hid_t space = H5Dget_space(dataset);
  hsize_t length = 0;
  H5Sget_simple_extent_dims(space, &length, nullptr);
  bool failed = dataset < 0;
  if (!failed && H5Pget_layout(properties) == H5D_CHUNKED) {
    hsize_t chunk_rows = 0;
    H5Pget_chunk(properties, 1, &chunk_rows);
    for (hsize_t offset = 0; offset < length && !failed; offset += chunk_rows) {
      hsize_t size = 0;
      uint32_t filters = 0;
      failed = H5Dget_chunk_storage_size(dataset, &offset, &size) < 0;
      std::vector<unsigned char> bytes(size);
      failed = failed || H5Dread_chunk(dataset, H5P_DEFAULT, &offset, &filters, bytes.data()) < 0;
      chunks.push_back(std::move(bytes));
    }
  }
  H5Sclose(space);
  H5Pclose(properties);
  H5Dclose(dataset);
  H5Fclose(file);
  ok = !failed;
  return chunks;
}

}  // namespace analysis::testing
