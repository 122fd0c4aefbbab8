#include "hdf5_support.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace analysis::hdf5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    closer_ = other.closer_;
  }
  return *this;
}

bool Handle::reset() {
  if (id_ < 0) return true;
  const herr_t status = closer_(id_);
  id_ = H5I_INVALID_HID;
  return status >= 0;
}

ErrorSilencer::ErrorSilencer() {
  H5Eget_auto2(H5E_DEFAULT, &saved_function_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

ErrorSilencer::~ErrorSilencer() { H5Eset_auto2(H5E_DEFAULT, saved_function_, saved_data_); }

namespace {

extern "C" herr_t keep_innermost_message(unsigned depth, const H5E_error2_t* entry,
                                         void* client_data) {
  // Walking upward, depth 0 is the innermost frame: the most specific description.
  if (depth == 0 && entry->desc != nullptr) {
    *static_cast<std::string*>(client_data) = entry->desc;
  }
  return 0;
}

}  // namespace

std::string last_error() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost_message, &message);
  H5Eclear2(H5E_DEFAULT);
  return message.empty() ? std::string("unknown HDF5 error") : message;
}

namespace {

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

Handle copy_type(hid_t predefined) { return Handle(H5Tcopy(predefined), H5Tclose); }

}  // namespace

Handle file_type(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64: return copy_type(H5T_STD_I64LE);
    case ColumnType::kUInt64: return copy_type(H5T_STD_U64LE);
    case ColumnType::kFloat64: return copy_type(H5T_IEEE_F64LE);
    case ColumnType::kString: return utf8_string_type();
  }
  return Handle();
}

Handle memory_type(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64: return copy_type(H5T_NATIVE_INT64);
    case ColumnType::kUInt64: return copy_type(H5T_NATIVE_UINT64);
    case ColumnType::kFloat64: return copy_type(H5T_NATIVE_DOUBLE);
    case ColumnType::kString: return utf8_string_type();
  }
  return Handle();
}

