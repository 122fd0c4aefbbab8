#pragma once
// Small helpers over the HDF5 C API shared by the writer, the appender and the reader: owning
// handles, error capture, the file's element types, attributes and creation property lists.

#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include "analysis/result_types.h"

namespace analysis::hdf5 {

// An owning HDF5 identifier closed with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) {
    other.id_ = H5I_INVALID_HID;
  }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns false if HDF5 reported an error while closing (e.g. a failed flush).
  bool reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Turns off HDF5's automatic error-stack printing for its lifetime; our own messages replace it.
class ErrorSilencer {
 public:
  ErrorSilencer();
  ~ErrorSilencer();
  ErrorSilencer(const ErrorSilencer&) = delete;
  ErrorSilencer& operator=(const ErrorSilencer&) = delete;

 private:
  H5E_auto2_t saved_function_ = nullptr;
  void* saved_data_ = nullptr;
};

// The innermost message of HDF5's current error stack (then clears it), e.g. "unable to open
// file: name = 'x.h5', errno = 2, ...", or "unknown HDF5 error".
std::string last_error();

// File and memory types of each column type. String types are variable-length UTF-8.
Handle file_type(ColumnType type);
Handle memory_type(ColumnType type);

// Creation property lists: no modification times (reproducible files); groups keep their links'
// creation order (columns keep the order they were written in).
Handle group_creation_properties();
Handle file_creation_properties();
// File access: locks where the file system supports them, no failure where it does not (NFS,
// some container overlays). `strong_close`: closing the file closes every object still open in
// it, so nothing can be written after the writer's rename.
Handle file_access_properties(bool strong_close);

// The group at `path` ("/a/b"), creating missing components; invalid handle on failure.
Handle open_or_create_group(hid_t file, const std::string& path, std::string& error);
bool link_exists(hid_t file, const std::string& path);

// Checks an absolute object path: starts with '/', no empty, "." or ".." component, not "/".
bool valid_object_path(const std::string& path, std::string& error);

// Writes (replacing) a scalar attribute on an open object.
bool write_attribute(hid_t object, const std::string& key, const AttributeValue& value,
                     std::string& error);
// Reads a scalar attribute; integer types become int64/uint64, floats double, strings string.
std::optional<AttributeValue> read_attribute(hid_t object, const std::string& key);
// Names of an object's attributes, in creation order when tracked, else by name.
std::vector<std::string> attribute_names(hid_t object);

// Checks that `text` is well-formed UTF-8 without NUL (a C string in HDF5 would lose the rest).
bool valid_utf8_text(const std::string& text);

// Column values are written in chunks of this many rows once a column is this long or longer;
// shorter columns are contiguous. 16384 rows of 8 bytes are 128 KiB: a good HDF5 chunk size.
inline constexpr std::size_t kChunkRows = 16384;
// Dataset creation properties for a column: chunked, shuffled and deflated when `chunked`.
Handle dataset_creation_properties(ColumnType type, bool chunked);

}  // namespace analysis::hdf5
