#include "server/gateway.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "server/routes.hpp"

namespace fleet::server {
namespace {

using Segments = std::vector<std::string>;

std::vector<std::string> methods_of(const Segments& s) {
  const std::size_t n = s.size();
  if (n >= 1 && s[0] == "kernelspecs")
    return n == 3 ? std::vector<std::string>{"GET"} : std::vector<std::string>{};
  if (n == 0 || s[0] != "api") return {};
  if (n == 1) return {"GET"};
  if (s[1] == "kernelspecs" && n <= 3) return {"GET"};
  if (s[1] != "kernels") return {};
  if (n == 2) return {"GET", "POST"};
  if (n == 3) return {"GET", "DELETE"};
  if (n == 4 && (s[3] == "interrupt" || s[3] == "restart")) return {"POST"};
  if (n == 4 && s[3] == "channels") return {"GET"};
  return {};
}

nlohmann::json spec_json(const KernelSpecRow& k) {
  return {{"name", k.name},
          {"spec",
           {{"argv", nlohmann::json::array()},
            {"display_name", k.display_name},
            {"language", k.language},
            {"interrupt_mode", "message"},
            {"env", nlohmann::json::object()},
            {"metadata", {{"llmspell", {{"language", k.language}, {"config", k.config}}}}}}},
          {"resources", nlohmann::json::object()}};
}

const KernelSpecRow& spec_named(const std::vector<KernelSpecRow>& specs, const std::string& name) {
  auto it = std::find_if(specs.begin(), specs.end(), [&](const KernelSpecRow& k) { return k.name == name; });
  if (it != specs.end()) return *it;
  std::string valid;
  for (const auto& k : specs) valid += (valid.empty() ? "" : ", ") + k.name;
  throw HttpError(404, "not_found", "no kernelspec named \"" + name + "\" (valid: " + valid + ")");
}

// The kernel a gateway id names, with its own status (404 for what is not a UUID or not a kernel).
KernelRow kernel_of(Fleet& fleet, const std::string& id) {
  const std::string prefix = container_prefix(id);
  if (prefix.empty()) throw HttpError(404, "not_found", "no kernel " + id + " (kernel ids are UUIDs)");
  return fleet.kernel(prefix, true);  // one kernel's status read, not every kernel's
}

// POST /api/kernels: Jupyter sends {name, env} and perhaps more in later versions, so unknown fields
// are left alone here, unlike the fleet's own API.
nlohmann::json create_body(const Request& r, int max_depth) {
  if (r.body.empty()) return nlohmann::json::object();
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw HttpError(400, "bad_request",
                    "the body must be a JSON object: {\"name\": KERNELSPEC, \"env\": {...}}");
  std::function<int(const nlohmann::json&)> depth = [&](const nlohmann::json& j) {
    int deepest = 0;
    if (j.is_structured())
      for (const auto& v : j) deepest = std::max(deepest, depth(v));
    return 1 + deepest;
  };
  if (depth(body) > max_depth) throw HttpError(400, "bad_request", "the body is nested too deeply");
  if (body.contains("name") && !body["name"].is_string() && !body["name"].is_null())
    throw HttpError(422, "unprocessable", "\"name\" must be a kernelspec name");
  if (body.contains("env") && !body["env"].is_object() && !body["env"].is_null())
    throw HttpError(422, "unprocessable", "\"env\" must be an object of strings");
  return body;
}

std::string env_text(const nlohmann::json& body, const char* key) {
  if (!body.contains("env") || !body["env"].is_object()) return {};
  auto it = body["env"].find(key);
  return it != body["env"].end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string kernel_uuid(const std::string& container_id) {
  if (container_id.size() < 32) return container_id;
  return container_id.substr(0, 8) + "-" + container_id.substr(8, 4) + "-" + container_id.substr(12, 4) +
         "-" + container_id.substr(16, 4) + "-" + container_id.substr(20, 12);
}

std::string container_prefix(const std::string& uuid) {
  static const std::size_t dashes[] = {8, 13, 18, 23};
  if (uuid.size() != 36) return {};
  std::string out;
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (std::find(std::begin(dashes), std::end(dashes), i) != std::end(dashes)) {
      if (uuid[i] != '-') return {};
      continue;
    }
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(uuid[i])));
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out += c;
  }
  return out;
}

