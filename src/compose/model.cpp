#include "compose/model.hpp"

#include "util/durations.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace fleet::compose {
namespace {

using nlohmann::json;

template <typename T>
void put_optional(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}
template <typename T>
void put_nonempty(json& j, const char* key, const T& value) {
  if (!value.empty()) j[key] = value;
}
void put_true(json& j, const char* key, bool value) {
  if (value) j[key] = true;
}

// compose-go's UnitBytes prints as a decimal string, in JSON as in YAML ("mem_limit": "536870912").
json bytes(std::int64_t n) {
  return std::to_string(n);
}
void put_bytes(json& j, const char* key, const std::optional<std::int64_t>& value) {
  if (value) j[key] = bytes(*value);
}
// compose-go's Duration prints as Go's time.Duration does ("1m30s").
void put_duration(json& j, const char* key, const std::optional<std::int64_t>& ns) {
  if (ns) j[key] = util::format_duration(*ns);
}
// compose-go's FileMode prints as an octal string ("0440").
std::string octal(int mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", static_cast<unsigned>(mode));
  return buf;
}

// extra_hosts as compose v2 prints them: "host=ip" (compose-go's HostsList renders with "=" so that
// IPv6 addresses stay readable), sorted. The model keeps "host:ip" (or "host=ip" as written).
json hosts(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    auto sep = e.find('=');
    if (sep == std::string::npos) sep = e.find(':');
    if (sep == std::string::npos) {
      out.push_back(e);
      continue;
    }
    std::string ip = e.substr(sep + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    out.push_back(e.substr(0, sep) + "=" + ip);
  }
  std::sort(out.begin(), out.end());
  return out;
}

json build_json(const BuildSpec& b) {
  json j = {{"context", b.context.string()}};
  put_nonempty(j, "dockerfile", b.dockerfile);
  put_nonempty(j, "dockerfile_inline", b.dockerfile_inline);
  put_nonempty(j, "args", b.args);
  put_nonempty(j, "labels", b.labels);
  put_nonempty(j, "cache_from", b.cache_from);
  if (!b.extra_hosts.empty()) j["extra_hosts"] = hosts(b.extra_hosts);
  put_nonempty(j, "tags", b.tags);
  put_nonempty(j, "network", b.network);
  put_nonempty(j, "target", b.target);
  put_bytes(j, "shm_size", b.shm_size);
  put_true(j, "no_cache", b.no_cache);
  put_true(j, "pull", b.pull);
  // `unsupported` names keys the file carried (build.ssh, ...) without their values: nothing to print.
  return j;
}

json port_json(const PortSpec& p) {
  json j = {{"mode", "ingress"}, {"target", p.container_port}, {"protocol", p.protocol}};
  put_nonempty(j, "host_ip", p.host_ip);
  if (p.host_port) j["published"] = std::to_string(p.host_port);  // a string in compose-go
  return j;
}

json volume_json(const VolumeMount& v) {
  json j = {{"type", v.type}, {"target", v.target}};
  put_nonempty(j, "source", v.source);
  put_true(j, "read_only", v.read_only);
  json bind = json::object(), volume = json::object(), tmpfs = json::object();
  put_nonempty(bind, "propagation", v.propagation);
  put_nonempty(bind, "selinux", v.selinux);
  if (!v.create_host_path) bind["create_host_path"] = false;  // compose omits the default, true
  put_true(volume, "nocopy", v.nocopy);
  put_bytes(tmpfs, "size", v.tmpfs_size);
  put_optional(tmpfs, "mode", v.tmpfs_mode);  // a number in compose-go (uint32)
  put_nonempty(j, "bind", bind);
  put_nonempty(j, "volume", volume);
  put_nonempty(j, "tmpfs", tmpfs);
  return j;
}

json healthcheck_json(const Healthcheck& h) {
  json j = json::object();
  put_nonempty(j, "test", h.test);
  put_duration(j, "interval", h.interval_ns);
  put_duration(j, "timeout", h.timeout_ns);
  put_duration(j, "start_period", h.start_period_ns);
  put_duration(j, "start_interval", h.start_interval_ns);
  put_optional(j, "retries", h.retries);
  return j;
}

// A network with no settings prints as null, as compose prints `networks: {default: null}`.
json attachment_json(const NetworkAttachment& a) {
  json j = json::object();
  put_nonempty(j, "aliases", a.aliases);
  put_nonempty(j, "ipv4_address", a.ipv4_address);
  put_nonempty(j, "ipv6_address", a.ipv6_address);
  put_nonempty(j, "mac_address", a.mac_address);
  put_nonempty(j, "link_local_ips", a.link_local_ips);
  put_nonempty(j, "driver_opts", a.driver_opts);
  if (a.priority) j["priority"] = a.priority;
  return j.empty() ? json(nullptr) : j;
}

json ulimits_json(const std::vector<Ulimit>& ulimits) {
  json j = json::object();
  for (const auto& u : ulimits)
    j[u.name] = u.soft == u.hard ? json(u.soft) : json{{"soft", u.soft}, {"hard", u.hard}};
  return j;
}

// Key names as the specification and compose's YAML write them (path, weight, rate); rates are
// compose-go's UnitBytes, so decimal strings.
json blkio_json(const BlkioConfig& b) {
  json j = json::object();
  put_optional(j, "weight", b.weight);
  for (const auto& [path, weight] : b.weight_device)
    j["weight_device"].push_back({{"path", path}, {"weight", weight}});
  auto rates = [&j](const char* key, const std::vector<std::pair<std::string, std::int64_t>>& list) {
    for (const auto& [path, rate] : list) j[key].push_back({{"path", path}, {"rate", bytes(rate)}});
  };
  rates("device_read_bps", b.read_bps);
  rates("device_write_bps", b.write_bps);
  rates("device_read_iops", b.read_iops);
  rates("device_write_iops", b.write_iops);
  return j;
}

json device_request_json(const DeviceRequest& d) {
  json j = json::object();
  put_nonempty(j, "driver", d.driver);
  if (d.count) j["count"] = d.count;  // -1: all, as compose-go keeps it
  put_nonempty(j, "device_ids", d.device_ids);
  put_nonempty(j, "capabilities", d.capabilities);
  put_nonempty(j, "options", d.options);
  return j;
}

json hook_json(const Hook& h) {
  json j = {{"command", h.command}};
  put_nonempty(j, "user", h.user);
  put_nonempty(j, "working_dir", h.working_dir);
  put_true(j, "privileged", h.privileged);
  put_nonempty(j, "environment", h.environment);
  return j;
}

json grant_json(const FileGrant& g) {
  json j = {{"source", g.source}};
  put_nonempty(j, "target", g.target);
  put_nonempty(j, "uid", g.uid);
  put_nonempty(j, "gid", g.gid);
  if (g.mode) j["mode"] = octal(*g.mode);
  return j;
}

// A top-level secret or config. The environment variable's value (environment_value) is the secret
// itself and is never printed; a secret's inline content is not printed either (as compose).
json file_object_json(const FileObjectDef& d, bool secret) {
  json j = json::object();
  put_nonempty(j, "name", d.name);
  if (!d.file.empty()) j["file"] = d.file.string();
  put_nonempty(j, "environment", d.environment);
  if (!secret && d.content && d.environment.empty()) j["content"] = *d.content;
  put_true(j, "external", d.external);
  return j;
}

json network_json(const NetworkDef& n) {
  json j = json::object();
  put_nonempty(j, "name", n.name);
  put_nonempty(j, "driver", n.driver);
  put_nonempty(j, "driver_opts", n.driver_opts);
  if (n.ipam) {
    json ipam = json::object();
    put_nonempty(ipam, "driver", n.ipam->driver);
    for (const auto& pool : n.ipam->config) {
      json c = json::object();
      put_nonempty(c, "subnet", pool.subnet);
      put_nonempty(c, "ip_range", pool.ip_range);
      put_nonempty(c, "gateway", pool.gateway);
      put_nonempty(c, "aux_addresses", pool.aux_addresses);
      ipam["config"].push_back(c);
    }
    put_nonempty(ipam, "options", n.ipam->options);
    put_nonempty(j, "ipam", ipam);
  }
  put_true(j, "external", n.external);
  put_true(j, "internal", n.internal);
  put_true(j, "attachable", n.attachable);
  put_nonempty(j, "labels", n.labels);
  put_optional(j, "enable_ipv4", n.enable_ipv4);
  put_true(j, "enable_ipv6", n.enable_ipv6);
  return j;
}

json volume_def_json(const VolumeDef& v) {
  json j = json::object();
  put_nonempty(j, "name", v.name);
  put_nonempty(j, "driver", v.driver);
  put_nonempty(j, "driver_opts", v.driver_opts);
  put_true(j, "external", v.external);
  put_nonempty(j, "labels", v.labels);
  return j;
}

// The config hash's input for the settings the fleet had before the model followed the whole
// specification, in the shape those versions hashed them (their to_json): numbers for sizes, *_ns for
// durations, networks as key -> aliases. Containers carry that hash in their labels; computing it
// any other way would make the first `up` after an upgrade recreate every container. Frozen: do not
// change what this prints for a service that uses only these settings.
json legacy_hash_json(const Service& s) {
  json j = json::object();
  j["image"] = s.image;
  put_optional(j, "command", s.command);
  put_optional(j, "entrypoint", s.entrypoint);
  put_nonempty(j, "container_name", s.container_name);
  for (const auto& p : s.ports)
    j["ports"].push_back({{"host_ip", p.host_ip},
                          {"published", p.host_port},
                          {"target", p.container_port},
                          {"protocol", p.protocol}});
  put_nonempty(j, "expose", s.expose);
  for (const auto& v : s.volumes) {
    json m = {{"type", v.type}, {"source", v.source}, {"target", v.target}, {"read_only", v.read_only}};
    // The mount options the model gained, only when set (in compose's sub-mappings).
    json shaped = volume_json(v);
    for (const char* key : {"bind", "volume", "tmpfs"})
      if (shaped.contains(key)) m[key] = shaped[key];
    j["volumes"].push_back(m);
  }
  put_nonempty(j, "environment", s.environment);
  put_nonempty(j, "labels", s.labels);
  put_optional(j, "mem_limit", s.mem_limit);
  put_optional(j, "mem_reservation", s.mem_reservation);
  put_optional(j, "memswap_limit", s.memswap_limit);
  put_optional(j, "cpus", s.cpus);
  put_optional(j, "cpu_shares", s.cpu_shares);
  put_optional(j, "pids_limit", s.pids_limit);
  if (s.healthcheck) {
    json h = {{"test", s.healthcheck->test}};
    put_optional(h, "interval_ns", s.healthcheck->interval_ns);
    put_optional(h, "timeout_ns", s.healthcheck->timeout_ns);
    put_optional(h, "start_period_ns", s.healthcheck->start_period_ns);
    put_optional(h, "start_interval_ns", s.healthcheck->start_interval_ns);  // new: only when set
    put_optional(h, "retries", s.healthcheck->retries);
    j["healthcheck"] = h;
  }
  put_nonempty(j, "restart", s.restart);
  // Aliases only: the old form. An attachment with the new settings: compose's shape.
  for (const auto& [key, a] : s.networks) {
    NetworkAttachment aliases_only;
    aliases_only.aliases = a.aliases;
    j["networks"][key] =
        attachment_json(a) == attachment_json(aliases_only) ? json(a.aliases) : attachment_json(a);
  }
  put_nonempty(j, "user", s.user);
  put_nonempty(j, "working_dir", s.working_dir);
  put_true(j, "read_only", s.read_only);
  put_nonempty(j, "cap_add", s.cap_add);
  put_nonempty(j, "cap_drop", s.cap_drop);
  put_nonempty(j, "security_opt", s.security_opt);
  put_optional(j, "stop_grace_period_ns", s.stop_grace_period_ns);
  put_nonempty(j, "stop_signal", s.stop_signal);
  if (s.logging) j["logging"] = {{"driver", s.logging->driver}, {"options", s.logging->options}};
  put_nonempty(j, "tmpfs", s.tmpfs);
  put_true(j, "privileged", s.privileged);
  put_nonempty(j, "network_mode", s.network_mode);
  put_nonempty(j, "pid", s.pid);
  put_nonempty(j, "ipc", s.ipc);
  return j;
}

// Keys of to_json that legacy_hash_json renders in its own (old) shape; "stop_grace_period" is the
// compose name of the old stop_grace_period_ns.
const std::set<std::string> kLegacyKeys = {
    // clang-format off
    "image", "command", "entrypoint", "container_name", "ports", "expose", "volumes", "environment",
    "labels", "mem_limit", "mem_reservation", "memswap_limit", "cpus", "cpu_shares", "pids_limit",
    "healthcheck", "restart", "networks", "user", "working_dir", "read_only", "cap_add", "cap_drop",
    "security_opt", "stop_grace_period", "stop_signal", "logging", "tmpfs", "privileged", "network_mode",
    "pid", "ipc"
    // clang-format on
};
// Keys that never recreate a container: how it is built and pulled, how many there are, what starts
// first, which profiles enable it, whether `up` follows its logs.
const std::set<std::string> kUnhashedKeys = {"build",      "pull_policy", "scale",
                                             "depends_on", "profiles",    "attach"};

}  // namespace

