#include "analysis/temp_file_registry.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace analysis {
namespace {

// A fixed array of slots, so that the signal handler touches no allocator and no lock: a slot's
// `state` publishes its path (kWriting while the path is being copied, kLive once readable).
constexpr int kFree = 0;
constexpr int kWriting = 1;
constexpr int kLive = 2;
constexpr std::size_t kSlotCount = 64;
constexpr std::size_t kMaxPathSize = 4096;

struct Slot {
  std::atomic<int> state{kFree};
  char path[kMaxPathSize];
};

std::array<Slot, kSlotCount> g_slots;
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

constexpr std::array<int, 3> kCleanupSignals = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temp_files_and_reraise(int signal_number) {
  remove_registered_temp_files();
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal_number, &default_action, nullptr);
  raise(signal_number);
}

void install_handlers_once() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    for (int signal_number : kCleanupSignals) {
      struct sigaction current {};
      if (sigaction(signal_number, nullptr, &current) != 0) continue;
      // Leave a program's own handler (or SIG_IGN) alone.
      if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) continue;
      struct sigaction action {};
      action.sa_handler = remove_temp_files_and_reraise;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESETHAND;
      sigaction(signal_number, &action, nullptr);
    }
  });
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

}  // namespace

bool register_temp_file(const std::string& path) {
  install_handlers_once();
  const std::string absolute = absolute_path(path);
  if (absolute.size() + 1 > kMaxPathSize) return false;
  for (Slot& slot : g_slots) {
    int expected = kFree;
    if (!slot.state.compare_exchange_strong(expected, kWriting)) continue;
    std::memcpy(slot.path, absolute.c_str(), absolute.size() + 1);
    slot.state.store(kLive, std::memory_order_release);
    return true;
  }
  return false;
}

void unregister_temp_file(const std::string& path) {
  const std::string absolute = absolute_path(path);
  for (Slot& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) != kLive) continue;
    if (std::strcmp(slot.path, absolute.c_str()) != 0) continue;
    slot.state.store(kFree, std::memory_order_release);
    return;
  }
}

void remove_registered_temp_files() noexcept {
  for (Slot& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) == kLive) unlink(slot.path);
  }
}

}  // namespace analysis
