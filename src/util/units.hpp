// Human sizes as Compose writes them: binary units, case-insensitive b k m g with an optional b
// ("512m", "2g", "1.5g", "1024kb", "100").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::util {

// Bytes, or nullopt for empty, negative, fractional bytes, unknown suffixes or overflow.
std::optional<std::int64_t> parse_size(std::string_view text);

// A number as a person writes it: 0.5, 64, 1.25 (no trailing zeros).
std::string format_number(double value);

}  // namespace fleet::util
