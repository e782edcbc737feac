// Swarm-mode endpoints of a manager (services, tasks, nodes, secrets, configs), and the image
// save/load pair that moves an image onto a node's engine.
#include "engine/client.hpp"

namespace fleet::engine {
namespace {

std::string service_path(const std::string& id, const char* what = nullptr) {
  return "/services/" + path_segment(id) + (what ? std::string("/") + what : std::string());
}

}  // namespace

std::vector<ServiceInfo> Client::list_services(const Filters& filters) {
  Call c{.path = "/services", .what = "list services"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<ServiceInfo>>();
}

ServiceInfo Client::inspect_service(const std::string& id) {
  return call_json({.path = service_path(id), .what = "inspect service " + id}).get<ServiceInfo>();
}

std::string Client::create_service(const nlohmann::json& spec) {
  const std::string name = spec.value("Name", std::string());
  return call_json(json_call("POST", "/services/create", spec, "create service " + name))
      .at("ID")
      .get<std::string>();
}

std::vector<std::string> Client::update_service(const std::string& id, std::uint64_t version,
                                                const nlohmann::json& spec) {
  Call c = json_call("POST", service_path(id, "update"), spec, "update service " + id);
  c.query.add("version", static_cast<long long>(version));
  nlohmann::json answer = call_json(std::move(c));
  std::vector<std::string> warnings;
  if (answer.is_object() && answer.contains("Warnings") && answer["Warnings"].is_array())
    for (const auto& w : answer["Warnings"])
      if (w.is_string()) warnings.push_back(w.get<std::string>());
  return warnings;
}

void Client::remove_service(const std::string& id) {
  call({.method = "DELETE", .path = service_path(id), .what = "remove service " + id});
}

void Client::service_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink) {
  Call c{.path = service_path(id, "logs"), .cancel = options.cancel, .what = "logs of service " + id};
  c.query.flag("stdout", options.stdout_stream)
      .flag("stderr", options.stderr_stream)
      .flag("follow", options.follow);
  c.query.flag("timestamps", options.timestamps);
  c.query.add("tail", options.tail ? std::to_string(*options.tail) : std::string("all"));
  if (options.since) c.query.add("since", *options.since);
  c.timeout = options.follow ? std::chrono::milliseconds{0} : std::chrono::milliseconds{120'000};
  read_output(std::move(c), options.tty.value_or(false), sink);
}

std::vector<TaskInfo> Client::list_tasks(const Filters& filters) {
  Call c{.path = "/tasks", .what = "list tasks"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<TaskInfo>>();
}

std::vector<NodeInfo> Client::list_nodes(const Filters& filters) {
  Call c{.path = "/nodes", .what = "list nodes"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<NodeInfo>>();
}

NodeInfo Client::inspect_node(const std::string& id) {
  return call_json({.path = "/nodes/" + path_segment(id), .what = "inspect node " + id}).get<NodeInfo>();
}

void Client::update_node(const std::string& id, std::uint64_t version, const nlohmann::json& spec) {
  Call c = json_call("POST", "/nodes/" + path_segment(id) + "/update", spec, "update node " + id);
  c.query.add("version", static_cast<long long>(version));
  call(std::move(c));
}

std::string Client::create_secret(const nlohmann::json& spec) {
  const std::string name = spec.value("Name", std::string());
  return call_json(json_call("POST", "/secrets/create", spec, "create secret " + name))
      .at("ID")
      .get<std::string>();
}

std::vector<SwarmObject> Client::list_secrets(const Filters& filters) {
  Call c{.path = "/secrets", .what = "list secrets"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<SwarmObject>>();
}

void Client::remove_secret(const std::string& id) {
  call({.method = "DELETE", .path = "/secrets/" + path_segment(id), .what = "remove secret " + id});
}

std::string Client::create_config(const nlohmann::json& spec) {
  const std::string name = spec.value("Name", std::string());
  return call_json(json_call("POST", "/configs/create", spec, "create config " + name))
      .at("ID")
      .get<std::string>();
}

std::vector<SwarmObject> Client::list_configs(const Filters& filters) {
  Call c{.path = "/configs", .what = "list configs"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<SwarmObject>>();
}

void Client::remove_config(const std::string& id) {
  call({.method = "DELETE", .path = "/configs/" + path_segment(id), .what = "remove config " + id});
}

std::string Client::save_image(const std::string& name) {
  return call({.path = "/images/" + path_segment(name) + "/get",
               .timeout = std::chrono::minutes(10),
               .what = "save image " + name})
      .body;
}

void Client::load_image(const std::string& tar) {
  Call c{.method = "POST",
         .path = "/images/load",
         .body = tar,
         .content_type = "application/x-tar",
         .timeout = std::chrono::minutes(10),
         .what = "load an image"};
  c.query.flag("quiet", true);
  // The answer is a stream of progress records; an error arrives inside it.
  std::string error;
  call_json_lines(std::move(c), [&](const nlohmann::json& record) {
    if (record.is_object() && record.contains("error") && record["error"].is_string())
      error = record["error"].get<std::string>();
    return true;
  });
  if (!error.empty()) throw ServerError("load an image: " + error, 0, error);
}

}  // namespace fleet::engine
