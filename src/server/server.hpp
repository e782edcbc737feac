// `llmspell-fleet serve`: the fleet over HTTP (the seed's REST service), an adapter like the command
// line. It parses requests, calls one operation of the fleet's door, renders the result as JSON;
// the decisions stay behind the door. Safe by default: loopback unless a token is given, the token
// on every request then, Host checked against DNS rebinding, bodies and JSON depth capped.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "fleet/fleet.hpp"

namespace fleet::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 9550;
  std::string token;                     // when set, `Authorization: Bearer <token>` on every request
  std::vector<std::string> allow_hosts;  // Host header names accepted besides localhost and IPs
  std::vector<std::string> labels;       // KEY=VALUE labels on the kernels its pools and gateway make
  FleetOptions fleet;                    // the engine, the compose file, the project, profiles
  std::size_t max_body = 1 << 20;
  int max_json_depth = 32;
  std::size_t max_connections = 256;
  // A line per request (method, path, status, ms) and the server's own notices; stderr when empty.
  std::function<void(const std::string&)> log;
};

// Refuses what would not be safe: a non-loopback address without a token (InvalidInput, saying why).
void check_options(const ServerOptions& options);

// Serves until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish and returns
// 0. Throws fleet::Error when it cannot start (the port taken, say).
int serve(const ServerOptions& options);

}  // namespace fleet::server
