#include "compose/model.hpp"

#include "util/sha256.hpp"

#include <set>

namespace fleet::compose {
namespace {
template <typename T>
void put_optional(nlohmann::json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}
}  // namespace

std::vector<std::string> Project::all_profiles() const {
  std::set<std::string> all;
  for (const auto& entry : services) all.insert(entry.second.profiles.begin(), entry.second.profiles.end());
  return {all.begin(), all.end()};
}

nlohmann::json to_json(const Service& s) {
  nlohmann::json j = nlohmann::json::object();
  j["image"] = s.image;
  if (s.build)
    j["build"] = {
        {"context", s.build->context.string()}, {"dockerfile", s.build->dockerfile}, {"args", s.build->args}};
  put_optional(j, "command", s.command);
  put_optional(j, "entrypoint", s.entrypoint);
  if (!s.container_name.empty()) j["container_name"] = s.container_name;
  for (const auto& p : s.ports)
    j["ports"].push_back({{"host_ip", p.host_ip},
                          {"published", p.host_port},
                          {"target", p.container_port},
                          {"protocol", p.protocol}});
  if (!s.expose.empty()) j["expose"] = s.expose;
  for (const auto& v : s.volumes)
    j["volumes"].push_back(
        {{"type", v.type}, {"source", v.source}, {"target", v.target}, {"read_only", v.read_only}});
  if (!s.environment.empty()) j["environment"] = s.environment;
  if (!s.labels.empty()) j["labels"] = s.labels;
  put_optional(j, "mem_limit", s.mem_limit);
  put_optional(j, "mem_reservation", s.mem_reservation);
  put_optional(j, "memswap_limit", s.memswap_limit);
  put_optional(j, "cpus", s.cpus);
  put_optional(j, "cpu_shares", s.cpu_shares);
  put_optional(j, "pids_limit", s.pids_limit);
  put_optional(j, "scale", s.replicas);
  if (s.healthcheck) {
    nlohmann::json h = {{"test", s.healthcheck->test}};
    put_optional(h, "interval_ns", s.healthcheck->interval_ns);
    put_optional(h, "timeout_ns", s.healthcheck->timeout_ns);
    put_optional(h, "start_period_ns", s.healthcheck->start_period_ns);
    put_optional(h, "retries", s.healthcheck->retries);
    j["healthcheck"] = h;
  }
  if (!s.restart.empty()) j["restart"] = s.restart;
  for (const auto& [key, a] : s.networks) j["networks"][key] = {{"aliases", a.aliases}};
  for (const auto& [name, d] : s.depends_on)
    j["depends_on"][name] = {{"condition", d.condition}, {"required", d.required}, {"restart", d.restart}};
  if (!s.profiles.empty()) j["profiles"] = s.profiles;
  if (!s.user.empty()) j["user"] = s.user;
  if (!s.working_dir.empty()) j["working_dir"] = s.working_dir;
  if (s.read_only) j["read_only"] = true;
  if (!s.cap_add.empty()) j["cap_add"] = s.cap_add;
  if (!s.cap_drop.empty()) j["cap_drop"] = s.cap_drop;
  if (!s.security_opt.empty()) j["security_opt"] = s.security_opt;
  put_optional(j, "stop_grace_period_ns", s.stop_grace_period_ns);
  if (!s.stop_signal.empty()) j["stop_signal"] = s.stop_signal;
  if (s.logging) j["logging"] = {{"driver", s.logging->driver}, {"options", s.logging->options}};
  if (!s.tmpfs.empty()) j["tmpfs"] = s.tmpfs;
  if (s.privileged) j["privileged"] = true;
  if (!s.network_mode.empty()) j["network_mode"] = s.network_mode;
  if (!s.pid.empty()) j["pid"] = s.pid;
  if (!s.ipc.empty()) j["ipc"] = s.ipc;
  for (auto it = s.extensions.begin(); it != s.extensions.end(); ++it) j[it.key()] = it.value();
  return j;
}

nlohmann::json to_json(const Project& p) {
  nlohmann::json j = {{"name", p.name}, {"services", nlohmann::json::object()}};
  for (const auto& [name, s] : p.services) j["services"][name] = to_json(s);
  for (const auto& [key, n] : p.networks)
    j["networks"][key] = {{"name", n.name},
                          {"driver", n.driver},
                          {"external", n.external},
                          {"internal", n.internal},
                          {"labels", n.labels}};
  for (const auto& [key, v] : p.volumes)
    j["volumes"][key] = {
        {"name", v.name}, {"driver", v.driver}, {"external", v.external}, {"labels", v.labels}};
  for (auto it = p.extensions.begin(); it != p.extensions.end(); ++it) j[it.key()] = it.value();
  return j;
}

std::string config_hash(const Service& service) {
  nlohmann::json j = to_json(service);
  for (const char* key : {"build", "scale", "depends_on", "profiles"}) j.erase(key);
  return util::sha256_hex(j.dump());  // nlohmann's object keys are sorted: the dump is canonical
}

}  // namespace fleet::compose
