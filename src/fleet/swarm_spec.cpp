#include "fleet/swarm_spec.hpp"

#include <algorithm>

#include "fleet/container_spec.hpp"
#include "fleet/labels.hpp"
#include "util/sha256.hpp"

namespace fleet {
namespace {

using nlohmann::json;

void note_unsupported(const compose::Service& s, const std::string& key, const std::string& why,
                      std::vector<std::string>& notes) {
  notes.push_back("services." + s.name + "." + key + " " + why);
}

// Settings a swarm task cannot have (Engine API 1.41's ContainerSpec has no field for them).
void note_what_swarm_lacks(const compose::Service& s, std::vector<std::string>& notes) {
  const std::string ignored = "is not available on swarm; ignored";
  const std::pair<bool, const char*> unsupported[] = {
      {!s.container_name.empty(), "container_name"},
      {s.privileged, "privileged"},
      {!s.security_opt.empty(), "security_opt"},
      {!s.devices.empty(), "devices"},
      {!s.device_requests.empty(), "deploy.resources.reservations.devices"},
      {!s.links.empty(), "links"},
      {!s.external_links.empty(), "external_links"},
      {!s.volumes_from.empty(), "volumes_from"},
      {!s.network_mode.empty(), "network_mode"},
      {!s.pid.empty(), "pid"},
      {!s.ipc.empty(), "ipc"},
      {!s.userns_mode.empty(), "userns_mode"},
      {!s.cgroup_parent.empty(), "cgroup_parent"},
      {!s.mac_address.empty(), "mac_address"},
      {!s.cpuset.empty(), "cpuset"},
      {s.cpu_shares.has_value(), "cpu_shares"},
      {s.mem_swappiness.has_value(), "mem_swappiness"},
      {s.memswap_limit.has_value(), "memswap_limit"},
      {s.oom_score_adj.has_value(), "oom_score_adj"},
      {s.shm_size.has_value(), "shm_size"},
      {!s.post_start.empty() || !s.pre_stop.empty(), "post_start/pre_stop"},
  };
  for (const auto& [used, key] : unsupported)
    if (used) note_unsupported(s, key, ignored, notes);
  if (s.build)
    note_unsupported(s, "build", "is not run on swarm: the nodes get the image from the engine that has it",
                     notes);
  if (!s.depends_on.empty())
    note_unsupported(s, "depends_on", "is not ordered on swarm: every service starts at once", notes);
}

json update_config(const compose::SwarmUpdateConfig& c) {
  // One task at a time unless told (docker stack's default; the API's 0 would be all at once).
  json j = {{"Parallelism", c.parallelism.value_or(1)}};
  if (c.delay_ns) j["Delay"] = *c.delay_ns;
  if (c.monitor_ns) j["Monitor"] = *c.monitor_ns;
  if (!c.failure_action.empty()) j["FailureAction"] = c.failure_action;
  if (c.max_failure_ratio) j["MaxFailureRatio"] = *c.max_failure_ratio;
  if (!c.order.empty()) j["Order"] = c.order;
  return j;
}

// deploy.restart_policy; else compose's `restart` said the swarm's way (docker stack reads only the
// former; a file written for one host keeps its meaning).
json restart_policy(const compose::Service& s) {
  if (s.swarm.restart_policy) {
    const auto& r = *s.swarm.restart_policy;
    json j = {{"Condition", r.condition}};
    if (r.delay_ns) j["Delay"] = *r.delay_ns;
    if (r.window_ns) j["Window"] = *r.window_ns;
    if (r.max_attempts) j["MaxAttempts"] = *r.max_attempts;
    return j;
  }
  // No restart (or "no") leaves the swarm's default, any, as docker stack does: a drained or failed
  // node's tasks are then rescheduled.
  if (s.restart.empty() || s.restart == "no") return nullptr;
  if (s.restart.rfind("on-failure", 0) == 0) {
    json j = {{"Condition", "on-failure"}};
    if (auto colon = s.restart.find(':'); colon != std::string::npos)
      j["MaxAttempts"] = std::stoll(s.restart.substr(colon + 1));
    return j;
  }
  return {{"Condition", "any"}};  // always, unless-stopped
}

json mounts(const compose::Project& p, const compose::Service& s) {
  json out = json::array();
  for (const auto& v : s.volumes) {
    json m = {{"Type", v.type}, {"Target", v.target}, {"ReadOnly", v.read_only}};
    if (v.type == "bind") {
      m["Source"] = v.source;
      if (!v.propagation.empty()) m["BindOptions"] = {{"Propagation", v.propagation}};
    } else if (v.type == "volume") {
      json options = {{"Labels", stack_labels(p)}};
      if (v.nocopy) options["NoCopy"] = true;
      if (!v.source.empty()) {
        const auto& def = p.volumes.at(v.source);
        m["Source"] = def.name;
        if (!def.driver.empty() || !def.driver_opts.empty())
          options["DriverConfig"] = {{"Name", def.driver.empty() ? "local" : def.driver},
                                     {"Options", def.driver_opts}};
        for (const auto& [k, value] : def.labels) options["Labels"][k] = value;
      }
      m["VolumeOptions"] = options;
    } else if (v.type == "tmpfs") {
      json options = json::object();
      if (v.tmpfs_size) options["SizeBytes"] = *v.tmpfs_size;
      if (v.tmpfs_mode) options["Mode"] = *v.tmpfs_mode;
      if (!options.empty()) m["TmpfsOptions"] = options;
    }
    out.push_back(m);
  }
  for (const auto& t : s.tmpfs) {
    const auto colon = t.find(':');
    out.push_back({{"Type", "tmpfs"}, {"Target", t.substr(0, colon)}});
  }
  return out;
}

json file_grants(const std::vector<compose::FileGrant>& grants,
                 const std::map<std::string, SwarmFileRef>& refs, const char* id_key, const char* name_key,
                 const std::string& default_dir) {
  json out = json::array();
  for (const auto& g : grants) {
    const auto& ref = refs.at(g.source);
    std::string target = g.target.empty() ? default_dir + g.source : g.target;
    json file = {{"Name", target},
                 {"UID", g.uid.empty() ? "0" : g.uid},
                 {"GID", g.gid.empty() ? "0" : g.gid},
                 {"Mode", g.mode.value_or(0444)}};
    out.push_back({{"File", file}, {id_key, ref.id}, {name_key, ref.name}});
  }
  return out;
}

json container_spec(const compose::Project& p, const compose::Service& s,
                    const std::map<std::string, SwarmFileRef>& secrets,
                    const std::map<std::string, SwarmFileRef>& configs) {
  json labels = s.labels;
  labels[kStackNamespace] = p.name;
  labels[labels::kManaged] = "true";
  labels[labels::kOrigin] = "compose";
  if (is_kernel_service(s)) {
    labels[labels::kKernel] = "true";
    labels[labels::kLanguage] = kernel_language(s);
    labels[labels::kConfig] = kernel_config(s);
  }
  json c = {{"Image", s.image}, {"Labels", labels}};
  // Compose's entrypoint is the container's command; its command, the arguments (as docker stack).
  if (s.entrypoint) c["Command"] = *s.entrypoint;
  if (s.command) c["Args"] = *s.command;
  if (!s.environment.empty()) {
    json env = json::array();
    for (const auto& [k, v] : s.environment) env.push_back(k + "=" + v);
    c["Env"] = env;
  }
  if (!s.user.empty()) c["User"] = s.user;
  if (!s.working_dir.empty()) c["Dir"] = s.working_dir;
  if (!s.group_add.empty()) c["Groups"] = s.group_add;
  if (!s.hostname.empty()) c["Hostname"] = s.hostname;
  if (s.init) c["Init"] = true;
  if (s.tty) c["TTY"] = true;
  if (s.stdin_open) c["OpenStdin"] = true;
  if (s.read_only) c["ReadOnly"] = true;
  if (!s.stop_signal.empty()) c["StopSignal"] = s.stop_signal;
  if (s.stop_grace_period_ns) c["StopGracePeriod"] = *s.stop_grace_period_ns;
  if (!s.cap_add.empty()) c["CapabilityAdd"] = s.cap_add;
  if (!s.cap_drop.empty()) c["CapabilityDrop"] = s.cap_drop;
  if (!s.sysctls.empty()) c["Sysctls"] = s.sysctls;
  if (!s.isolation.empty()) c["Isolation"] = s.isolation;
  if (!s.ulimits.empty()) {
    json u = json::array();
    for (const auto& l : s.ulimits) u.push_back({{"Name", l.name}, {"Soft", l.soft}, {"Hard", l.hard}});
    c["Ulimits"] = u;
  }
  if (!s.dns.empty() || !s.dns_search.empty() || !s.dns_opt.empty())
    c["DNSConfig"] = {{"Nameservers", s.dns}, {"Search", s.dns_search}, {"Options", s.dns_opt}};
  if (!s.extra_hosts.empty()) {
    // "host:ip" as compose writes them; a swarm wants "ip host".
    json hosts = json::array();
    for (const auto& h : s.extra_hosts) {
      const auto colon = h.find(':');
      hosts.push_back(h.substr(colon + 1) + " " + h.substr(0, colon));
    }
    c["Hosts"] = hosts;
  }
  json m = mounts(p, s);
  if (!m.empty()) c["Mounts"] = m;
  if (s.healthcheck) {
    json h = json::object();
    if (!s.healthcheck->test.empty()) h["Test"] = s.healthcheck->test;
    if (s.healthcheck->interval_ns) h["Interval"] = *s.healthcheck->interval_ns;
    if (s.healthcheck->timeout_ns) h["Timeout"] = *s.healthcheck->timeout_ns;
    if (s.healthcheck->start_period_ns) h["StartPeriod"] = *s.healthcheck->start_period_ns;
    if (s.healthcheck->retries) h["Retries"] = *s.healthcheck->retries;
    c["HealthCheck"] = h;
  }
  if (!s.secrets.empty())
    c["Secrets"] = file_grants(s.secrets, secrets, "SecretID", "SecretName", "/run/secrets/");
  if (!s.configs.empty()) c["Configs"] = file_grants(s.configs, configs, "ConfigID", "ConfigName", "/");
  return c;
}

json resources(const compose::Service& s) {
  json limits = json::object(), reservations = json::object();
  if (s.cpus) limits["NanoCPUs"] = static_cast<std::int64_t>(*s.cpus * 1e9 + 0.5);
  if (s.mem_limit) limits["MemoryBytes"] = *s.mem_limit;
  if (s.pids_limit && *s.pids_limit > 0) limits["Pids"] = *s.pids_limit;
  if (s.swarm.cpus_reservation)
    reservations["NanoCPUs"] = static_cast<std::int64_t>(*s.swarm.cpus_reservation * 1e9 + 0.5);
  if (s.mem_reservation) reservations["MemoryBytes"] = *s.mem_reservation;
  return {{"Limits", limits}, {"Reservations", reservations}};
}

json endpoint_spec(const compose::Service& s, const SwarmEndpoints& endpoints,
                   std::vector<std::string>& notes) {
  std::string mode =
      s.swarm.endpoint_mode.empty() ? (endpoints.ipvs ? "vip" : "dnsrr") : s.swarm.endpoint_mode;
  if (mode == "vip" && !endpoints.ipvs) {
    note_unsupported(s, "deploy.endpoint_mode", "vip needs IPVS, which this kernel lacks: dnsrr used", notes);
    mode = "dnsrr";
  }
  // A kernel's five ports must reach one kernel: the routing mesh would spread them over replicas.
  const bool host_ports = mode == "dnsrr" || is_kernel_service(s);
  json ports = json::array();
  bool host_ip_dropped = false;
  for (const auto& port : s.ports) {
    // Without a virtual IP there is no routing mesh: a port is published on the node of each task.
    json entry = {{"Protocol", port.protocol},
                  {"TargetPort", port.container_port},
                  {"PublishMode", host_ports ? "host" : "ingress"}};
    if (port.host_port) entry["PublishedPort"] = port.host_port;
    host_ip_dropped = host_ip_dropped || !port.host_ip.empty();
    ports.push_back(entry);
  }
  if (host_ip_dropped)
    note_unsupported(s, "ports",
                     "name a host address, which swarm cannot bind: published on the node's every address",
                     notes);
  return {{"Mode", mode}, {"Ports", ports}};
}

json networks(const compose::Project& p, const compose::Service& s) {
  json out = json::array();
  if (s.networks.empty()) {
    out.push_back({{"Target", stack_object_name(p, "default")}, {"Aliases", {s.name}}});
    return out;
  }
  for (const auto& key : networks_by_priority(s)) {
    json aliases = json::array({s.name});
    for (const auto& a : s.networks.at(key).aliases) aliases.push_back(a);
    out.push_back({{"Target", p.networks.at(key).name}, {"Aliases", aliases}});
  }
  return out;
}

}  // namespace

std::string stack_service_name(const compose::Project& project, const std::string& service) {
  return project.name + "_" + service;
}

std::string stack_object_name(const compose::Project& project, const std::string& key) {
  return project.name + "_" + key;
}

std::map<std::string, std::string> stack_labels(const compose::Project& project) {
  return {{kStackNamespace, project.name}, {labels::kManaged, "true"}};
}

std::vector<StackNetwork> stack_networks(const compose::Project& p,
                                         const std::vector<std::string>& services) {
  std::vector<std::string> keys;
  for (const auto& name : services) {
    const auto& s = p.services.at(name);
    if (s.networks.empty()) keys.push_back("default");
    for (const auto& [key, attachment] : s.networks) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<StackNetwork> out;
  for (const auto& key : keys) {
    auto def_it = p.networks.find(key);
    const compose::NetworkDef def = def_it == p.networks.end() ? compose::NetworkDef{} : def_it->second;
    StackNetwork n{.key = key,
                   .name = def_it == p.networks.end() ? stack_object_name(p, key) : def.name,
                   .external = def.external};
    json labels = def.labels;
    for (const auto& [k, v] : stack_labels(p)) labels[k] = v;
    // A single host's bridge is an overlay across nodes (docker stack does the same).
    const std::string driver = def.driver.empty() || def.driver == "bridge" ? "overlay" : def.driver;
    n.create_body = {{"Name", n.name},     {"Driver", driver},         {"Labels", labels},
                     {"Attachable", true}, {"Internal", def.internal}, {"Options", def.driver_opts}};
    if (def.ipam) {
      json config = json::array();
      for (const auto& pool : def.ipam->config) {
        json c = json::object();
        if (!pool.subnet.empty()) c["Subnet"] = pool.subnet;
        if (!pool.ip_range.empty()) c["IPRange"] = pool.ip_range;
        if (!pool.gateway.empty()) c["Gateway"] = pool.gateway;
        config.push_back(c);
      }
      n.create_body["IPAM"] = {{"Driver", def.ipam->driver.empty() ? "default" : def.ipam->driver},
                               {"Config", config}};
    }
    out.push_back(std::move(n));
  }
  return out;
}

StackService stack_service(const compose::Project& p, const compose::Service& s, int replicas,
                           const SwarmEndpoints& endpoints,
                           const std::map<std::string, SwarmFileRef>& secrets,
                           const std::map<std::string, SwarmFileRef>& configs,
                           std::vector<std::string>& notes) {
  note_what_swarm_lacks(s, notes);
  json labels = s.swarm.labels;
  for (const auto& [k, v] : stack_labels(p)) labels[k] = v;
  labels[kStackImage] = s.image;
  labels[labels::kOrigin] = "compose";
  if (is_kernel_service(s)) labels[labels::kKernel] = "true";

  json task = {{"ContainerSpec", container_spec(p, s, secrets, configs)},
               {"Resources", resources(s)},
               {"Networks", networks(p, s)}};
  if (json restart = restart_policy(s); !restart.is_null()) task["RestartPolicy"] = restart;
  json placement = json::object();
  if (!s.swarm.constraints.empty()) placement["Constraints"] = s.swarm.constraints;
  if (!s.swarm.preferences.empty()) {
    json preferences = json::array();
    for (const auto& descriptor : s.swarm.preferences)
      preferences.push_back({{"Spread", {{"SpreadDescriptor", descriptor}}}});
    placement["Preferences"] = preferences;
  }
  if (s.swarm.max_replicas_per_node) placement["MaxReplicas"] = *s.swarm.max_replicas_per_node;
  if (!placement.empty()) task["Placement"] = placement;
  if (s.logging) task["LogDriver"] = {{"Name", s.logging->driver}, {"Options", s.logging->options}};

  json spec = {{"Name", stack_service_name(p, s.name)},
               {"Labels", labels},
               {"TaskTemplate", task},
               {"EndpointSpec", endpoint_spec(s, endpoints, notes)}};
  if (s.swarm.mode == "global")
    spec["Mode"] = {{"Global", json::object()}};
  else if (s.swarm.mode == "replicated-job")
    spec["Mode"] = {{"ReplicatedJob", {{"MaxConcurrent", replicas}, {"TotalCompletions", replicas}}}};
  else if (s.swarm.mode == "global-job")
    spec["Mode"] = {{"GlobalJob", json::object()}};
  else
    spec["Mode"] = {{"Replicated", {{"Replicas", replicas}}}};
  if (s.swarm.update_config) spec["UpdateConfig"] = update_config(*s.swarm.update_config);
  if (s.swarm.rollback_config) spec["RollbackConfig"] = update_config(*s.swarm.rollback_config);

  // The hash leaves the replica count out: scaling is not a change of the service's definition.
  spec["Labels"][kSpecHash] = util::sha256_hex(with_replicas(spec, 0).dump());
  return {.key = s.name, .name = spec["Name"], .spec = spec, .kernel = is_kernel_service(s)};
}

json with_replicas(json spec, int replicas) {
  if (spec.contains("Mode") && spec["Mode"].contains("Replicated"))
    spec["Mode"]["Replicated"]["Replicas"] = replicas;
  return spec;
}

}  // namespace fleet
