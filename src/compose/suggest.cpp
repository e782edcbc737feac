#include "compose/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace fleet::compose {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string nearest_key(std::string_view key, const std::vector<std::string_view>& known) {
  std::string_view best;
  std::size_t best_distance = 0;
  for (auto candidate : known) {
    std::size_t d = edit_distance(key, candidate);
    if (best.empty() || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // A typo changes a few letters: at most 2, and at most a third of the word.
  if (best.empty() || best_distance == 0 || best_distance > 2 ||
      best_distance * 3 > std::max(key.size(), best.size()))
    return "";
  return std::string(best);
}

std::string unknown_key_message(std::string_view key, const std::vector<std::string_view>& known,
                                bool list_known) {
  if (auto near = nearest_key(key, known); !near.empty()) return "unknown key; did you mean " + near + "?";
  if (!list_known) return "unknown key";
  std::string list;
  for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
  return "unknown key (" + list + " are)";
}

}  // namespace fleet::compose
