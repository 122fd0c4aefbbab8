#include "classifier/decision_forest.h"

#include <algorithm>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dfw::classifier {

namespace {

constexpr int32_t kNoMatch = std::numeric_limits<int32_t>::max();

#if defined(__SSE2__)
// True when every lane satisfies low <= point <= high (all values biased to signed order).
inline bool entry_matches(const uint32_t* bounds, const __m128i* point, uint32_t vector_count) {
  __m128i outside = _mm_setzero_si128();
  const __m128i* low = reinterpret_cast<const __m128i*>(bounds);
  const __m128i* high = low + vector_count;
  for (uint32_t v = 0; v < vector_count; ++v) {
    outside = _mm_or_si128(outside, _mm_cmpgt_epi32(_mm_loadu_si128(low + v), point[v]));
    outside = _mm_or_si128(outside, _mm_cmpgt_epi32(point[v], _mm_loadu_si128(high + v)));
  }
  return _mm_movemask_epi8(outside) == 0;
}
#else
inline bool entry_matches(const uint32_t* bounds, const int32_t* point, uint32_t vector_count) {
  const uint32_t lanes = 4 * vector_count;
  for (uint32_t i = 0; i < lanes; ++i) {
    const int32_t low = static_cast<int32_t>(bounds[i]);
    const int32_t high = static_cast<int32_t>(bounds[lanes + i]);
    if (point[i] < low || point[i] > high) return false;
  }
  return true;
}
#endif


#if defined(__SSE2__)
using LanePoint = __m128i[DecisionForest::kLaneCount / 4];
#else
using LanePoint = int32_t[DecisionForest::kLaneCount];
#endif

// The leaf-compare lanes of a point; unused lanes are 0 and bounded by [0, 0] in the entries.
inline void load_lanes(const PointKey& point, const std::array<uint8_t, DecisionForest::kLaneCount>& dims,
                       uint32_t lane_count, LanePoint& out) {
  alignas(16) int32_t lanes[DecisionForest::kLaneCount];
  for (uint32_t i = 0; i < lane_count; ++i) lanes[i] = static_cast<int32_t>(point.value[dims[i]] ^ 0x80000000u);
  for (uint32_t i = lane_count; i < DecisionForest::kLaneCount; ++i) lanes[i] = static_cast<int32_t>(0x80000000u);
#if defined(__SSE2__)
  for (int v = 0; v < DecisionForest::kLaneCount / 4; ++v) {
    out[v] = _mm_load_si128(reinterpret_cast<const __m128i*>(lanes) + v);
  }
#else
  for (int i = 0; i < DecisionForest::kLaneCount; ++i) out[i] = lanes[i];
#endif
}

// Values below the window wrap around to large differences, so one min() sends both sides of the
// window to the outside child.
inline uint32_t child_slot(const DecisionForest::Node& node, const PointKey& point) {
  const uint32_t slice = (point.value[node.dim] - node.offset) >> node.shift;
  return slice < node.count ? slice : node.count;
}

}  // namespace

int32_t DecisionForest::classify(const PointKey& point, uint32_t& steps) const {
  LanePoint lane_point;
  load_lanes(point, lane_dims_, lane_count_, lane_point);
  const uint32_t stride = entry_stride();
  int32_t best = kNoMatch;
  uint32_t visited = 0;
  for (const Tree& tree : trees_) {
    if (tree.best_priority >= best) break;  // trees are sorted: none left can do better
    uint32_t ref = tree.root;
    while ((ref & kLeafBit) == 0) {
      const Node& node = nodes_[ref];
      ++visited;
      ref = children_[node.child_base + child_slot(node, point)];
    }
    const Leaf& leaf = leaves_[ref & ~kLeafBit];
    ++visited;
    const uint32_t end = leaf.first_entry + leaf.entry_count;
    for (uint32_t e = leaf.first_entry; e < end; ++e) {
      const int32_t priority = entry_priorities_[e];
      if (priority >= best) break;  // entries are in priority order
      ++visited;
      if (entry_matches(entry_bounds_.data() + std::size_t{e} * stride, lane_point, vector_count_)) {
        best = priority;
        break;
      }
    }
  }
  steps += visited;
  return best == kNoMatch ? -1 : best;
}

void DecisionForest::classify_batch(std::span<const PointKey> points, std::span<int32_t> results,
                                    uint32_t& steps) const {
  constexpr std::size_t kGroup = 8;
  constexpr uint32_t kPruned = kLeafBit | 0x7fffffffu;
  const uint32_t stride = entry_stride();
  uint32_t visited = 0;
  for (std::size_t base = 0; base < points.size(); base += kGroup) {
    const std::size_t count = std::min(kGroup, points.size() - base);
    const PointKey* group = points.data() + base;
    LanePoint lane_points[kGroup];
    int32_t best[kGroup];
    for (std::size_t j = 0; j < count; ++j) {
      load_lanes(group[j], lane_dims_, lane_count_, lane_points[j]);
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
        __builtin_prefetch(entry_bounds_.data() + std::size_t{leaf.first_entry} * stride);
      }
      for (std::size_t j = 0; j < count; ++j) {
        if (refs[j] == kPruned) continue;
        const Leaf& leaf = leaves_[refs[j] & ~kLeafBit];
        ++visited;
        const uint32_t end = leaf.first_entry + leaf.entry_count;
        for (uint32_t e = leaf.first_entry; e < end; ++e) {
          const int32_t priority = entry_priorities_[e];
          if (priority >= best[j]) break;
          ++visited;
          if (entry_matches(entry_bounds_.data() + std::size_t{e} * stride, lane_points[j], vector_count_)) {
            best[j] = priority;
            break;
          }
        }
      }
    }
    for (std::size_t j = 0; j < count; ++j) results[base + j] = best[j] == kNoMatch ? -1 : best[j];
  }
  steps += visited;
}

std::size_t DecisionForest::memory_size() const {
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + children_.capacity() * sizeof(uint32_t) +
         leaves_.capacity() * sizeof(Leaf) + entry_bounds_.capacity() * sizeof(uint32_t) +
         entry_priorities_.capacity() * sizeof(int32_t) + trees_.capacity() * sizeof(Tree);
}

}  // namespace dfw::classifier
