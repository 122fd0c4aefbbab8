// Building a DecisionForest (see decision_forest.h for the algorithm and its memory bound).

#include <algorithm>
#include <bit>
#include <limits>
#include <map>
#include <numeric>

#include "classifier/decision_forest.h"

namespace dfw::classifier {

namespace {

struct Region {
  std::array<uint32_t, kDimCount> low{};
  std::array<uint32_t, kDimCount> high = kDimMax;
};

// A cut of a node: the aligned window [window_low, window_low + 2^window_bits) of the region along
// `dim` in `count` slices, and, when the window is smaller than the region, an outside child.
struct Cut {
  uint8_t dim = 0;
  uint8_t shift = 0;
  uint32_t count = 0;  // 0: no cut
  uint32_t window_low = 0;
  uint32_t window_bits = 0;
  bool outside = false;
  uint32_t max_child_size = 0;
  uint64_t total_child_size = 0;
};

bool covers(const MatchBox& box, const Region& region) {
  for (int d = 0; d < kDimCount; ++d) {
    if (box.low[d] > region.low[d] || box.high[d] < region.high[d]) return false;
  }
  return true;
}

bool spans_region(const MatchBox& box, const Region& region, uint8_t dim) {
  return box.low[dim] <= region.low[dim] && box.high[dim] >= region.high[dim];
}

// The slices [first, last] of a cut that a box overlaps; the box meets the window.
inline void slice_span(const MatchBox& box, const Cut& cut, uint32_t& first, uint32_t& last) {
  const uint32_t window_high = cut.window_low + static_cast<uint32_t>((uint64_t{1} << cut.window_bits) - 1);
  const uint32_t low = std::max(box.low[cut.dim], cut.window_low) - cut.window_low;
  const uint32_t high = std::min(box.high[cut.dim], window_high) - cut.window_low;
  first = low >> cut.shift;
  last = high >> cut.shift;
}

// Builds one tree into a forest's shared arrays, within a byte budget. On exhaustion the build
// stops early and the caller rolls the arrays back.
class TreeBuilder {
 public:
  TreeBuilder(DecisionForest& forest, std::span<const MatchBox> boxes,
              std::span<const int32_t> priorities, const ForestLimits& limits,
              uint32_t leaf_rule_limit, std::size_t budget)
      : forest_(forest), boxes_(boxes), priorities_(priorities), limits_(limits),
        leaf_rule_limit_(leaf_rule_limit), budget_(budget), start_size_(used_size()) {}

  // False when the budget ran out.
  bool build(std::vector<uint32_t> ids, uint32_t& root) {
    root = build_node(Region{}, ids, 0);
    return !over_budget_;
  }

 private:
  std::size_t used_size() const {
    return forest_.nodes_.size() * sizeof(DecisionForest::Node) +
           forest_.children_.size() * sizeof(uint32_t) +
           forest_.leaves_.size() * sizeof(DecisionForest::Leaf) +
           forest_.block_bounds_.size() * sizeof(uint32_t) +
           forest_.block_priorities_.size() * sizeof(int32_t);
  }

  bool check_budget() {
    if (used_size() - start_size_ > budget_) over_budget_ = true;
    return !over_budget_;
  }

  uint32_t build_node(const Region& region, std::vector<uint32_t>& ids, uint32_t depth) {
    if (!check_budget()) return DecisionForest::kLeafBit;
    forest_.stats_.max_depth = std::max(forest_.stats_.max_depth, depth);
    // A box covering the whole region decides every packet here before any later box can.
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (covers(boxes_[ids[i]], region)) {
        ids.resize(i + 1);
        break;
      }
    }
    Cut cut;
    if (ids.size() <= leaf_rule_limit_ || !choose_cut(region, ids, cut)) return make_leaf(ids);

    // Slices 0..count-1 inside the window, then the outside child (boxes spanning the region).
    std::vector<std::vector<uint32_t>> slices(cut.count + 1);
    for (uint32_t id : ids) {
      if (cut.outside && spans_region(boxes_[id], region, cut.dim)) slices[cut.count].push_back(id);
      uint32_t first, last;
      slice_span(boxes_[id], cut, first, last);
      for (uint32_t s = first; s <= last; ++s) slices[s].push_back(id);  // every box meets the window
    }
    const uint32_t node_index = static_cast<uint32_t>(forest_.nodes_.size());
    const uint32_t child_base = static_cast<uint32_t>(forest_.children_.size());
    forest_.nodes_.push_back({child_base, cut.count, cut.window_low, cut.dim, cut.shift});
    forest_.children_.resize(child_base + cut.count + 1, DecisionForest::kLeafBit);
    ++forest_.stats_.node_count;
    const uint32_t children = cut.outside ? cut.count + 1 : cut.count;
    for (uint32_t s = 0; s < children; ++s) {
      Region child = region;  // the outside child keeps the region: a superset of its points
      if (s < cut.count) {
        child.low[cut.dim] = cut.window_low + (s << cut.shift);
        child.high[cut.dim] = child.low[cut.dim] + static_cast<uint32_t>((uint64_t{1} << cut.shift) - 1);
      }
      const uint32_t ref = build_node(child, slices[s], depth + 1);
      if (over_budget_) return DecisionForest::kLeafBit;
      forest_.children_[child_base + s] = ref;
      std::vector<uint32_t>().swap(slices[s]);
    }
    if (!cut.outside) forest_.children_[child_base + cut.count] = forest_.children_[child_base];  // unreachable
    return node_index;
  }

