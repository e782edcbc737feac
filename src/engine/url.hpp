// Request targets: percent-encoding, query strings and the engine's JSON `filters` parameter.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleet::engine {

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view text);

// Engine list filters, e.g. {"label": ["a=b", "c"], "status": ["paused"]}.
using Filters = std::map<std::string, std::vector<std::string>>;
// The JSON the engine wants for `filters` ({"label":{"a=b":true}} is the legacy form; lists work on 1.41+).
std::string filters_json(const Filters& filters);

class Query {
 public:
  Query& add(std::string_view key, std::string_view value);
  Query& add(std::string_view key, long long value);
  Query& flag(std::string_view key, bool value);  // "1" / "0", as the engine reads booleans
  Query& filters(const Filters& filters);         // added only when non-empty
  std::string str() const;                        // "" or "?k=v&..."
  bool empty() const { return params_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace fleet::engine
