#pragma once
// DecisionForest: the packet classifier behind every compiled rule table.
//
// Algorithm (docs/classifier.md has the reasoning and the measurements). HiCuts-style decision
// trees over the 12 dimensions of match_box.h: an internal node cuts an aligned window of its
// region along one dimension into 2^k equal slices, plus one "outside" child for the rest of the
// region (HyperCuts' region compaction), so a lookup step is a subtract, a shift and a min; a leaf holds at
// most `leaf_rule_limit` boxes in priority order and is searched with SIMD range compares. While
// building, a box that covers a node's whole region hides every lower-priority box there, so those
// are dropped; identical leaves are stored once.
//
// Memory is bounded: the build has a byte budget linear in the number of boxes. A rule set whose
// single tree would exceed it is separated EffiCuts-style by the largeness of its address fields
// into up to four trees, each built within its share of the budget (raising its leaf size until it
// fits, so the build always terminates). A lookup walks the trees in order of their best rule and
// stops as soon as no remaining tree can hold a better one (priority pruning).
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
  uint32_t leaf_rule_limit = 8;    // "binth": a node with at most this many boxes is a leaf
  uint32_t space_factor = 4;       // a cut may replicate boxes up to this factor ("spfac")
  uint32_t max_cuts = 64;          // children per internal node
  std::size_t budget_base_size = 256 * 1024;  // bytes
  std::size_t budget_size_per_box = 512;      // bytes
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
  static constexpr int kLaneCount = 12;  // dims compared in leaves, padded to whole vectors
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
    uint32_t first_entry;
    uint32_t entry_count;
  };
  struct Tree {
    uint32_t root;        // node index, or kLeafBit | leaf index
    int32_t best_priority;
  };
  std::vector<Node> nodes_;
  std::vector<uint32_t> children_;
  std::vector<Leaf> leaves_;
  // Leaf entries: `vector_count_` low vectors then as many high vectors of 4 lanes each, biased
  // (x ^ 0x80000000) so that signed SIMD compares order them as unsigned.
  std::vector<uint32_t> entry_bounds_;
  std::vector<int32_t> entry_priorities_;
  std::vector<Tree> trees_;  // by best_priority
  std::array<uint8_t, kLaneCount> lane_dims_{};  // dims compared in leaves
  uint32_t lane_count_ = 0;
  uint32_t vector_count_ = 1;  // ceil(lane_count_ / 4), at least 1
  ForestStats stats_;

  uint32_t entry_stride() const { return vector_count_ * 8; }
};

}  // namespace dfw::classifier
