#pragma once
// DecisionForest: the packet classifier behind every compiled rule table.
//
// Algorithm (docs/classifier.md has the reasoning and the measurements). HiCuts-style decision
// trees over the 12 dimensions of match_box.h: an internal node cuts an aligned window of its
// region along one dimension into 2^k equal slices, plus one "outside" child for the rest of the
// region (HyperCuts' region compaction), so a lookup step is a subtract, a shift and a min; a leaf holds at
// most `leaf_rule_limit` boxes in priority order, stored in blocks of kBlockWidth boxes dimension
// by dimension, so that one SIMD pass compares the packet with a whole block without a branch per
// box and the lowest set bit of the result is the first match. While
// building, a box that covers a node's whole region hides every lower-priority box there, so those
// are dropped; identical leaves are stored once.
//
// Memory is bounded: the build has a byte budget linear in the number of boxes. A rule set whose
// single tree would exceed it is separated EffiCuts-style by the largeness of its fields (addresses,
// then destination ports, then source ports, as long as a group does not fit its share of the
// budget) into several trees; a group that still does not fit raises its leaf size until it does (a
// single leaf always fits, so the build terminates). A lookup walks the trees in order of their best rule and
// stops as soon as no remaining tree can hold a better one (priority pruning); classify() advances the
// walks of a separated forest's trees side by side first, so that their dependent loads overlap.
//
// classify() allocates nothing, takes no locks and is safe to call from many threads.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "classifier/match_box.h"

namespace dfw::classifier {

struct ForestLimits {
  uint32_t leaf_rule_limit = 16;   // "binth": a node with at most this many boxes is a leaf
  uint32_t space_factor = 4;       // a cut may replicate boxes up to this factor ("spfac")
  uint32_t max_cuts = 64;          // children per internal node
  std::size_t budget_base_size = 256 * 1024;  // bytes
  std::size_t budget_size_per_box = 1024;     // bytes
};

struct ForestStats {
  uint32_t tree_count = 0;
  uint32_t node_count = 0;
  uint32_t leaf_count = 0;
  uint32_t leaf_entry_count = 0;  // boxes stored in leaves, replication included
  uint32_t max_depth = 0;
  uint32_t max_leaf_size = 0;
  bool separated = false;         // the single-tree build exceeded its budget
};

class DecisionForest {
 public:
  // `boxes[i]` belongs to the rule of priority `priorities[i]` (lower is better; ties allowed).
  static std::unique_ptr<DecisionForest> build(std::span<const MatchBox> boxes,
                                               std::span<const int32_t> priorities,
                                               const ForestLimits& limits = {});

  // The best (lowest) priority among the boxes containing `point`, or -1. Adds nodes visited and
  // boxes compared to `steps`.
  int32_t classify(const PointKey& point, uint32_t& steps) const;

  // The same for many points at once, `results[i]` for `points[i]`: the tree walks of a group of
  // points are interleaved so that their memory accesses overlap (as rte_acl does with its
  // batches). Same answers and the same step count as classify() point by point.
  void classify_batch(std::span<const PointKey> points, std::span<int32_t> results, uint32_t& steps) const;

  std::size_t memory_size() const;
  const ForestStats& stats() const { return stats_; }

  // Storage, public for the builder (forest_builder.cc) only.
  static constexpr uint32_t kLeafBit = 0x80000000u;
  static constexpr int kLaneCount = 12;  // at most this many dims compared in leaves
  // Separation makes at most 4 x 2 x 2 = 16 trees (forest_builder.cc); classify() walks up to
  // this many side by side.
  static constexpr std::size_t kMaxInterleavedTrees = 16;
#if defined(__AVX2__)
  static constexpr uint32_t kBlockWidth = 8;
#else
  static constexpr uint32_t kBlockWidth = 4;
#endif
  // Child i < count of a node holds the values [offset + i << shift, offset + (i+1) << shift)
  // along `dim`; child `count` holds the rest of the node's region.
  struct Node {
    uint32_t child_base;  // index into children_ of count + 1 children
    uint32_t count;       // slices of the window, a power of two
    uint32_t offset;      // start of the window
    uint8_t dim;
    uint8_t shift;
  };
  struct Leaf {
    uint32_t first_block;
    uint32_t entry_count;  // blocks: ceil(entry_count / kBlockWidth)
  };
  struct Tree {
    uint32_t root;        // node index, or kLeafBit | leaf index
    int32_t best_priority;
  };
  std::vector<Node> nodes_;
  std::vector<uint32_t> children_;
  std::vector<Leaf> leaves_;
  // Leaf blocks: per compared dim, kBlockWidth lows then kBlockWidth highs, biased (x ^ 0x80000000)
  // so that signed SIMD compares order them as unsigned; and kBlockWidth priorities per block
  // (INT32_MAX where a block is not full).
  std::vector<uint32_t> block_bounds_;
  std::vector<int32_t> block_priorities_;
  std::vector<Tree> trees_;  // by best_priority
  std::array<uint8_t, kLaneCount> lane_dims_{};  // dims compared in leaves
  uint32_t lane_count_ = 0;
  ForestStats stats_;

  using LeafPoint = void;  // the SIMD form of a point, private to decision_forest.cc
  int32_t search_leaf(const Leaf& leaf, const LeafPoint* point, int32_t best, uint32_t& visited) const;
  std::size_t block_stride() const { return std::size_t{lane_count_} * 2 * kBlockWidth; }
};

}  // namespace dfw::classifier
