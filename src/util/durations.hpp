// Durations as Compose writes them (Go's format): "30s", "1m30s", "500ms", "1h", "10us", "0".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::util {

// Nanoseconds, or nullopt for anything else (no unit, negative, unknown unit, overflow).
std::optional<std::int64_t> parse_duration(std::string_view text);

// Nanoseconds as Go's time.Duration.String() writes them, which is how `docker compose config` prints
// durations: "0s", "500ms", "1.5s", "1m30s", "1h0m0s", "2µs".
std::string format_duration(std::int64_t ns);

}  // namespace fleet::util
