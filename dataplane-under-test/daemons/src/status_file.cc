#include "daemons/status_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace daemons {

bool write_file_atomically(const std::string& path, const std::string& content, std::string& error) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  std::FILE* f = std::fopen(temporary.c_str(), "wb");
  if (!f) {
    error = "cannot write " + temporary + ": " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

bool parse_log_level(const std::string& text, platform::LogLevel& out) {
  if (text == "debug") out = platform::LogLevel::kDebug;
  else if (text == "info") out = platform::LogLevel::kInfo;
  else if (text == "warning") out = platform::LogLevel::kWarning;
  else if (text == "error") out = platform::LogLevel::kError;
  else return false;
  return true;
}

}  // namespace daemons
