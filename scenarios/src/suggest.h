#pragma once
// "Did you mean ...?" for misspelled keys and names.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scenarios {

// Levenshtein distance (insertions, deletions, substitutions), comparing bytes.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo (one edit for
// words of up to 3 characters, else up to max(2, length / 3) edits; a case-only difference
// always counts).
// Returns an empty string when nothing is close.
std::string closest_match(std::string_view word, std::span<const std::string> candidates);

// " (did you mean 'x'?)" or, when nothing is close, " (expected one of: a, b, c)"; the list is
// shortened for long candidate sets.
std::string suggestion_suffix(std::string_view word, std::span<const std::string> candidates);

}  // namespace scenarios
