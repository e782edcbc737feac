// "did you mean ...?" for a key the compose file misspelled: the nearest known key by edit distance
// (util/suggest.hpp), with the message the loader gives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleet::compose {

// The known key closest to `key` when it is close enough to be a likely typo, else "".
std::string nearest_key(std::string_view key, const std::vector<std::string_view>& known);

// "unknown key; did you mean mem_limit?" or "unknown key (a, b, c are)" when nothing is close.
std::string unknown_key_message(std::string_view key, const std::vector<std::string_view>& known,
                                bool list_known = true);

}  // namespace fleet::compose
