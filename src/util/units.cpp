#include "util/units.hpp"

#include <cstdio>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

namespace fleet::util {

std::optional<std::int64_t> parse_size(std::string_view text) {
  std::size_t digits_end = 0;
  while (digits_end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits_end])) || text[digits_end] == '.'))
    ++digits_end;
  std::string_view number = text.substr(0, digits_end);
  std::string suffix;
  for (char c : text.substr(digits_end))
    suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      std::count(number.begin(), number.end(), '.') > 1)
    return std::nullopt;
  double multiplier;
  if (suffix.empty() || suffix == "b")
    multiplier = 1;
  else if (suffix == "k" || suffix == "kb")
    multiplier = 1024.0;
  else if (suffix == "m" || suffix == "mb")
    multiplier = 1024.0 * 1024;
  else if (suffix == "g" || suffix == "gb")
    multiplier = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  double value = std::stod(std::string(number)) * multiplier;
  if (value > 9.0e18 || value != std::floor(value)) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::string format_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

}  // namespace fleet::util
