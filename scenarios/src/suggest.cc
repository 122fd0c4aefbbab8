#include "suggest.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace scenarios {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {
std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string closest_match(std::string_view word, std::span<const std::string> candidates) {
  const std::string word_lower = lowered(word);
  // One edit for very short words (where two edits reach almost anything), else a third of the
  // word but at least two, so that "leafs" still finds "leaves".
  const size_t limit = word.size() <= 3 ? 1 : std::max<size_t>(2, word.size() / 3);
  size_t best_distance = std::numeric_limits<size_t>::max();
  std::string best;
  for (const std::string& candidate : candidates) {
    const size_t distance = lowered(candidate) == word_lower ? 0 : edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best_distance <= limit ? best : std::string();
}

std::string suggestion_suffix(std::string_view word, std::span<const std::string> candidates) {
  const std::string best = closest_match(word, candidates);
  if (!best.empty()) return " (did you mean '" + best + "'?)";
  if (candidates.empty()) return "";
  constexpr size_t kListed = 12;
  std::string out = " (expected one of: ";
  for (size_t i = 0; i < candidates.size() && i < kListed; ++i) {
    if (i > 0) out += ", ";
    out += candidates[i];
  }
  if (candidates.size() > kListed) out += ", ... (" + std::to_string(candidates.size()) + " in all)";
  return out + ")";
}

}  // namespace scenarios
