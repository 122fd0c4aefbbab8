#pragma once
// Storage for the large, long-lived arrays of the connection table (pool chunks, the cuckoo
// index), on transparent huge pages where the system offers them.
//
// Why: the established path reads two random cache lines of index and one or two of connection
// per packet. With 1M connections that is over 100 MB; with 4 KiB pages nearly every one of these
// reads also misses the TLB (a few MiB of reach) and waits for a page walk, and perf showed the
// batch's prefetches stalling there. One 2 MiB page covers 512 times more. An array of at least
// 2 MiB is therefore aligned to 2 MiB and advised MADV_HUGEPAGE (Linux's THP "madvise" mode, the
// Debian default, only backs advised ranges with huge pages). The advice is a hint: without THP,
// or on another system, the storage is ordinary memory and everything works the same.
//
// Allocation happens in growth steps only (never per packet). Elements are value-initialized.

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dfw {

inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

template <typename T>
class TableStorage {
  static_assert(std::is_trivially_destructible_v<T>, "storage is released without destructors");

 public:
  TableStorage() = default;
  explicit TableStorage(std::size_t count) : data_(allocate(count)), count_(count) {}

  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }
  std::size_t size() const { return count_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };

  static T* allocate(std::size_t count) {
    const std::size_t bytes = count * sizeof(T);
    const bool huge = bytes >= kHugePageSize;
    const std::size_t alignment = huge ? kHugePageSize : std::max<std::size_t>(alignof(T), 64);
    void* raw = nullptr;
    if (posix_memalign(&raw, alignment, bytes == 0 ? alignment : bytes) != 0) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Only whole huge pages are advised: the tail stays on small pages, so no memory is wasted
    // (rounding the size up cost 9 B per connection at 1M connections). A hint: failure only
    // means small pages.
    if (huge) madvise(raw, bytes / kHugePageSize * kHugePageSize, MADV_HUGEPAGE);
#endif
    T* data = static_cast<T*>(raw);
    std::uninitialized_value_construct_n(data, count);
    return data;
  }

  std::unique_ptr<T, Free> data_;
  std::size_t count_ = 0;
};

}  // namespace dfw
