// The vSwitch's flat MAC table (models/mac_table.h) against a std::map reference.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>

#include "models/mac_table.h"
#include "sim/rng.h"

namespace models {
namespace {

TEST(MacTable, KeyIsTheSixBytesBigEndian) {
  const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0xff};
  EXPECT_EQ(MacTable::key(mac), 0x02005e1020ffULL);
}

TEST(MacTable, FindAssignLearnAndErase) {
  MacTable table;
  EXPECT_EQ(table.find(0x0200000000aaULL), kNoVm);  // empty table
  table.assign(0x0200000000aaULL, 7);
  table.assign(0x0200000000bbULL, 8);
  EXPECT_EQ(table.find(0x0200000000aaULL), 7u);
  EXPECT_EQ(table.find(0x0200000000bbULL), 8u);
  EXPECT_EQ(table.find(0x0200000000ccULL), kNoVm);
  table.learn(0x0200000000aaULL, 9);  // learning keeps the first owner
  EXPECT_EQ(table.find(0x0200000000aaULL), 7u);
  table.learn(0x0200000000ccULL, 9);
  EXPECT_EQ(table.find(0x0200000000ccULL), 9u);
  table.assign(0x0200000000aaULL, 9);  // assign replaces
  EXPECT_EQ(table.size(), 3u);
  table.erase_vm(9);
  EXPECT_EQ(table.find(0x0200000000aaULL), kNoVm);
  EXPECT_EQ(table.find(0x0200000000ccULL), kNoVm);
  EXPECT_EQ(table.find(0x0200000000bbULL), 8u);
  EXPECT_EQ(table.size(), 1u);
}

// Many VMs with several MACs each, added and removed at random through growth: every lookup
// agrees with the reference (this exercises probe runs, wrap-around and backward-shift deletion).
TEST(MacTable, AgreesWithAReferenceMapUnderRandomChurn) {
  MacTable table;
  std::map<uint64_t, VmIndex> reference;
  sim::Rng rng = sim::Rng::stream(7, "mac-table-test");
  for (int step = 0; step < 20000; ++step) {
    const uint64_t mac = 0x020000000000ULL | rng.below(512);
    const auto vm = static_cast<VmIndex>(rng.below(64));
    switch (rng.below(4)) {
      case 0:
        table.assign(mac, vm);
        reference[mac] = vm;
        break;
      case 1:
        table.learn(mac, vm);
        reference.emplace(mac, vm);
        break;
      case 2:
        if (rng.below(8) == 0) {
          table.erase_vm(vm);
          for (auto it = reference.begin(); it != reference.end();)
            it = it->second == vm ? reference.erase(it) : std::next(it);
        }
        break;
      default:
        break;
    }
    const uint64_t probe = 0x020000000000ULL | rng.below(512);
    const auto it = reference.find(probe);
    ASSERT_EQ(table.find(probe), it == reference.end() ? kNoVm : it->second) << "step " << step;
    ASSERT_EQ(table.size(), reference.size()) << "step " << step;
  }
  for (uint64_t low = 0; low < 512; ++low) {
    const uint64_t mac = 0x020000000000ULL | low;
    const auto it = reference.find(mac);
    EXPECT_EQ(table.find(mac), it == reference.end() ? kNoVm : it->second);
  }
}

}  // namespace
}  // namespace models