std::vector<std::string> Project::all_profiles() const {
  std::set<std::string> all;
  for (const auto& entry : services) all.insert(entry.second.profiles.begin(), entry.second.profiles.end());
  return {all.begin(), all.end()};
}

nlohmann::json to_json(const Service& s) {
  json j = json::object();
  put_nonempty(j, "image", s.image);
  if (s.build) j["build"] = build_json(*s.build);
  put_optional(j, "command", s.command);
  put_optional(j, "entrypoint", s.entrypoint);
  put_nonempty(j, "container_name", s.container_name);
  for (const auto& p : s.ports) j["ports"].push_back(port_json(p));
  put_nonempty(j, "expose", s.expose);
  for (const auto& v : s.volumes) j["volumes"].push_back(volume_json(v));
  put_nonempty(j, "environment", s.environment);
  put_nonempty(j, "labels", s.labels);
  put_nonempty(j, "annotations", s.annotations);
  put_bytes(j, "mem_limit", s.mem_limit);
  put_bytes(j, "mem_reservation", s.mem_reservation);
  put_bytes(j, "memswap_limit", s.memswap_limit);
  if (s.mem_swappiness) j["mem_swappiness"] = bytes(*s.mem_swappiness);  // UnitBytes in compose-go too
  put_bytes(j, "shm_size", s.shm_size);
  put_optional(j, "cpus", s.cpus);
  put_optional(j, "cpu_shares", s.cpu_shares);
  put_optional(j, "cpu_period", s.cpu_period);
  put_optional(j, "cpu_quota", s.cpu_quota);
  put_optional(j, "cpu_rt_period", s.cpu_rt_period);
  put_optional(j, "cpu_rt_runtime", s.cpu_rt_runtime);
  put_optional(j, "cpu_count", s.cpu_count);
  put_optional(j, "cpu_percent", s.cpu_percent);
  put_nonempty(j, "cpuset", s.cpuset);
  put_optional(j, "pids_limit", s.pids_limit);
  put_optional(j, "oom_score_adj", s.oom_score_adj);
  put_true(j, "oom_kill_disable", s.oom_kill_disable);
  if (!s.blkio.empty()) j["blkio_config"] = blkio_json(s.blkio);
  put_optional(j, "scale", s.replicas);
  if (s.healthcheck) j["healthcheck"] = healthcheck_json(*s.healthcheck);
  put_nonempty(j, "restart", s.restart);
  for (const auto& [key, a] : s.networks) j["networks"][key] = attachment_json(a);
  for (const auto& [name, d] : s.depends_on) {
    j["depends_on"][name] = {{"condition", d.condition}, {"required", d.required}};
    if (d.restart) j["depends_on"][name]["restart"] = true;
  }
  put_nonempty(j, "profiles", s.profiles);
  put_nonempty(j, "user", s.user);
  put_nonempty(j, "working_dir", s.working_dir);
  put_true(j, "read_only", s.read_only);
  put_nonempty(j, "cap_add", s.cap_add);
  put_nonempty(j, "cap_drop", s.cap_drop);
  put_nonempty(j, "security_opt", s.security_opt);
  put_duration(j, "stop_grace_period", s.stop_grace_period_ns);
  put_nonempty(j, "stop_signal", s.stop_signal);
  if (s.logging) {
    json l = json::object();
    put_nonempty(l, "driver", s.logging->driver);
    put_nonempty(l, "options", s.logging->options);
    j["logging"] = l;
  }
  put_nonempty(j, "tmpfs", s.tmpfs);
  put_true(j, "privileged", s.privileged);
  put_nonempty(j, "network_mode", s.network_mode);
  put_nonempty(j, "pid", s.pid);
  put_nonempty(j, "ipc", s.ipc);
  put_true(j, "init", s.init);
  put_true(j, "tty", s.tty);
  put_true(j, "stdin_open", s.stdin_open);
  put_nonempty(j, "hostname", s.hostname);
  put_nonempty(j, "domainname", s.domainname);
  put_nonempty(j, "mac_address", s.mac_address);
  put_nonempty(j, "runtime", s.runtime);
  put_nonempty(j, "platform", s.platform);
  put_nonempty(j, "isolation", s.isolation);
  put_nonempty(j, "cgroup", s.cgroup);
  put_nonempty(j, "cgroup_parent", s.cgroup_parent);
  put_nonempty(j, "userns_mode", s.userns_mode);
  put_nonempty(j, "uts", s.uts);
  put_nonempty(j, "pull_policy", s.pull_policy);
  put_nonempty(j, "dns", s.dns);
  put_nonempty(j, "dns_search", s.dns_search);
  put_nonempty(j, "dns_opt", s.dns_opt);
  if (!s.extra_hosts.empty()) j["extra_hosts"] = hosts(s.extra_hosts);
  put_nonempty(j, "group_add", s.group_add);
  put_nonempty(j, "links", s.links);
  put_nonempty(j, "external_links", s.external_links);
  put_nonempty(j, "volumes_from", s.volumes_from);
  put_nonempty(j, "device_cgroup_rules", s.device_cgroup_rules);
  if (!s.ulimits.empty()) j["ulimits"] = ulimits_json(s.ulimits);
  put_nonempty(j, "sysctls", s.sysctls);
  put_nonempty(j, "storage_opt", s.storage_opt);
  for (const auto& d : s.devices)
    j["devices"].push_back({{"source", d.host}, {"target", d.container}, {"permissions", d.permissions}});
  // gpus and deploy.resources.reservations.devices are one list in the model: printed where the
  // specification's long form keeps them.
  for (const auto& d : s.device_requests)
    j["deploy"]["resources"]["reservations"]["devices"].push_back(device_request_json(d));
  for (const auto& g : s.secrets) j["secrets"].push_back(grant_json(g));
  for (const auto& g : s.configs) j["configs"].push_back(grant_json(g));
  for (const auto& h : s.post_start) j["post_start"].push_back(hook_json(h));
  for (const auto& h : s.pre_stop) j["pre_stop"].push_back(hook_json(h));
  if (!s.attach) j["attach"] = false;
  for (auto it = s.extensions.begin(); it != s.extensions.end(); ++it) j[it.key()] = it.value();
  return j;
}

