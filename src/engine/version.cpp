#include "engine/version.hpp"

#include <charconv>

#include "engine/errors.hpp"

namespace fleet::engine {

std::optional<ApiVersion> ApiVersion::parse(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  ApiVersion v;
  auto parse_int = [](std::string_view part, int& out) {
    if (part.empty()) return false;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc{} && end == part.data() + part.size() && out >= 0;
  };
  if (!parse_int(text.substr(0, dot), v.major) || !parse_int(text.substr(dot + 1), v.minor))
    return std::nullopt;
  return v;
}

std::string ApiVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

ApiVersion negotiate_api_version(std::optional<ApiVersion> daemon, ApiVersion client_newest,
                                 ApiVersion minimum) {
  if (!daemon) return minimum;
  if (*daemon < minimum)
    throw UnsupportedEngineError("the Docker engine speaks API " + daemon->str() +
                                 ", older than the minimum " + minimum.str() + " this fleet needs");
  return std::min(*daemon, client_newest);
}

}  // namespace fleet::engine