Handle group_creation_properties() {
  Handle properties(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(properties.get(), false);
  H5Pset_link_creation_order(properties.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_attr_creation_order(properties.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  return properties;
}

Handle file_creation_properties() {
  // A file creation list is a group creation list for the root group.
  Handle properties(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  H5Pset_obj_track_times(properties.get(), false);
  H5Pset_link_creation_order(properties.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_attr_creation_order(properties.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  return properties;
}

Handle file_access_properties(bool strong_close) {
  Handle properties(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_file_locking(properties.get(), /*use_file_locking=*/true,
                      /*ignore_when_disabled=*/true);
  if (strong_close) H5Pset_fclose_degree(properties.get(), H5F_CLOSE_STRONG);
  return properties;
}

Handle dataset_creation_properties(ColumnType type, bool chunked) {
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(properties.get(), false);
  if (chunked) {
    const hsize_t chunk_dims[1] = {kChunkRows};
    H5Pset_chunk(properties.get(), 1, chunk_dims);
    // Shuffling bytes of fixed-size numbers makes deflate far more effective on counters and
    // timestamps; string columns hold heap references, where it does not help.
    if (type != ColumnType::kString) H5Pset_shuffle(properties.get());
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) H5Pset_deflate(properties.get(), 4);
  }
  return properties;
}

bool valid_object_path(const std::string& path, std::string& error) {
  if (path.size() < 2 || path.front() != '/') {
    error = "invalid path '" + path + "': expected an absolute path like /flows";
    return false;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      error = "invalid path '" + path + "': empty, '.' or '..' component";
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool link_exists(hid_t file, const std::string& path) {
  // H5Lexists needs every parent to exist, so walk down the path.
  std::size_t position = 0;
  while ((position = path.find('/', position + 1)) != std::string::npos) {
    if (H5Lexists(file, path.substr(0, position).c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0;
}

Handle open_or_create_group(hid_t file, const std::string& path, std::string& error) {
  if (!valid_object_path(path, error)) return Handle();
  Handle properties = group_creation_properties();
  Handle group;
  std::size_t position = 0;
  while (position != std::string::npos) {
    position = path.find('/', position + 1);
    const std::string prefix = path.substr(0, position);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) > 0) {
      H5O_info_t info;
      if (H5Oget_info_by_name2(file, prefix.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
          info.type != H5O_TYPE_GROUP) {
        error = "'" + prefix + "' exists and is not a group";
        return Handle();
      }
      group = Handle(H5Gopen2(file, prefix.c_str(), H5P_DEFAULT), H5Gclose);
    } else {
      group = Handle(H5Gcreate2(file, prefix.c_str(), H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                     H5Gclose);
    }
    if (!group.valid()) {
      error = "cannot create group '" + prefix + "': " + last_error();
      return Handle();
    }
  }
  return group;
}

bool write_attribute(hid_t object, const std::string& key, const AttributeValue& value,
                     std::string& error) {
  if (key.empty()) {
    error = "empty attribute name";
    return false;
  }
  if (H5Aexists(object, key.c_str()) > 0 && H5Adelete(object, key.c_str()) < 0) {
    error = "cannot replace attribute '" + key + "': " + last_error();
    return false;
  }
  const ColumnType type = std::visit(
      [](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) return ColumnType::kString;
        else if constexpr (std::is_same_v<V, int64_t>) return ColumnType::kInt64;
        else if constexpr (std::is_same_v<V, uint64_t>) return ColumnType::kUInt64;
        else return ColumnType::kFloat64;
      },
      value);
  if (const auto* text = std::get_if<std::string>(&value); text && !valid_utf8_text(*text)) {
    error = "attribute '" + key + "' is not valid UTF-8 text (or holds a NUL byte)";
    return false;
  }
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle stored_type = file_type(type);
  Handle in_memory_type = memory_type(type);
  Handle attribute(H5Acreate2(object, key.c_str(), stored_type.get(), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose);
  if (!attribute.valid()) {
    error = "cannot create attribute '" + key + "': " + last_error();
    return false;
  }
  herr_t status = 0;
  if (const auto* text = std::get_if<std::string>(&value)) {
    const char* pointer = text->c_str();
    status = H5Awrite(attribute.get(), in_memory_type.get(), &pointer);
  } else {
    status = std::visit(
        [&](const auto& v) -> herr_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) return -1;
          else return H5Awrite(attribute.get(), in_memory_type.get(), &v);
        },
        value);
  }
  if (status < 0) {
    error = "cannot write attribute '" + key + "': " + last_error();
    return false;
  }
  return true;
}

std::optional<AttributeValue> read_attribute(hid_t object, const std::string& key) {
  if (H5Aexists(object, key.c_str()) <= 0) return std::nullopt;
  Handle attribute(H5Aopen(object, key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) return std::nullopt;
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      if (H5Tget_sign(type.get()) == H5T_SGN_NONE) {
        uint64_t value = 0;
        if (H5Aread(attribute.get(), H5T_NATIVE_UINT64, &value) < 0) return std::nullopt;
        return AttributeValue(value);
      }
      int64_t value = 0;
      if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) return std::nullopt;
      return AttributeValue(value);
    }
    case H5T_FLOAT: {
      double value = 0;
      if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0) return std::nullopt;
      return AttributeValue(value);
    }
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        Handle text_type = memory_type(ColumnType::kString);
        char* text = nullptr;
        if (H5Aread(attribute.get(), text_type.get(), &text) < 0) return std::nullopt;
        std::string result = text != nullptr ? std::string(text) : std::string();
        H5free_memory(text);
        return AttributeValue(std::move(result));
      }
      const std::size_t size = H5Tget_size(type.get());
      std::string buffer(size, '\0');
      if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0) return std::nullopt;
      buffer.resize(std::strlen(buffer.c_str()));  // fixed-length strings are NUL-padded
      return AttributeValue(std::move(buffer));
    }
    default:
      return std::nullopt;
  }
}

namespace {

extern "C" herr_t collect_attribute_name(hid_t, const char* name, const H5A_info_t*,
                                         void* client_data) {
  static_cast<std::vector<std::string>*>(client_data)->emplace_back(name);
  return 0;
}

}  // namespace

std::vector<std::string> attribute_names(hid_t object) {
  std::vector<std::string> names;
  hsize_t position = 0;
  // Creation order is only indexed on objects made with it tracked (ours are); fall back to
  // name order for files written by other tools.
  if (H5Aiterate2(object, H5_INDEX_CRT_ORDER, H5_ITER_INC, &position, collect_attribute_name,
                  &names) < 0) {
    H5Eclear2(H5E_DEFAULT);
    names.clear();
    position = 0;
    H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &position, collect_attribute_name, &names);
  }
  return names;
}

bool valid_utf8_text(const std::string& text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    if (lead == 0) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    uint32_t code_point = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > size) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (bytes[i + k] & 0x3F);
    }
    // Reject overlong encodings, UTF-16 surrogates and values past U+10FFFF.
    static constexpr uint32_t kMinimum[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace analysis::hdf5
