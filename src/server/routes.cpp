#include "server/routes.hpp"

#include <atomic>
#include <thread>

#include "server/dashboard.hpp"
#include "server/gateway.hpp"
#include "server/prometheus.hpp"
#include "util/units.hpp"

namespace fleet::server {
namespace {

using Segments = std::vector<std::string>;

// Which methods a path takes; empty when the path is unknown.
std::vector<std::string> methods_of(const Segments& s) {
  const std::size_t n = s.size();
  if (n == 1 && (s[0] == "health" || s[0] == "metrics" || s[0] == "registry" || s[0] == "services" ||
                 s[0] == "events" || s[0] == "pool" || s[0] == "checkpoints"))
    return {"GET"};
  if (n == 1 && s[0] == "autoscaling") return {"GET"};
  if (n == 2 && s[0] == "autoscaling" && s[1] == "history") return {"GET"};
  if (n == 2 && s[0] == "autoscaling" && (s[1] == "start" || s[1] == "stop")) return {"POST"};
  if (n == 1 && s[0] == "kernels") return {"GET", "POST"};
  if (n == 1 && s[0] == "find") return {"POST"};
  if (n == 2 && s[0] == "kernels") return {"GET", "DELETE"};
  if (n == 3 && s[0] == "kernels" && s[2] == "logs") return {"GET"};
  if (n == 3 && s[0] == "services" && s[2] == "scale") return {"POST"};
  return {};
}

// A memory size as a string ("512m") or a number of bytes.
std::string memory_field(const nlohmann::json& body) {
  if (body.contains("memory") && body["memory"].is_number_integer())
    return std::to_string(body["memory"].get<std::int64_t>());
  return text_field(body, "memory");
}

// Extra labels: an object of strings (the door refuses the fleet's reserved prefix).
std::vector<std::string> labels_field(const nlohmann::json& body) {
  std::vector<std::string> out;
  if (!body.contains("labels") || body["labels"].is_null()) return out;
  if (!body["labels"].is_object())
    throw HttpError(422, "unprocessable", "\"labels\" must be an object of strings");
  for (auto it = body["labels"].begin(); it != body["labels"].end(); ++it) {
    if (!it.value().is_string())
      throw HttpError(422, "unprocessable", "label \"" + it.key() + "\" must have a string value");
    out.push_back(it.key() + "=" + it.value().get<std::string>());
  }
  return out;
}

nlohmann::json rows_json(const std::vector<KernelRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) out.push_back(r.to_json());
  return out;
}

bool wants_prometheus(const Request& r) {
  auto format = r.query.find("format");
  if (format != r.query.end()) {
    if (format->second == "prometheus") return true;
    if (format->second == "json") return false;
    throw HttpError(400, "bad_request", "?format=" + format->second + " is not json or prometheus");
  }
  const std::string accept = r.header("accept");
  return accept.find("text/plain") != std::string::npos &&
         accept.find("application/json") == std::string::npos;
}

// A kernel with what a client needs to connect to it.
nlohmann::json kernel_with_connection(Fleet& fleet, const KernelRow& k) {
  return {{"kernel", k.to_json()}, {"connection", fleet.connection(k.kernel_id)}};
}

Outcome events_stream(RouteContext& c) {
  return Streamed{200, "text/event-stream", [&events = c.events](StreamWriter& out) {
                    auto subscription = events.subscribe();
                    struct Leave {
                      EventHub& hub;
                      std::shared_ptr<EventHub::Subscription> s;
                      ~Leave() { hub.unsubscribe(s); }
                    } leave{events, subscription};
                    // The client reconnects after 2 s if the stream breaks (EventSource's default is 3).
                    if (!out.write("retry: 2000\n: llmspell-fleet events\n\n")) return;
                    while (!out.stopping()) {
                      auto e = subscription->next(std::chrono::seconds(15));
                      if (!e) {
                        if (!out.write(": keep-alive\n\n")) return;  // also how a gone client is noticed
                        continue;
                      }
                      std::string frame = "id: " + std::to_string(e->time_nano) + "\nevent: " + e->type +
                                          "\ndata: " + e->to_json().dump() + "\n\n";
                      if (!out.write(frame)) return;
                    }
                  }};
}

Outcome logs_stream(const Request& r, RouteContext& c, const std::string& id) {
  LogsOptions o{.names = {id}, .follow = bool_query(r, "follow", false)};
  if (auto tail = r.query.find("tail"); tail != r.query.end()) {
    try {
      std::size_t used = 0;
      int n = std::stoi(tail->second, &used);
      if (used != tail->second.size() || n < 0) throw std::invalid_argument("");
      o.tail = n;
    } catch (const std::exception&) {
      throw HttpError(400, "bad_request", "?tail=" + tail->second + " is not a number of lines");
    }
  }
  // The kernel is looked up before the stream starts, so an unknown one is a 404, not an empty 200.
  Fleet(c.fleet).kernel(id);
  // The stream runs after route() has returned: it keeps what it needs by value.
  return Streamed{200, "text/plain; charset=utf-8", [o, fleet_options = c.fleet](StreamWriter& out) mutable {
                    std::atomic<bool> cancel{false};
                    std::thread watchdog([&] {
                      while (!cancel && !out.stopping())
                        std::this_thread::sleep_for(std::chrono::milliseconds(200));
                      cancel = true;
                    });
                    o.cancel = &cancel;
                    try {
                      Fleet(fleet_options).logs(o, [&](const std::string&, Stream, std::string_view line) {
                        if (!out.write(std::string(line) + "\n")) cancel = true;
                      });
                    } catch (const std::exception&) {
                      // The stream has begun: the error can only end it.
                    }
                    cancel = true;
                    watchdog.join();
                  }};
}

}  // namespace

