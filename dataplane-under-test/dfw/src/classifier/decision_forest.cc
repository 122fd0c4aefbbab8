#include "classifier/decision_forest.h"

#include <algorithm>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dfw::classifier {

namespace {

constexpr int32_t kNoMatch = std::numeric_limits<int32_t>::max();
constexpr uint32_t kWidth = DecisionForest::kBlockWidth;

// The point's value of each compared dimension, biased and broadcast to a block's width.
#if defined(__AVX2__)
using Lane = __m256i;
inline Lane broadcast(uint32_t biased) { return _mm256_set1_epi32(static_cast<int32_t>(biased)); }
#elif defined(__SSE2__)
using Lane = __m128i;
inline Lane broadcast(uint32_t biased) { return _mm_set1_epi32(static_cast<int32_t>(biased)); }
#else
using Lane = int32_t;
inline Lane broadcast(uint32_t biased) { return static_cast<int32_t>(biased); }
#endif

struct LanePoint {
  Lane lanes[DecisionForest::kLaneCount];
};

inline void load_lanes(const PointKey& point, const std::array<uint8_t, DecisionForest::kLaneCount>& dims,
                       uint32_t lane_count, LanePoint& out) {
  for (uint32_t i = 0; i < lane_count; ++i) out.lanes[i] = broadcast(point.value[dims[i]] ^ 0x80000000u);
}

// Bit k set when box k of the block contains the point (all compared dims in range).
inline uint32_t block_matches(const uint32_t* bounds, const LanePoint& point, uint32_t lane_count) {
#if defined(__AVX2__)
  __m256i outside = _mm256_setzero_si256();
  for (uint32_t l = 0; l < lane_count; ++l) {
    const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bounds + 2 * l * kWidth));
    const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bounds + (2 * l + 1) * kWidth));
    outside = _mm256_or_si256(outside, _mm256_cmpgt_epi32(low, point.lanes[l]));
    outside = _mm256_or_si256(outside, _mm256_cmpgt_epi32(point.lanes[l], high));
  }
  return ~static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(outside))) & 0xffu;
#elif defined(__SSE2__)
  __m128i outside = _mm_setzero_si128();
  for (uint32_t l = 0; l < lane_count; ++l) {
    const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bounds + 2 * l * kWidth));
    const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bounds + (2 * l + 1) * kWidth));
    outside = _mm_or_si128(outside, _mm_cmpgt_epi32(low, point.lanes[l]));
    outside = _mm_or_si128(outside, _mm_cmpgt_epi32(point.lanes[l], high));
  }
  return ~static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(outside))) & 0xfu;
#else
  uint32_t matches = (1u << kWidth) - 1;
  for (uint32_t l = 0; l < lane_count; ++l) {
    for (uint32_t k = 0; k < kWidth; ++k) {
      const int32_t low = static_cast<int32_t>(bounds[2 * l * kWidth + k]);
      const int32_t high = static_cast<int32_t>(bounds[(2 * l + 1) * kWidth + k]);
      if (point.lanes[l] < low || point.lanes[l] > high) matches &= ~(1u << k);
    }
  }
  return matches;
#endif
}

// Values below the window wrap around to large differences, so one min() sends both sides of the
// window to the outside child.
inline uint32_t child_slot(const DecisionForest::Node& node, const PointKey& point) {
  const uint32_t slice = (point.value[node.dim] - node.offset) >> node.shift;
  return slice < node.count ? slice : node.count;
}

}  // namespace

// Searches a leaf for a box better than `best`; returns the new best. Blocks are in priority
// order and so are the boxes inside a block, so the first block with a match decides.
inline int32_t DecisionForest::search_leaf(const Leaf& leaf, const LeafPoint* point, int32_t best,
                                           uint32_t& visited) const {
  const LanePoint& lanes = *static_cast<const LanePoint*>(point);
  const std::size_t stride = block_stride();
  const uint32_t end = leaf.first_block + (leaf.entry_count + kWidth - 1) / kWidth;
  uint32_t remaining = leaf.entry_count;
  for (uint32_t b = leaf.first_block; b < end; ++b) {
    const int32_t* priorities = block_priorities_.data() + std::size_t{b} * kWidth;
    if (priorities[0] >= best) break;
    visited += std::min(remaining, kWidth);
    remaining -= std::min(remaining, kWidth);
    const uint32_t matches = block_matches(block_bounds_.data() + b * stride, lanes, lane_count_);
    if (matches != 0) {
      const int32_t priority = priorities[__builtin_ctz(matches)];  // padding never matches: INT32_MAX
      return std::min(priority, best);
    }
  }
  return best;
}