  // The most cuts along `dim` whose replication stays within the space factor, over the window
  // that holds every box not spanning the region along `dim`. No cut if every box spans it.
  Cut widest_cut(const Region& region, const std::vector<uint32_t>& ids, uint8_t d, uint32_t max_bits = 32) {
    const uint32_t n = static_cast<uint32_t>(ids.size());
    uint32_t low = 0xffffffffu, high = 0, spanning = 0;
    for (uint32_t id : ids) {
      const MatchBox& box = boxes_[id];
      if (spans_region(box, region, d)) {
        ++spanning;
        continue;
      }
      low = std::min(low, std::max(box.low[d], region.low[d]));
      high = std::max(high, std::min(box.high[d], region.high[d]));
    }
    Cut widest;
    if (spanning == n) return widest;
    const uint32_t region_bits = static_cast<uint32_t>(std::countr_zero(uint64_t{region.high[d]} - region.low[d] + 1));
    const uint32_t window_bits = low == high ? 0u : static_cast<uint32_t>(32 - std::countl_zero(low ^ high));
    const uint32_t window_low = window_bits >= 32 ? 0u : low & ~((uint32_t{1} << window_bits) - 1);
    const bool outside = window_bits < region_bits;
    const uint32_t max_cut_bits = std::min(max_bits, static_cast<uint32_t>(std::countr_zero(limits_.max_cuts)));
    const uint32_t first_bits = outside ? 0 : 1;  // without an outside child, at least halves
    const uint32_t last_bits = std::max(first_bits, std::min(max_cut_bits, window_bits));
    for (uint32_t bits = first_bits; bits <= last_bits; ++bits) {
      Cut cut;
      cut.dim = d;
      cut.count = uint32_t{1} << bits;
      cut.shift = static_cast<uint8_t>(window_bits - bits);
      cut.window_low = window_low;
      cut.window_bits = window_bits;
      cut.outside = outside;
      diff_.assign(cut.count + 1, 0);
      uint64_t total = outside ? spanning : 0;
      for (uint32_t id : ids) {
        uint32_t first, last;
        slice_span(boxes_[id], cut, first, last);
        total += last - first + 1;
        ++diff_[first];
        --diff_[last + 1];
      }
      if (bits > 1 && total + cut.count > uint64_t{limits_.space_factor} * n) break;
      int32_t running = 0, largest = outside ? static_cast<int32_t>(spanning) : 0;
      for (uint32_t s = 0; s < cut.count; ++s) {
        running += diff_[s];
        largest = std::max(largest, running);
      }
      cut.max_child_size = static_cast<uint32_t>(largest);
      cut.total_child_size = total;
      widest = cut;
    }
    return widest;
  }

  // How many different extents the boxes have along `dim` inside the region.
  std::size_t distinct_extents(const Region& region, const std::vector<uint32_t>& ids, uint8_t d) {
    extents_.clear();
    for (uint32_t id : ids) {
      extents_.push_back({std::max(boxes_[id].low[d], region.low[d]), std::min(boxes_[id].high[d], region.high[d])});
    }
    std::sort(extents_.begin(), extents_.end());
    return static_cast<std::size_t>(std::unique(extents_.begin(), extents_.end()) - extents_.begin());
  }