Outcome route(const Request& r, RouteContext& c) {
  if (auto gateway = gateway_route(r, c)) return std::move(*gateway);
  const Segments& s = r.segments;
  if (is_dashboard(s)) return dashboard(r);
  auto methods = methods_of(s);
  if (methods.empty())
    throw HttpError(404, "not_found", "no such resource: " + r.target.substr(0, r.target.find('?')));
  if (std::find(methods.begin(), methods.end(), r.method) == methods.end())
    throw HttpError(405, "method_not_allowed", r.method + " is not allowed here", methods);
  const int depth = c.max_json_depth;
  Fleet fleet(c.fleet);

  if (s[0] == "health") {
    if (!c.health) return json_reply(200, fleet.fleet_health());
    {
      std::lock_guard lock(c.health->mu);
      if (std::chrono::steady_clock::now() - c.health->at < std::chrono::seconds(1))
        return json_reply(200, c.health->body);
    }
    nlohmann::json body = fleet.fleet_health();  // an engine that does not answer is a 503, never kept
    std::lock_guard lock(c.health->mu);
    c.health->body = body;
    c.health->at = std::chrono::steady_clock::now();
    return json_reply(200, body);
  }
  if (s[0] == "events") return events_stream(c);
  if (s[0] == "registry") return json_reply(200, fleet.registry());
  if (s[0] == "pool") return json_reply(200, fleet.pools());
  if (s[0] == "autoscaling") {
    if (s.size() == 1) return json_reply(200, fleet.autoscaling());
    if (s[1] == "history") {
      std::size_t limit = 50;
      if (auto it = r.query.find("limit"); it != r.query.end()) {
        try {
          limit = static_cast<std::size_t>(std::stoul(it->second));
        } catch (const std::exception&) {
          throw HttpError(400, "bad_request", "?limit= must be a whole number");
        }
      }
      return json_reply(200, fleet.autoscaling_history(limit));
    }
    return json_reply(200, fleet.set_autoscaling(s[1] == "start"));
  }
  if (s[0] == "checkpoints") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : fleet.checkpoints()) out.push_back(row.to_json());
    return json_reply(200, out);
  }
  if (s[0] == "metrics") {
    MetricsReport m = fleet.metrics();
    if (wants_prometheus(r)) return Reply{200, kPrometheusContentType, prometheus_text(m), {}};
    return json_reply(200, m.to_json());
  }
  if (s[0] == "services" && s.size() == 1) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : fleet.services()) out.push_back(row.to_json());
    return json_reply(200, out);
  }
  if (s[0] == "services") {  // POST /services/{name}/scale
    nlohmann::json body = json_body(r, depth, {"replicas"});
    if (!body.contains("replicas") || !body["replicas"].is_number_integer())
      throw HttpError(422, "unprocessable", "\"replicas\" must be a whole number");
    auto replicas = body["replicas"].get<std::int64_t>();
    if (replicas < 0 || replicas > 1000)
      throw HttpError(422, "unprocessable", "\"replicas\" must be between 0 and 1000");
    UpReport report = fleet.scale({.replicas = {{s[1], static_cast<int>(replicas)}}});
    return json_reply(200, report.to_json());
  }
  if (s[0] == "find") {
    nlohmann::json body =
        json_body(r, depth, {"language", "config", "shared", "owner", "memory", "cpus", "labels"});
    FindReport found = fleet.find({.language = text_field(body, "language"),
                                   .config = text_field(body, "config"),
                                   .memory = memory_field(body),
                                   .cpus = number_field(body, "cpus"),
                                   .shared = bool_field(body, "shared", false),
                                   .owner = text_field(body, "owner"),
                                   .labels = labels_field(body)});
    nlohmann::json out = kernel_with_connection(fleet, found.kernel);
    out["created"] = found.created;
    return json_reply(found.created ? 201 : 200, out);
  }
  // /kernels...
  if (s.size() == 1 && r.method == "GET") {
    ListOptions o;
    if (auto it = r.query.find("owner"); it != r.query.end()) o.owner = it->second;
    if (auto it = r.query.find("state"); it != r.query.end()) o.state = it->second;
    o.verbose = bool_query(r, "verbose", false);
    return json_reply(200, rows_json(fleet.list(o)));
  }
  if (s.size() == 1) {  // POST /kernels
    nlohmann::json body =
        json_body(r, depth, {"language", "config", "memory", "cpus", "name", "owner", "labels", "restore"});
    KernelRow k = fleet.spawn({.config = text_field(body, "config"),
                               .language = text_field(body, "language"),
                               .memory = memory_field(body),
                               .cpus = number_field(body, "cpus"),
                               .name = text_field(body, "name"),
                               .owner = text_field(body, "owner"),
                               .labels = labels_field(body),
                               .restore = text_field(body, "restore")});
    return json_reply(201, kernel_with_connection(fleet, k));
  }
  if (s.size() == 3) return logs_stream(r, c, s[1]);
  if (r.method == "GET") return json_reply(200, fleet.kernel(s[1]).to_json());
  // DELETE /kernels/{id}
  bool force = bool_query(r, "force", false);
  StopOptions stop{.names = {s[1]}, .timeout = force ? std::optional<int>(0) : std::nullopt};
  if (r.query.count("drain_timeout")) {
    try {
      stop.drain_timeout = std::stoi(r.query.at("drain_timeout"));
    } catch (const std::exception&) {
      throw HttpError(400, "bad_request", "?drain_timeout= must be a whole number of seconds");
    }
  }
  if (r.query.count("checkpoint")) stop.checkpoint = bool_query(r, "checkpoint", true);
  auto stopped = fleet.stop(stop);
  return json_reply(200, {{"stopped", rows_json(stopped)}});
}

}  // namespace fleet::server
