#include "compose/suggest.hpp"

#include <algorithm>

#include "util/suggest.hpp"

namespace fleet::compose {

std::string nearest_key(std::string_view key, const std::vector<std::string_view>& known) {
  std::string_view best;
  std::size_t best_distance = 0;
  for (auto candidate : known) {
    std::size_t d = util::edit_distance(key, candidate);
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
