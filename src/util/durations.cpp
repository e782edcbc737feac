#include "util/durations.hpp"

#include <cctype>
#include <string>

namespace fleet::util {

std::optional<std::int64_t> parse_duration(std::string_view text) {
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.'))
      ++pos;
    std::string number(text.substr(start, pos - start));
    if (number.empty() || number.front() == '.' || number.back() == '.' ||
        number.find('.') != number.rfind('.'))
      return std::nullopt;
    start = pos;
    if (text.substr(pos, 2) == "\xC2\xB5") pos += 2;  // µ (UTF-8), as Go writes microseconds
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(start, pos - start);
    double scale;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "µs")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1e6;
    else if (unit == "s")
      scale = 1e9;
    else if (unit == "m")
      scale = 60e9;
    else if (unit == "h")
      scale = 3600e9;
    else
      return std::nullopt;
    total += std::stod(number) * scale;
  }
  if (total > 9.0e18) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

std::string format_duration(std::int64_t ns) {
  if (ns == 0) return "0s";
  const bool negative = ns < 0;
  std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  // The last `digits` decimal digits of u as a fraction without trailing zeros (".5", or nothing).
  auto fraction = [&u](int digits) {
    std::string out;
    bool significant = false;
    for (int i = 0; i < digits; ++i, u /= 10) {
      significant = significant || u % 10 != 0;
      if (significant) out.insert(out.begin(), static_cast<char>('0' + u % 10));
    }
    return significant ? "." + out : out;
  };
  std::string out;
  if (u < 1'000'000'000) {
    const char* unit = u < 1'000 ? "ns" : u < 1'000'000 ? "\xC2\xB5s" : "ms";
    std::string frac = fraction(u < 1'000 ? 0 : u < 1'000'000 ? 3 : 6);
    out = std::to_string(u) + frac + unit;
  } else {
    std::string frac = fraction(9);
    out = std::to_string(u % 60) + frac + "s";
    if ((u /= 60) > 0) {
      out = std::to_string(u % 60) + "m" + out;
      if ((u /= 60) > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

}  // namespace fleet::util
