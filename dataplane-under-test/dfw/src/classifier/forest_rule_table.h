#pragma once
// ForestRuleTable: the RuleTable that compile_rules() returns, a DecisionForest over the boxes of
// the flattened rules. Also built directly from boxes for formats that are already geometric
// (ClassBench filter sets, see classbench.h).

#include <memory>
#include <span>
#include <vector>

#include "classifier/decision_forest.h"
#include "classifier/match_box.h"
#include "rule_table.h"

namespace dfw::classifier {

class ForestRuleTable final : public RuleTable {
 public:
  struct Contents {
    std::vector<CompiledRule> rules;      // flattened, in priority order
    std::vector<MatchBox> boxes;          // every box of every rule
    std::vector<int32_t> rule_of_box;     // index into rules, per box
    Action default_action = Action::kDrop;
    uint64_t version = 0;
    bool reevaluate_connections = false;
  };

  ForestRuleTable(Contents contents, const ForestLimits& limits);

  int32_t classify(const FlowKey& key, uint32_t& steps) const override {
    return forest_->classify(point_from_flow(key), steps);
  }
  int32_t classify_point(const PointKey& point, uint32_t& steps) const {
    return forest_->classify(point, steps);
  }
  // Many points at once (see DecisionForest::classify_batch); for callers that hold a batch.
  void classify_batch(std::span<const PointKey> points, std::span<int32_t> results, uint32_t& steps) const {
    forest_->classify_batch(points, results, steps);
  }
  std::size_t memory_size() const override;

  const DecisionForest& forest() const { return *forest_; }
  std::size_t box_count() const { return box_count_; }

 private:
  std::unique_ptr<DecisionForest> forest_;
  std::size_t box_count_ = 0;
};

using ForestRuleTablePtr = std::shared_ptr<const ForestRuleTable>;

// Most boxes (source x destination prefix pairs, over all rules) one table may expand to.
inline constexpr std::size_t kMaxBoxCount = std::size_t{1} << 21;

}  // namespace dfw::classifier
