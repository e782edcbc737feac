// The REST API: each route turns a request into one call of the fleet's door and its result into
// JSON. No decisions here: validation of values, defaults and every engine change are the door's.
//
//   GET    /health                          the seed's health shape (replicas, autoscaling, warm pool)
//   GET    /kernels[?owner=&state=]         every kernel (spawned and compose ones)
//   POST   /kernels                         {language, config, memory?, cpus?, name?, owner?, labels?}
//                                           or {restore: CHECKPOINT} -> 201
//   GET    /kernels/{id}                    one kernel, by id, container name or host port
//   DELETE /kernels/{id}[?force=true&drain_timeout=&checkpoint=]   drain, stop and remove it
//   GET    /kernels/{id}/logs[?tail=&follow=]   its output (streamed with follow)
//   POST   /find                            {language, config, shared?, owner?, memory?, cpus?, labels?}
//   GET    /metrics[?format=prometheus]     JSON, or Prometheus text (also with Accept: text/plain)
//   GET    /registry                        registry.json
//   GET    /pool                            the templates' warm pools
//   GET    /autoscaling[/history?limit=]    the autoscaler; POST /autoscaling/start|stop steers it
//   GET    /checkpoints                     the checkpoints drains saved
//   GET    /services                        the compose project's services
//   POST   /services/{name}/scale           {replicas}
//   GET    /events                          server-sent events: the containers changing, and the fleet's
//                                           own events (pool, scaling, drain)
//   GET    /  and /dashboard/{file}         the live dashboard (server/dashboard.hpp)
#pragma once

#include <chrono>
#include <mutex>

#include "fleet/fleet.hpp"
#include "server/events_hub.hpp"
#include "server/http.hpp"

namespace fleet::server {

// GET /health's answer, kept for a second: it lists the kernels, and liveness probes poll it.
struct HealthCache {
  std::mutex mu;
  std::chrono::steady_clock::time_point at{};
  nlohmann::json body;
};

struct RouteContext {
  FleetOptions fleet;  // with the shared engine connection: a door per request is cheap
  EventHub& events;
  int max_json_depth = 32;
  HealthCache* health = nullptr;
  std::vector<std::string> labels;  // serve's --label: on the kernels the Jupyter gateway starts
};

// Throws HttpError for what the HTTP layer refuses (unknown route 404, wrong method 405, bodies),
// fleet::Error for what the door refuses.
Outcome route(const Request& request, RouteContext& context);

}  // namespace fleet::server
