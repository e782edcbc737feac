#include "fleet/rows.hpp"

namespace fleet {
namespace {
template <typename T>
void put(nlohmann::json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}
}  // namespace

nlohmann::json VersionReport::to_json() const {
  return {{"client", {{"version", fleet_version}, {"api_version", api_in_use}, {"endpoint", endpoint}}},
          {"engine", engine_raw}};
}

nlohmann::json UpReport::to_json() const {
  return {{"services", services}, {"steps", steps}};
}

nlohmann::json DownReport::to_json() const {
  nlohmann::json j = {{"containers", containers},
                      {"networks", networks},
                      {"volumes", volumes},
                      {"pool_members", pool_members}};
  if (services) j["services"] = services;
  return j;
}

nlohmann::json PsRow::to_json() const {
  nlohmann::json j = {{"name", name},     {"service", service}, {"number", number},
                      {"state", state},   {"health", health},   {"ports", ports},
                      {"memory", memory}, {"cpus", cpus},       {"uptime_seconds", uptime_seconds},
                      {"id", id}};
  if (!node.empty()) j["node"] = node;
  return j;
}

nlohmann::json NodeRow::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"hostname", hostname},
                      {"role", role},
                      {"leader", leader},
                      {"availability", availability},
                      {"state", state},
                      {"address", address},
                      {"engine_version", engine_version},
                      {"endpoint", endpoint},
                      {"cpus", cpus},
                      {"memory_total", memory_total},
                      {"tasks", tasks},
                      {"kernels", kernels},
                      {"cpu_percent", cpu_percent ? nlohmann::json(*cpu_percent) : nlohmann::json()},
                      {"memory_used", memory_used ? nlohmann::json(*memory_used) : nlohmann::json()}};
  if (!message.empty()) j["message"] = message;
  return j;
}

nlohmann::json NodeDrainRow::to_json() const {
  nlohmann::json j = {{"kernel_id", kernel_id}, {"service", service},       {"from_node", from_node},
                      {"to_node", to_node},     {"checkpoint", checkpoint}, {"restored", restored},
                      {"seconds", seconds}};
  if (!error.empty()) j["error"] = error;
  return j;
}

nlohmann::json HealthRow::to_json() const {
  nlohmann::json probes_json = nlohmann::json::array();
  for (const auto& p : probes)
    probes_json.push_back({{"host_ip", p.host_ip},
                           {"host_port", p.host_port},
                           {"container_port", p.container_port},
                           {"ok", p.ok},
                           {"error", p.error}});
  nlohmann::json j = {{"name", name},     {"service", service}, {"state", state},
                      {"health", health}, {"ok", ok},           {"ports", probes_json}};
  if (!kernel_id.empty()) j["kernel_id"] = kernel_id;
  if (heartbeat) j["heartbeat"] = {{"ok", *heartbeat}, {"error", heartbeat_error}};
  return j;
}

std::string KernelRow::state_text() const {
  if (!pool.empty()) return state + " (warm pool)";
  return state_reason.empty() ? state : state + " (" + state_reason + ")";
}

nlohmann::json KernelRow::to_json() const {
  nlohmann::json j = {{"kernel_id", kernel_id},
                      {"container", container},
                      {"container_id", container_id},
                      {"origin", origin},
                      {"language", language},
                      {"config", config},
                      {"owner", owner},
                      {"state", state},
                      {"state_reason", state_reason},
                      {"health", health},
                      {"shell_port", shell_port},
                      {"ports", ports},
                      {"connection_file", connection_file},
                      {"created", created}};
  if (!project.empty()) j["project"] = project, j["service"] = service;
  if (!pool.empty()) j["pool"] = pool;
  put(j, "cpu_percent", cpu_percent);
  put(j, "memory_used", memory_used);
  put(j, "memory_limit", memory_limit);
  put(j, "uptime_seconds", uptime_seconds);
  put(j, "clients", clients);
  if (!execution_state.empty()) j["execution_state"] = execution_state;
  if (!last_activity.empty()) j["last_activity"] = last_activity;
  put(j, "pending", pending);
  if (drain) j["drain"] = drain->to_json();
  if (!restored_from.empty()) j["restored"] = {{"checkpoint", restored_from}, {"globals", restored}};
  if (!node.empty()) j["node"] = node;
  return j;
}

