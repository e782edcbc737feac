// Engine API versions and their negotiation through GET /_ping.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::engine {

struct ApiVersion {
  int major = 1;
  int minor = 41;
  // "1.41" -> {1, 41}; nullopt when malformed.
  static std::optional<ApiVersion> parse(std::string_view text);
  std::string str() const;
  auto operator<=>(const ApiVersion&) const = default;
};

inline constexpr ApiVersion kMinimumApiVersion{1, 41};  // Debian 12's engine (20.10)
inline constexpr ApiVersion kNewestApiVersion{1, 43};   // the newest API this client was written against

// min(client_newest, daemon); an engine that does not say uses the minimum. Throws
// UnsupportedEngineError when the daemon's API is older than `minimum`.
ApiVersion negotiate_api_version(std::optional<ApiVersion> daemon,
                                 ApiVersion client_newest = kNewestApiVersion,
                                 ApiVersion minimum = kMinimumApiVersion);

}  // namespace fleet::engine