int32_t DecisionForest::classify(const PointKey& point, uint32_t& steps) const {
  LanePoint lanes;
  load_lanes(point, lane_dims_, lane_count_, lanes);
  int32_t best = kNoMatch;
  uint32_t visited = 0;
  if (trees_.size() > 1 && trees_.size() <= kMaxInterleavedTrees) {
    // A separated forest: the walks of the trees are independent, so they advance one level per
    // round together and their loads overlap (a walk is a chain of dependent loads; one after the
    // other, the trees' chains added up). Leaves are then searched in tree order with the same
    // priority pruning as below; the walks of trees pruned there were wasted but cheap, and are
    // not counted as steps, so steps equal the sequential walk's.
    uint32_t refs[kMaxInterleavedTrees];
    uint32_t depth[kMaxInterleavedTrees];
    const std::size_t tree_count = trees_.size();
    bool walking = false;
    for (std::size_t t = 0; t < tree_count; ++t) {
      refs[t] = trees_[t].root;
      depth[t] = 0;
      walking |= (refs[t] & kLeafBit) == 0;
    }
    while (walking) {
      walking = false;
      for (std::size_t t = 0; t < tree_count; ++t) {
        if ((refs[t] & kLeafBit) != 0) continue;
        const Node& node = nodes_[refs[t]];
        ++depth[t];
        refs[t] = children_[node.child_base + child_slot(node, point)];
        walking |= (refs[t] & kLeafBit) == 0;
      }
    }
    for (std::size_t t = 0; t < tree_count; ++t) {
      if (trees_[t].best_priority >= best) break;
      visited += depth[t] + 1;
      best = search_leaf(leaves_[refs[t] & ~kLeafBit], &lanes, best, visited);
    }
    steps += visited;
    return best == kNoMatch ? -1 : best;
  }
  for (const Tree& tree : trees_) {
    if (tree.best_priority >= best) break;  // trees are sorted: none left can do better
    uint32_t ref = tree.root;
    while ((ref & kLeafBit) == 0) {
      const Node& node = nodes_[ref];
      ++visited;
      ref = children_[node.child_base + child_slot(node, point)];
    }
    ++visited;
    best = search_leaf(leaves_[ref & ~kLeafBit], &lanes, best, visited);
  }
  steps += visited;
  return best == kNoMatch ? -1 : best;
}

void DecisionForest::classify_batch(std::span<const PointKey> points, std::span<int32_t> results,
                                    uint32_t& steps) const {
  constexpr std::size_t kGroup = 8;
  constexpr uint32_t kPruned = kLeafBit | 0x7fffffffu;
  uint32_t visited = 0;
  for (std::size_t base = 0; base < points.size(); base += kGroup) {
    const std::size_t count = std::min(kGroup, points.size() - base);
    const PointKey* group = points.data() + base;
    LanePoint lanes[kGroup];
    int32_t best[kGroup];
    for (std::size_t j = 0; j < count; ++j) {
      load_lanes(group[j], lane_dims_, lane_count_, lanes[j]);
      best[j] = kNoMatch;
    }
    for (const Tree& tree : trees_) {
      uint32_t refs[kGroup];
      bool walking = false;
      for (std::size_t j = 0; j < count; ++j) {
        refs[j] = tree.best_priority < best[j] ? tree.root : kPruned;
        walking |= (refs[j] & kLeafBit) == 0;
      }
      while (walking) {  // one level of every unfinished walk per round: independent loads overlap
        walking = false;
        for (std::size_t j = 0; j < count; ++j) {
          const uint32_t ref = refs[j];
          if ((ref & kLeafBit) != 0) continue;
          const Node& node = nodes_[ref];
          ++visited;
          refs[j] = children_[node.child_base + child_slot(node, group[j])];
          walking |= (refs[j] & kLeafBit) == 0;
        }
      }
      for (std::size_t j = 0; j < count; ++j) {
        if (refs[j] == kPruned) continue;
        const Leaf& leaf = leaves_[refs[j] & ~kLeafBit];
        __builtin_prefetch(block_bounds_.data() + std::size_t{leaf.first_block} * block_stride());
      }
      for (std::size_t j = 0; j < count; ++j) {
        if (refs[j] == kPruned) continue;
        ++visited;
        best[j] = search_leaf(leaves_[refs[j] & ~kLeafBit], &lanes[j], best[j], visited);
      }
    }
    for (std::size_t j = 0; j < count; ++j) results[base + j] = best[j] == kNoMatch ? -1 : best[j];
  }
  steps += visited;
}

std::size_t DecisionForest::memory_size() const {
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + children_.capacity() * sizeof(uint32_t) +
         leaves_.capacity() * sizeof(Leaf) + block_bounds_.capacity() * sizeof(uint32_t) +
         block_priorities_.capacity() * sizeof(int32_t) + trees_.capacity() * sizeof(Tree);
}

}  // namespace dfw::classifier
