#include "fleet/timestamps.hpp"

#include <ctime>

namespace fleet {

std::int64_t parse_engine_time(const std::string& text) {
  std::tm tm{};
  if (text.size() < 19 || text.rfind("0001-", 0) == 0) return -1;
  if (!strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string utc_now(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

}  // namespace fleet