  // HiCuts' choice, per dimension the most cuts the space factor allows. Preferred: the cut whose
  // largest slice holds the fewest boxes. When every cut leaves some slice with all the boxes (they
  // nest around a small spot), a "zoom" cut along the dimension with the most distinct extents
  // narrows that slice's region, so later cuts (or the covering rule) separate them. False when the
  // boxes are indistinguishable inside the region.
  bool choose_cut(const Region& region, const std::vector<uint32_t>& ids, Cut& best) {
    const uint32_t n = static_cast<uint32_t>(ids.size());
    bool found = false;
    for (uint8_t d = 0; d < kDimCount; ++d) {
      if (region.low[d] == region.high[d]) continue;
      const Cut cut = widest_cut(region, ids, d);
      if (cut.count == 0 || cut.max_child_size >= n) continue;
      if (!found || cut.max_child_size < best.max_child_size ||
          (cut.max_child_size == best.max_child_size &&
           cut.total_child_size * best.count < best.total_child_size * cut.count)) {
        best = cut;
        found = true;
      }
    }
    if (found) return true;
    std::size_t most_extents = 1;
    for (uint8_t d = 0; d < kDimCount; ++d) {
      if (region.low[d] == region.high[d]) continue;
      const std::size_t extents = distinct_extents(region, ids, d);
      if (extents > most_extents) {
        // The narrowest zoom: the window alone (plus outside), or halves. Wider zooms would copy
        // the boxes that overlap everywhere into every slice, level after level.
        const Cut cut = widest_cut(region, ids, d, 0);
        if (cut.count == 0) continue;
        most_extents = extents;
        best = cut;
        found = true;
      }
    }
    return found;
  }

  uint32_t make_leaf(const std::vector<uint32_t>& ids) {
    auto [it, inserted] = leaf_index_.try_emplace(ids, static_cast<uint32_t>(forest_.leaves_.size()));
    if (!inserted) return DecisionForest::kLeafBit | it->second;
    constexpr uint32_t kWidth = DecisionForest::kBlockWidth;
    const uint32_t first_block = static_cast<uint32_t>(forest_.block_priorities_.size() / kWidth);
    const std::size_t stride = forest_.block_stride();
    for (std::size_t start = 0; start < ids.size(); start += kWidth) {
      const std::size_t at = forest_.block_bounds_.size();
      forest_.block_bounds_.resize(at + stride, 0x80000000u);
      const std::size_t priorities_at = forest_.block_priorities_.size();
      forest_.block_priorities_.resize(priorities_at + kWidth, std::numeric_limits<int32_t>::max());
      for (std::size_t k = 0; k < kWidth && start + k < ids.size(); ++k) {
        const MatchBox& box = boxes_[ids[start + k]];
        for (uint32_t lane = 0; lane < forest_.lane_count_; ++lane) {
          const uint8_t d = forest_.lane_dims_[lane];
          forest_.block_bounds_[at + (2 * lane) * kWidth + k] = box.low[d] ^ 0x80000000u;
          forest_.block_bounds_[at + (2 * lane + 1) * kWidth + k] = box.high[d] ^ 0x80000000u;
        }
        forest_.block_priorities_[priorities_at + k] = priorities_[ids[start + k]];
      }
    }
    const uint32_t first = first_block;
    forest_.leaves_.push_back({first, static_cast<uint32_t>(ids.size())});
    forest_.stats_.leaf_count++;
    forest_.stats_.leaf_entry_count += static_cast<uint32_t>(ids.size());
    forest_.stats_.max_leaf_size = std::max(forest_.stats_.max_leaf_size, static_cast<uint32_t>(ids.size()));
    return DecisionForest::kLeafBit | it->second;
  }