nlohmann::json KernelSpecRow::to_json() const {
  return {{"name", name},
          {"display_name", display_name},
          {"language", language},
          {"config", config},
          {"default", is_default}};
}

nlohmann::json InstalledKernelspec::to_json() const {
  return {{"name", name}, {"path", path}, {"spec", spec}};
}

nlohmann::json PoolRow::to_json() const {
  return {{"name", name},       {"current_size", current_size},
          {"filling", filling}, {"target_size", target_size},
          {"hits", hits},       {"misses", misses}};
}

nlohmann::json DecisionRow::to_json() const {
  return {{"at", at},         {"project", project}, {"service", service},
          {"action", action}, {"summary", summary}, {"outcome", outcome}};
}

nlohmann::json TopReport::to_json() const {
  nlohmann::json k = nlohmann::json::array(), p = nlohmann::json::array(), d = nlohmann::json::array();
  for (const auto& r : kernels) k.push_back(r.to_json());
  for (const auto& r : pools) p.push_back(r.to_json());
  for (const auto& r : decisions) d.push_back(r.to_json());
  return {{"kernels", k},
          {"pools", p},
          {"pools_live", pools_live},
          {"decisions", d},
          {"autoscaler_running", autoscaler_running},
          {"sample_seconds", sample_seconds}};
}

nlohmann::json CleanupReport::to_json() const {
  return {{"removed", removed},
          {"connection_files", connection_files},
          {"registry_entries_dropped", registry_entries_dropped}};
}

nlohmann::json FindReport::to_json() const {
  nlohmann::json j = kernel.to_json();
  j["created"] = created;
  return j;
}

nlohmann::json ServiceRow::to_json() const {
  return {{"name", name},       {"enabled", enabled},       {"kernel", kernel},   {"profiles", profiles},
          {"desired", desired}, {"containers", containers}, {"running", running}, {"replicas", replicas}};
}

nlohmann::json CheckpointRow::to_json() const {
  return {{"id", id},           {"kernel_id", kernel_id}, {"language", language},       {"config", config},
          {"image", image},     {"owner", owner},         {"origin", origin},           {"project", project},
          {"service", service}, {"created", created},     {"state_bytes", state_bytes}, {"skipped", skipped}};
}

nlohmann::json DrainOutcome::to_json() const {
  nlohmann::json j = {{"kernel_id", kernel_id},
                      {"container", container},
                      {"waited_seconds", waited_seconds},
                      {"timed_out", timed_out}};
  if (timed_out) j["code"] = "E2093";
  if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
  if (!error.empty()) j["error"] = error;
  return j;
}

nlohmann::json FleetEvent::to_json() const {
  nlohmann::json j = {{"type", type}, {"time_nano", time_nano}};
  auto put_text = [&](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put_text("container", container);
  put_text("container_id", container_id);
  put_text("kernel_id", kernel_id);
  put_text("origin", origin);
  put_text("project", project);
  put_text("service", service);
  put_text("owner", owner);
  put_text("health", health);
  put_text("message", message);
  put_text("action", action);
  if (!details.is_null()) j["details"] = details;
  if (type == "died") j["oom"] = oom;
  put(j, "exit_code", exit_code);
  return j;
}

nlohmann::json MetricsReport::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& k : kernels)
    rows.push_back({{"kernel_id", k.kernel_id},
                    {"state", k.state},
                    {"cpu_percent", k.cpu_percent},
                    {"memory_used", k.memory_used},
                    {"memory_limit", k.memory_limit},
                    {"memory_percent", k.memory_percent}});
  return {{"kernels_by_state", kernels_by_state},
          {"kernels", rows},
          {"total",
           {{"cpu_percent", total_cpu_percent},
            {"memory_used", total_memory_used},
            {"memory_limit", total_memory_limit}}},
          {"sample_seconds", sample_seconds}};
}

}  // namespace fleet
