// The engine's timestamps ("2026-11-24T11:30:00.123456789Z") as unix seconds.
#pragma once

#include <cstdint>
#include <string>

namespace fleet {

// -1 for the engine's zero time ("0001-01-01...") and anything unreadable.
std::int64_t parse_engine_time(const std::string& text);
// Now, in UTC, in strftime's `format` (default ISO 8601, "2026-12-03T10:35:55Z").
std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace fleet
