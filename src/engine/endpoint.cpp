#include "engine/endpoint.hpp"

#include <charconv>
#include <cstdlib>

#include "engine/errors.hpp"

namespace fleet::engine {
namespace {
[[noreturn]] void invalid(std::string_view value, std::string_view why) {
  throw InvalidEndpointError("DOCKER_HOST=\"" + std::string(value) + "\" is not valid: " + std::string(why) +
                             " (expected unix:///path/to/socket or tcp://host:port)");
}
}  // namespace

Endpoint Endpoint::parse(std::string_view value) {
  Endpoint e;
  e.address = std::string(value);
  if (value.starts_with("unix://")) {
    e.kind = Kind::Unix;
    e.socket_path = std::string(value.substr(7));
    if (e.socket_path.empty() || e.socket_path.front() != '/')
      invalid(value, "the socket path must be absolute");
    return e;
  }
  if (value.starts_with("tcp://")) {
    e.kind = Kind::Tcp;
    std::string_view rest = value.substr(6);
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos) invalid(value, "a path after host:port is not supported");
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) invalid(value, "host and port are both required");
    e.host = std::string(rest.substr(0, colon));
    std::string_view port = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
    if (ec != std::errc{} || end != port.data() + port.size() || e.port <= 0 || e.port > 65535)
      invalid(value, "the port must be a number from 1 to 65535");
    return e;
  }
  invalid(value, "unknown scheme");
}

Endpoint Endpoint::from_environment() {
  const char* value = std::getenv("DOCKER_HOST");
  return parse(value && *value ? std::string_view(value) : kDefaultDockerHost);
}

std::string Endpoint::base_url() const {
  if (kind == Kind::Unix) return "http://localhost";
  bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace fleet::engine
