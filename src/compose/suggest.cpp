#include "compose/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace fleet::compose {
namespace {

// Edits (insert, delete, replace, swap two neighbours: "imgae") turning a into b, case ignored.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
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
