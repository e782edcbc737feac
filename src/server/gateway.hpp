// Jupyter's kernel gateway protocol (what Jupyter Server and Notebook speak with --gateway-url, as
// Kernel Gateway and Enterprise Gateway serve it), on the fleet's door:
//
//   GET    /api                              {"version"}
//   GET    /api/kernelspecs[/{name}]         a spec per language and kernel config: llmspell-lua-openai
//   GET    /kernelspecs/{name}/{file}        a spec's resources (none: 404)
//   GET    /api/kernels                      the running kernels as Jupyter's kernel models
//   POST   /api/kernels                      {name?, env?} -> 201 + Location; from the warm pool
//   GET    /api/kernels/{id}                 one model (404 once it is gone)
//   DELETE /api/kernels/{id}                 drain, stop, remove -> 204
//   POST   /api/kernels/{id}/interrupt       -> 204
//   POST   /api/kernels/{id}/restart         the interpreter cleared -> 200 + model
//   GET    /api/kernels/{id}/channels        WebSocket (websocket.hpp)
//
// A kernel's id here is a UUID made of its container id's first 32 hex digits: Jupyter's clients
// expect UUID-shaped ids (Notebook's URL patterns require them), it needs no state to map back, and
// it stays the same when a warm pool's member is handed out (its container is renamed, not remade).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "fleet/fleet.hpp"
#include "server/http.hpp"

namespace fleet::server {

struct RouteContext;

// The gateway's answer to `request`, or nothing when the path is not the gateway's.
std::optional<Outcome> gateway_route(const Request& request, RouteContext& context);

// "/api/kernels/{id}/channels": the kernel's fleet id, or nothing for any other path.
std::optional<std::string> channels_kernel(const Request& request, Fleet& fleet);

// The UUID of the container `container_id` (64 hex digits), and back: the container id prefix a
// UUID stands for (empty when `uuid` is not one).
std::string kernel_uuid(const std::string& container_id);
std::string container_prefix(const std::string& uuid);

// A fleet kernel as Jupyter's kernel model: id, name (its kernelspec), last_activity,
// execution_state, connections.
nlohmann::json kernel_model(const KernelRow& k);

}  // namespace fleet::server
