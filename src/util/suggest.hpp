// "Did you mean": the closest of a set of words to a misspelled one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleet::util {

// Edit distance (insertions, deletions, substitutions, and swaps of neighbours count 1 each).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` when it is close enough to be a likely typo (at most a third of
// the word's letters off, at least 1), else empty.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace fleet::util
