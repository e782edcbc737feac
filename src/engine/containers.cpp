// Container endpoints.
#include "engine/client.hpp"

#include "util/base64.hpp"

namespace fleet::engine {
namespace {
std::string container_path(const std::string& id, std::string_view action = {}) {
  std::string path = "/containers/" + path_segment(id);
  if (!action.empty()) path += "/" + std::string(action);
  return path;
}
}  // namespace

nlohmann::json ResourceUpdate::body() const {
  nlohmann::json j = nlohmann::json::object();
  if (memory) j["Memory"] = *memory;
  if (memory_swap) j["MemorySwap"] = *memory_swap;
  if (memory_reservation) j["MemoryReservation"] = *memory_reservation;
  if (nano_cpus) j["NanoCpus"] = *nano_cpus;
  if (cpu_shares) j["CpuShares"] = *cpu_shares;
  if (pids_limit) j["PidsLimit"] = *pids_limit;
  return j;
}

std::vector<ContainerSummary> Client::list_containers(const ListContainersOptions& options) {
  Call c{.path = "/containers/json", .what = "list containers"};
  c.query.flag("all", options.all).filters(options.filters);
  return call_json(std::move(c)).get<std::vector<ContainerSummary>>();
}

CreateContainerResult Client::create_container(const std::string& name, const nlohmann::json& body,
                                               const std::string& platform) {
  Call c = json_call("POST", "/containers/create", body, "create container " + name);
  if (!name.empty()) c.query.add("name", name);
  if (!platform.empty()) c.query.add("platform", platform);
  nlohmann::json j = call_json(std::move(c));
  CreateContainerResult result;
  result.id = j.at("Id").get<std::string>();
  if (j.contains("Warnings") && j["Warnings"].is_array())
    result.warnings = j["Warnings"].get<std::vector<std::string>>();
  return result;
}

bool Client::start_container(const std::string& id) {
  return call({.method = "POST", .path = container_path(id, "start"), .what = "start container " + id})
             .status != 304;
}

bool Client::stop_container(const std::string& id, std::optional<int> timeout_seconds) {
  Call c{.method = "POST", .path = container_path(id, "stop"), .what = "stop container " + id};
  if (timeout_seconds) c.query.add("t", *timeout_seconds);
  // The engine answers only after the grace period, so the deadline grows with it (unknown: assume
  // the longest grace period a kernel is given, 5 minutes).
  c.timeout = std::chrono::seconds(timeout_seconds.value_or(300) + 30);
  return call(std::move(c)).status != 304;
}

void Client::kill_container(const std::string& id, const std::string& signal) {
  Call c{.method = "POST", .path = container_path(id, "kill"), .what = "kill container " + id};
  c.query.add("signal", signal);
  call(std::move(c));
}

void Client::remove_container(const std::string& id, const RemoveContainerOptions& options) {
  Call c{.method = "DELETE", .path = container_path(id), .what = "remove container " + id};
  c.query.flag("force", options.force).flag("v", options.volumes);
  call(std::move(c));
}

bool Client::pause_container(const std::string& id) {
  return call({.method = "POST", .path = container_path(id, "pause"), .what = "pause container " + id})
             .status != 304;
}

bool Client::unpause_container(const std::string& id) {
  return call({.method = "POST", .path = container_path(id, "unpause"), .what = "unpause container " + id})
             .status != 304;
}

ContainerInspect Client::inspect_container(const std::string& id) {
  return call_json({.path = container_path(id, "json"), .what = "inspect container " + id})
      .get<ContainerInspect>();
}

WaitResult Client::wait_container(const std::string& id, const std::string& condition,
                                  std::chrono::milliseconds timeout) {
  Call c{.method = "POST",
         .path = container_path(id, "wait"),
         .timeout = timeout,
         .what = "wait for container " + id};
  c.query.add("condition", condition);
  nlohmann::json j = call_json(std::move(c));
  WaitResult result;
  result.status_code = j.value("StatusCode", 0);
  if (j.contains("Error") && j["Error"].is_object()) result.error = j["Error"].value("Message", "");
  return result;
}

std::vector<std::string> Client::update_container(const std::string& id, const ResourceUpdate& update) {
  nlohmann::json j =
      call_json(json_call("POST", container_path(id, "update"), update.body(), "update container " + id));
  if (j.is_object() && j.contains("Warnings") && j["Warnings"].is_array())
    return j["Warnings"].get<std::vector<std::string>>();
  return {};
}

void Client::rename_container(const std::string& id, const std::string& new_name) {
  Call c{.method = "POST", .path = container_path(id, "rename"), .what = "rename container " + id};
  c.query.add("name", new_name);
  call(std::move(c));
}

void Client::container_logs(const std::string& id, const LogsOptions& options, const OutputSink& sink) {
  bool tty = options.tty ? *options.tty : inspect_container(id).tty;
  Call c{.path = container_path(id, "logs"), .cancel = options.cancel, .what = "logs of container " + id};
  c.query.flag("stdout", options.stdout_stream)
      .flag("stderr", options.stderr_stream)
      .flag("follow", options.follow);
  c.query.flag("timestamps", options.timestamps);
  c.query.add("tail", options.tail ? std::to_string(*options.tail) : std::string("all"));
  if (options.since) c.query.add("since", *options.since);
  c.timeout = options.follow ? std::chrono::milliseconds{0} : std::chrono::milliseconds{120'000};
  read_output(std::move(c), tty, sink);
}

StatsSample Client::container_stats(const std::string& id) {
  Call c{.path = container_path(id, "stats"), .what = "stats of container " + id};
  c.query.flag("stream", false);
  return call_json(std::move(c)).get<StatsSample>();
}

StatsSample Client::container_stats_one_shot(const std::string& id) {
  Call c{.path = container_path(id, "stats"), .what = "stats of container " + id};
  c.query.flag("stream", false);
  c.query.flag("one-shot", true);
  return call_json(std::move(c)).get<StatsSample>();
}

void Client::stream_container_stats(const std::string& id,
                                    const std::function<bool(const StatsSample&)>& sink,
                                    const CancelFlag* cancel) {
  Call c{.path = container_path(id, "stats"),
         .timeout = std::chrono::milliseconds{0},
         .cancel = cancel,
         .what = "stats of container " + id};
  c.query.flag("stream", true);
  call_json_lines(std::move(c), [&](const nlohmann::json& j) { return sink(j.get<StatsSample>()); });
}

ArchiveResult Client::get_archive(const std::string& id, const std::string& path) {
  Call c{.path = container_path(id, "archive"),
         .timeout = std::chrono::minutes(10),
         .what = "copy " + path + " from container " + id};
  c.query.add("path", path);
  HttpResponse response = call(std::move(c));
  ArchiveResult result;
  result.tar = std::move(response.body);
  std::string stat = response.header("x-docker-container-path-stat");
  if (!stat.empty()) result.stat = nlohmann::json::parse(util::base64_decode(stat), nullptr, false);
  return result;
}

void Client::put_archive(const std::string& id, const std::string& path, const std::string& tar) {
  Call c{.method = "PUT",
         .path = container_path(id, "archive"),
         .body = tar,
         .content_type = "application/x-tar",
         .timeout = std::chrono::minutes(10),
         .what = "copy into " + path + " of container " + id};
  c.query.add("path", path);
  call(std::move(c));
}

}  // namespace fleet::engine
