#pragma once
// Small helpers shared by the daemons.

#include <string>

#include "platform/platform.h"

namespace daemons {

// Writes `content` to `path` through a temporary file in the same directory and rename(2), so a
// reader sees the old file or the new one, never a half-written one. False with `error` set.
bool write_file_atomically(const std::string& path, const std::string& content, std::string& error);

// "debug", "info", "warning", "error".
bool parse_log_level(const std::string& text, platform::LogLevel& out);

}  // namespace daemons
