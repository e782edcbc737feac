// One request to a kernel and its reply, from outside the kernel (the fleet, on the host): a signed
// message on a DEALER connected to one of the kernel's ROUTER ports (control, usually), the reply
// matched by its parent's msg_id and its signature checked. Blocking, one connection per call.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace fleet::jupyter {

struct Endpoint {
  std::string transport = "tcp";
  std::string ip = "127.0.0.1";
  int port = 0;  // the channel's port, from the connection file (control_port for llmspell_* requests)
  std::string key;
  std::string signature_scheme = "hmac-sha256";

  std::string address() const { return transport + "://" + ip + ":" + std::to_string(port); }
};

// Sends `msg_type` with `content` and returns the content of its reply. Throws std::runtime_error
// (naming the address and the request) when no reply comes within `timeout`, when the reply's
// signature is wrong or it does not parse, or for a signature scheme other than hmac-sha256.
nlohmann::json request(const Endpoint& endpoint, const std::string& msg_type, const nlohmann::json& content,
                       std::chrono::milliseconds timeout);

}  // namespace fleet::jupyter