  DecisionForest& forest_;
  std::span<const MatchBox> boxes_;
  std::span<const int32_t> priorities_;
  const ForestLimits& limits_;
  uint32_t leaf_rule_limit_;
  std::size_t budget_;
  std::size_t start_size_;
  bool over_budget_ = false;
  std::vector<int32_t> diff_;
  std::vector<std::pair<uint32_t, uint32_t>> extents_;
  std::map<std::vector<uint32_t>, uint32_t> leaf_index_;
};

// EffiCuts' separation criteria, applied one after the other to a group that does not fit its
// budget: first the addresses (a source or destination is "large" when it spans at least 2^24
// addresses of its family: IPv4 /8 or shorter, IPv6 /8 or shorter), then the destination ports,
// then the source ports (large: at least half of the range). Returns the part (0..3) of a box.
constexpr int kSeparationSteps = 3;
constexpr std::size_t kSeparateAtOnceBoxes = 4096;

uint32_t separation_part(const MatchBox& box, int step) {
  auto large_address = [&](int first) {
    const bool mapped_v4 = box.low[first] == box.high[first] && box.low[first + 1] == box.high[first + 1] &&
                           box.low[first + 2] == box.high[first + 2];
    const int word = mapped_v4 ? first + 3 : first;
    return box.high[word] - box.low[word] >= 0x00ffffffu;
  };
  auto large_range = [&](int d) { return box.high[d] - box.low[d] >= kDimMax[d] / 2; };
  switch (step) {
    case 0: return (large_address(kSource0) ? 1u : 0u) | (large_address(kDestination0) ? 2u : 0u);
    case 1: return large_range(kL4Destination) ? 1u : 0u;
    default: return large_range(kL4Source) ? 1u : 0u;
  }
}

struct ArrayMarks {
  std::size_t nodes, children, leaves, bounds, priorities;
  ForestStats stats;
};

ArrayMarks mark(const DecisionForest& f) {
  return {f.nodes_.size(), f.children_.size(), f.leaves_.size(), f.block_bounds_.size(),
          f.block_priorities_.size(), f.stats_};
}

void roll_back(DecisionForest& f, const ArrayMarks& m) {
  f.nodes_.resize(m.nodes);
  f.children_.resize(m.children);
  f.leaves_.resize(m.leaves);
  f.block_bounds_.resize(m.bounds);
  f.block_priorities_.resize(m.priorities);
  f.stats_ = m.stats;
}

// Builds `group` as one tree within its share of the budget; if it does not fit, splits it by the
// next separation criterion and recurses; with no criterion left, raises the leaf size until the
// tree fits (a single leaf always does, so this ends).
void build_separated(DecisionForest& f, std::span<const MatchBox> boxes, std::span<const int32_t> priorities,
                     const ForestLimits& limits, std::size_t budget, std::size_t entry_size,
                     const std::vector<uint32_t>& group, int step, bool try_whole = true) {
  // The group's share of the budget, never less than one flat leaf of all its boxes.
  const std::size_t share = std::max(budget * group.size() / boxes.size(), entry_size * group.size() + 4096);
  uint32_t root = 0;
  if (try_whole) {
    const ArrayMarks before = mark(f);
    if (TreeBuilder(f, boxes, priorities, limits, limits.leaf_rule_limit, share).build(group, root)) {
      f.trees_.push_back({root, priorities[group.front()]});
      return;
    }
    roll_back(f, before);
  }
  for (; step < kSeparationSteps; ++step) {
    std::array<std::vector<uint32_t>, 4> parts;
    for (uint32_t id : group) parts[separation_part(boxes[id], step)].push_back(id);
    const auto nonempty = std::count_if(parts.begin(), parts.end(), [](const auto& p) { return !p.empty(); });
    if (nonempty < 2) continue;  // this criterion does not split the group
    for (const auto& part : parts) {
      if (!part.empty()) build_separated(f, boxes, priorities, limits, budget, entry_size, part, step + 1);
    }
    return;
  }
  for (uint32_t leaf_limit = limits.leaf_rule_limit * 2;; leaf_limit *= 2) {
    const ArrayMarks retry = mark(f);
    if (TreeBuilder(f, boxes, priorities, limits, leaf_limit, share).build(group, root)) break;
    roll_back(f, retry);
  }
  f.trees_.push_back({root, priorities[group.front()]});
}

}  // namespace

std::unique_ptr<DecisionForest> DecisionForest::build(std::span<const MatchBox> boxes,
                                                      std::span<const int32_t> priorities,
                                                      const ForestLimits& limits) {
  auto forest = std::make_unique<DecisionForest>();
  DecisionForest& f = *forest;
  // Leaves compare only the dimensions some box constrains.
  for (uint8_t d = 0; d < kDimCount; ++d) {
    const bool constrained = std::any_of(boxes.begin(), boxes.end(), [&](const MatchBox& b) {
      return b.low[d] != 0 || b.high[d] != kDimMax[d];
    });
    if (constrained) f.lane_dims_[f.lane_count_++] = d;
  }
  if (boxes.empty()) return forest;

  std::vector<uint32_t> ids(boxes.size());
  std::iota(ids.begin(), ids.end(), 0u);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](uint32_t a, uint32_t b) { return priorities[a] < priorities[b]; });
  // Bytes per box in a leaf, counting a whole block for each.
  const std::size_t entry_size = (f.block_stride() + DecisionForest::kBlockWidth) * 4;
  const std::size_t budget = limits.budget_base_size + limits.budget_size_per_box * boxes.size();

  // Large sets nearly never fit one tree (their wide rules replicate into every part), so they
  // are separated at once instead of after a failed attempt.
  build_separated(f, boxes, priorities, limits, budget, entry_size, ids, 0, boxes.size() <= kSeparateAtOnceBoxes);
  std::sort(f.trees_.begin(), f.trees_.end(),
            [](const Tree& a, const Tree& b) { return a.best_priority < b.best_priority; });
  f.stats_.separated = f.trees_.size() > 1;
  f.stats_.tree_count = static_cast<uint32_t>(f.trees_.size());
  f.nodes_.shrink_to_fit();
  f.children_.shrink_to_fit();
  f.leaves_.shrink_to_fit();
  f.block_bounds_.shrink_to_fit();
  f.block_priorities_.shrink_to_fit();
  return forest;
}

}  // namespace dfw::classifier
