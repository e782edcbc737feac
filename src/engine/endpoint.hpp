// Where the engine listens: DOCKER_HOST as unix:///path or tcp://host:port.
#pragma once

#include <string>
#include <string_view>

namespace fleet::engine {

inline constexpr std::string_view kDefaultDockerHost = "unix:///var/run/docker.sock";

struct Endpoint {
  enum class Kind { Unix, Tcp };
  Kind kind = Kind::Unix;
  std::string socket_path;  // Kind::Unix
  std::string host;         // Kind::Tcp
  int port = 0;             // Kind::Tcp
  std::string address;      // as given, for messages

  // Throws InvalidEndpointError naming the value when it is neither form.
  static Endpoint parse(std::string_view docker_host);
  // DOCKER_HOST when set and not empty, else the default socket.
  static Endpoint from_environment();
  // The URL prefix requests go to (the host part is ignored on a unix socket).
  std::string base_url() const;
};

}  // namespace fleet::engine