nlohmann::json to_json(const Project& p) {
  // include is not printed (its services are merged in), nor the loader's notes, as compose.
  json j = {{"name", p.name}, {"services", json::object()}};
  for (const auto& [name, s] : p.services) j["services"][name] = to_json(s);
  for (const auto& [key, n] : p.networks) j["networks"][key] = network_json(n);
  for (const auto& [key, v] : p.volumes) j["volumes"][key] = volume_def_json(v);
  for (const auto& [key, d] : p.secrets) j["secrets"][key] = file_object_json(d, true);
  for (const auto& [key, d] : p.configs) j["configs"][key] = file_object_json(d, false);
  for (auto it = p.extensions.begin(); it != p.extensions.end(); ++it) j[it.key()] = it.value();
  return j;
}

// The hash's input: the settings older versions knew in their old shape (legacy_hash_json), and every
// other key of to_json as to_json prints it, present only when set, so a service that uses none of
// the new settings hashes as before. A setting added to to_json later is hashed by default; leaving
// one out (kUnhashedKeys) is the decision to take.
std::string config_hash(const Service& service) {
  json j = legacy_hash_json(service);
  const json shaped = to_json(service);
  for (auto it = shaped.begin(); it != shaped.end(); ++it)
    if (!kLegacyKeys.count(it.key()) && !kUnhashedKeys.count(it.key())) j[it.key()] = it.value();
  return util::sha256_hex(j.dump());  // nlohmann's object keys are sorted: the dump is canonical
}

}  // namespace fleet::compose
