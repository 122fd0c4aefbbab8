#pragma once
// Counting heap allocations, for the tests that prove a hot path allocates nothing.
//
// Linking `segsim_test_allocation_counter` replaces the global allocation functions of the whole
// test executable with counting ones, so give such tests an executable of their own. Usage:
//
//   const uint64_t before = segsim::testing::allocation_count();
//   kernel.run_until(...);
//   EXPECT_EQ(segsim::testing::allocation_count() - before, 0u);

#include <cstdint>

namespace segsim::testing {

// Calls of any global operator new (plain, array, aligned) since the program started.
uint64_t allocation_count();

}  // namespace segsim::testing