nlohmann::json kernel_model(const KernelRow& k) {
  // Jupyter parses last_activity as %Y-%m-%dT%H:%M:%S.%fZ (the kernel writes it so); a kernel whose
  // status could not be read was last active when it was created.
  std::string last_activity = k.last_activity;
  if (last_activity.empty()) {
    std::time_t created = static_cast<std::time_t>(k.created);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000000Z", std::gmtime(&created));
    last_activity = buf;
  }
  return {{"id", kernel_uuid(k.container_id)},
          {"name", "llmspell-" + k.language + "-" + k.config.substr(0, k.config.rfind(".toml"))},
          {"last_activity", last_activity},
          // A kernel that has not written its status yet is starting.
          {"execution_state", k.execution_state.empty() ? "starting" : k.execution_state},
          {"connections", k.clients.value_or(0)},
          {"llmspell", {{"kernel_id", k.kernel_id}, {"container", k.container}, {"owner", k.owner}}}};
}

std::optional<std::string> channels_kernel(const Request& r, Fleet& fleet) {
  const Segments& s = r.segments;
  if (s.size() != 4 || s[0] != "api" || s[1] != "kernels" || s[3] != "channels") return std::nullopt;
  const std::string prefix = container_prefix(s[2]);
  if (prefix.empty()) throw HttpError(404, "not_found", "no kernel " + s[2] + " (kernel ids are UUIDs)");
  return fleet.kernel(prefix).kernel_id;
}

std::optional<Outcome> gateway_route(const Request& r, RouteContext& c) {
  const Segments& s = r.segments;
  if (s.empty() || (s[0] != "api" && s[0] != "kernelspecs")) return std::nullopt;
  auto methods = methods_of(s);
  if (methods.empty())
    throw HttpError(404, "not_found", "no such resource: " + r.target.substr(0, r.target.find('?')));
  if (std::find(methods.begin(), methods.end(), r.method) == methods.end())
    throw HttpError(405, "method_not_allowed", r.method + " is not allowed here", methods);
  Fleet fleet(c.fleet);

  if (s[0] == "kernelspecs") {
    spec_named(fleet.kernelspecs(), s[1]);
    throw HttpError(404, "not_found", "kernelspec " + s[1] + " has no resource " + s[2]);
  }
  if (s.size() == 1) return json_reply(200, {{"version", FLEET_VERSION}, {"gateway", "llmspell-fleet"}});
  if (s[1] == "kernelspecs") {
    auto specs = fleet.kernelspecs();
    if (s.size() == 3) return json_reply(200, spec_json(spec_named(specs, s[2])));
    nlohmann::json all = nlohmann::json::object();
    for (const auto& k : specs) all[k.name] = spec_json(k);
    return json_reply(200, {{"default", specs.empty() ? "" : specs.front().name}, {"kernelspecs", all}});
  }
  if (s.size() == 2 && r.method == "GET") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : fleet.list({.state = "running", .activity = true}))
      if (k.pool.empty()) out.push_back(kernel_model(k));
    return json_reply(200, out);
  }
  if (s.size() == 2) {  // POST /api/kernels
    nlohmann::json body = create_body(r, c.max_json_depth);
    auto specs = fleet.kernelspecs();
    if (specs.empty()) throw HttpError(503, "unavailable", "no kernel configs: nothing to start");
    const std::string name = body.contains("name") && body["name"].is_string()
                                 ? body["name"].get<std::string>()
                                 : specs.front().name;
    const KernelSpecRow& spec = spec_named(specs, name);
    // Jupyter's gateway client passes the notebook user as KERNEL_USERNAME: the kernel's owner.
    KernelRow k = fleet.spawn({.config = spec.config,
                               .language = spec.language,
                               .owner = env_text(body, "KERNEL_USERNAME"),
                               .labels = c.labels});
    // spawn returns once the kernel answers its heartbeat: idle, nothing run yet.
    if (k.execution_state.empty()) k.execution_state = "idle";
    nlohmann::json model = kernel_model(k);
    Reply reply = json_reply(201, model);
    reply.headers.emplace_back("Location", "/api/kernels/" + model["id"].get<std::string>());
    return reply;
  }
  KernelRow k = kernel_of(fleet, s[2]);
  if (s.size() == 3 && r.method == "GET") return json_reply(200, kernel_model(k));
  if (s.size() == 3) {  // DELETE
    fleet.stop({.names = {k.kernel_id}});
    return Reply{204, "application/json", "", {}};
  }
  if (s[3] == "interrupt") {
    fleet.interrupt(k.kernel_id);
    return Reply{204, "application/json", "", {}};
  }
  if (s[3] == "restart") {
    fleet.restart(k.kernel_id);
    return json_reply(200, kernel_model(kernel_of(fleet, s[2])));
  }
  throw HttpError(400, "bad_request",
                  "GET /api/kernels/{id}/channels is a WebSocket: send Upgrade: websocket");
}

}  // namespace fleet::server
