#include "fleet/container_spec.hpp"

#include <algorithm>
#include <cstdio>

#include "fleet/errors.hpp"
#include "fleet/file_grants.hpp"
#include "fleet/labels.hpp"

namespace fleet {
namespace {

std::string port_key(int port, const std::string& protocol) {
  return std::to_string(port) + "/" + protocol;
}

nlohmann::json restart_policy(const std::string& restart) {
  if (restart.empty() || restart == "no") return {{"Name", "no"}};
  if (restart.rfind("on-failure:", 0) == 0)
    return {{"Name", "on-failure"}, {"MaximumRetryCount", std::stoi(restart.substr(11))}};
  return {{"Name", restart}};
}

}  // namespace

bool is_kernel_service(const compose::Service& s) {
  auto it = s.extensions.find("x-fleet");
  return it != s.extensions.end() && it->is_object() && it->value("kernel", false);
}

std::string kernel_language(const compose::Service& s) {
  std::string language = "lua";
  if (s.command)
    for (std::size_t i = 0; i + 1 < s.command->size(); ++i)
      if ((*s.command)[i] == "--language") language = (*s.command)[i + 1];
  return language == "js" ? "javascript" : language;
}

std::string kernel_config(const compose::Service& s) {
  for (const auto& v : s.volumes)
    if (v.target == kKernelConfigPath) return std::filesystem::path(v.source).filename().string();
  return "";
}

compose::Healthcheck kernel_healthcheck() {
  return {.test = {"CMD", "/usr/local/bin/llmspell-kernel", "probe"},
          .interval_ns = 5'000'000'000,
          .timeout_ns = 3'000'000'000,
          .start_period_ns = 5'000'000'000,
          .retries = 3};
}

void check_plain_name(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.find('\0') != std::string::npos)
    throw InvalidInput(what + " \"" + name + "\" must be a plain file name (no path separators, not \"..\")");
}

std::string container_name(const compose::Project& p, const compose::Service& s, int number) {
  if (!s.container_name.empty()) return s.container_name;
  return p.name + "-" + s.name + "-" + std::to_string(number);
}

std::string container_name(const compose::Project& p, const compose::Service& s, const ReplicaIdentity& who) {
  return who.spawned() ? "llmspell-" + who.kernel_id : container_name(p, s, who.number);
}

nlohmann::json container_labels(const compose::Project& p, const compose::Service& s,
                                const ReplicaIdentity& who, const std::string& image_id) {
  nlohmann::json l = s.labels;
  for (const auto& [key, value] : who.labels) l[key] = value;
  l[labels::kManaged] = "true";
  if (who.spawned()) {
    l[labels::kOrigin] = "spawned";
    // The template's identity when the service is a template (templates.hpp), else its config hash.
    auto x = s.extensions.find("x-fleet");
    l[labels::kTemplate] = x != s.extensions.end() && x->is_object() && x->contains("template")
                               ? (*x)["template"].get<std::string>()
                               : compose::config_hash(s);
  } else {
    l[labels::kOrigin] = "compose";
    l[labels::kComposeProject] = p.name;
    l[labels::kComposeService] = s.name;
    l[labels::kComposeNumber] = std::to_string(who.number);
    l[labels::kComposeOneoff] = "False";
    l[labels::kComposeConfigHash] = compose::config_hash(s);
    l[labels::kComposeWorkingDir] = p.working_dir.string();
    l[labels::kComposeConfigFiles] = p.file.string();
    l[labels::kComposeVersion] = labels::kComposeVersionValue;
    l[labels::kComposeImage] = image_id;
  }
  if (is_kernel_service(s)) {
    l[labels::kKernel] = "true";
    l[labels::kKernelId] = who.spawned() ? who.kernel_id : container_name(p, s, who.number);
    // What `list` shows: the language the kernel is started with, the config mounted for it.
    l[labels::kLanguage] = kernel_language(s);
    l[labels::kConfig] = kernel_config(s);
    l[labels::kOwner] = who.owner;
  }
  return l;
}

std::vector<std::string> Peers::of(const compose::Project& p, const std::string& service) const {
  if (auto it = containers.find(service); it != containers.end() && !it->second.empty()) return it->second;
  auto s = p.services.find(service);
  if (s == p.services.end()) return {p.name + "-" + service + "-1"};
  return {container_name(p, s->second, 1)};
}

bool shares_network(const compose::Service& s) {
  return s.network_mode.rfind("service:", 0) == 0 || s.network_mode.rfind("container:", 0) == 0;
}

std::vector<std::string> networks_by_priority(const compose::Service& s) {
  std::vector<std::string> keys;
  for (const auto& [key, attachment] : s.networks) keys.push_back(key);
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    return s.networks.at(a).priority > s.networks.at(b).priority;
  });
  return keys;
}

std::vector<std::string> extra_networks(const compose::Project& p, const compose::Service& s) {
  std::vector<std::string> out;
  if (!s.network_mode.empty()) return out;
  auto keys = networks_by_priority(s);
  for (std::size_t i = 1; i < keys.size(); ++i) out.push_back(p.networks.at(keys[i]).name);
  return out;
}

nlohmann::json endpoint_settings(const compose::Project&, const compose::Service& s, const std::string& key,
                                 const std::vector<std::string>& links) {
  const compose::NetworkAttachment& a = s.networks.at(key);
  // Other services reach it by its service name.
  nlohmann::json aliases = nlohmann::json::array({s.name});
  for (const auto& alias : a.aliases)
    if (alias != s.name) aliases.push_back(alias);
  nlohmann::json e = {{"Aliases", aliases}};
  if (!links.empty()) e["Links"] = links;
  nlohmann::json ipam = nlohmann::json::object();
  if (!a.ipv4_address.empty()) ipam["IPv4Address"] = a.ipv4_address;
  if (!a.ipv6_address.empty()) ipam["IPv6Address"] = a.ipv6_address;
  if (!a.link_local_ips.empty()) ipam["LinkLocalIPs"] = a.link_local_ips;
  if (!ipam.empty()) e["IPAMConfig"] = ipam;
  if (!a.mac_address.empty()) e["MacAddress"] = a.mac_address;
  if (!a.driver_opts.empty()) e["DriverOpts"] = a.driver_opts;
  return e;
}

std::vector<std::string> container_links(const compose::Project& p, const compose::Service& s, int number,
                                         const Peers& peers) {
  // compose v2's getLinks (after v1's _get_links): every container of the linked service under the
  // link's alias, and under "<service>-<N>" and "<project>-<service>-<N>" with N this replica's number.
  std::vector<std::string> links;
  for (const auto& raw : s.links) {
    const auto colon = raw.find(':');
    const std::string service = raw.substr(0, colon);
    const std::string alias = colon == std::string::npos ? service : raw.substr(colon + 1);
    for (const auto& name : peers.of(p, service)) {
      links.push_back(name + ":" + alias);
      if (number > 0) {
        links.push_back(name + ":" + service + "-" + std::to_string(number));
        links.push_back(name + ":" + p.name + "-" + service + "-" + std::to_string(number));
      }
    }
  }
  for (const auto& raw : s.external_links) {
    const auto colon = raw.find(':');
    links.push_back(colon == std::string::npos ? raw + ":" + raw : raw);
  }
  return links;
}

std::string resolve_mode(const compose::Project& p, const std::string& mode, const Peers& peers) {
  if (mode.rfind("service:", 0) != 0) return mode;
  return "container:" + peers.of(p, mode.substr(8)).front();
}

namespace {

// volumes_from: "service[:ro|rw]" -> "<its first container>[:mode]"; "container:NAME[:mode]" ->
// "NAME[:mode]".
std::vector<std::string> volumes_from(const compose::Project& p, const compose::Service& s,
                                      const Peers& peers) {
  std::vector<std::string> out;
  for (const auto& raw : s.volumes_from) {
    if (raw.rfind("container:", 0) == 0) {
      out.push_back(raw.substr(10));
      continue;
    }
    const auto colon = raw.find(':');
    const std::string mode = colon == std::string::npos ? "" : raw.substr(colon);
    out.push_back(peers.of(p, raw.substr(0, colon)).front() + mode);
  }
  return out;
}

std::string octal(int mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%o", static_cast<unsigned>(mode));
  return buffer;
}

nlohmann::json throttle(const std::vector<std::pair<std::string, std::int64_t>>& devices) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [path, rate] : devices) out.push_back({{"Path", path}, {"Rate", rate}});
  return out;
}

// Settings the engine takes as they are written.
void put_plain_settings(const compose::Service& s, nlohmann::json& body, nlohmann::json& host) {
  if (!s.hostname.empty()) body["Hostname"] = s.hostname;
  if (!s.domainname.empty()) body["Domainname"] = s.domainname;
  if (s.tty) body["Tty"] = true;
  if (s.stdin_open) body["OpenStdin"] = true;
  if (!s.mac_address.empty()) body["MacAddress"] = s.mac_address;
  if (s.init) host["Init"] = true;
  if (s.oom_kill_disable) host["OomKillDisable"] = true;
  if (!s.runtime.empty()) host["Runtime"] = s.runtime;
  if (!s.cgroup_parent.empty()) host["CgroupParent"] = s.cgroup_parent;
  if (!s.cgroup.empty()) host["CgroupnsMode"] = s.cgroup;
  if (!s.isolation.empty()) host["Isolation"] = s.isolation;
  if (!s.userns_mode.empty()) host["UsernsMode"] = s.userns_mode;
  if (!s.uts.empty()) host["UTSMode"] = s.uts;
  if (!s.dns.empty()) host["Dns"] = s.dns;
  if (!s.dns_search.empty()) host["DnsSearch"] = s.dns_search;
  if (!s.dns_opt.empty()) host["DnsOptions"] = s.dns_opt;
  if (!s.extra_hosts.empty()) host["ExtraHosts"] = s.extra_hosts;
  if (!s.group_add.empty()) host["GroupAdd"] = s.group_add;
  if (!s.device_cgroup_rules.empty()) host["DeviceCgroupRules"] = s.device_cgroup_rules;
  if (!s.sysctls.empty()) host["Sysctls"] = s.sysctls;
  if (!s.storage_opt.empty()) host["StorageOpt"] = s.storage_opt;
  // Engine API 1.43 and later; `up` refuses them on an older engine.
  if (!s.annotations.empty()) host["Annotations"] = s.annotations;
  if (s.shm_size) host["ShmSize"] = *s.shm_size;
  if (s.cpu_period) host["CpuPeriod"] = *s.cpu_period;
  if (s.cpu_quota) host["CpuQuota"] = *s.cpu_quota;
  if (s.cpu_rt_period) host["CpuRealtimePeriod"] = *s.cpu_rt_period;
  if (s.cpu_rt_runtime) host["CpuRealtimeRuntime"] = *s.cpu_rt_runtime;
  if (s.cpu_count) host["CpuCount"] = *s.cpu_count;
  if (s.cpu_percent) host["CpuPercent"] = *s.cpu_percent;
  if (!s.cpuset.empty()) host["CpusetCpus"] = s.cpuset;
  if (s.oom_score_adj) host["OomScoreAdj"] = *s.oom_score_adj;
  if (s.mem_swappiness) host["MemorySwappiness"] = *s.mem_swappiness;
  if (!s.ulimits.empty()) {
    nlohmann::json u = nlohmann::json::array();
    for (const auto& l : s.ulimits) u.push_back({{"Name", l.name}, {"Soft", l.soft}, {"Hard", l.hard}});
    host["Ulimits"] = u;
  }
  const auto& b = s.blkio;
  if (b.weight) host["BlkioWeight"] = *b.weight;
  if (!b.weight_device.empty()) {
    nlohmann::json w = nlohmann::json::array();
    for (const auto& [path, weight] : b.weight_device) w.push_back({{"Path", path}, {"Weight", weight}});
    host["BlkioWeightDevice"] = w;
  }
  if (!b.read_bps.empty()) host["BlkioDeviceReadBps"] = throttle(b.read_bps);
  if (!b.write_bps.empty()) host["BlkioDeviceWriteBps"] = throttle(b.write_bps);
  if (!b.read_iops.empty()) host["BlkioDeviceReadIOps"] = throttle(b.read_iops);
  if (!b.write_iops.empty()) host["BlkioDeviceWriteIOps"] = throttle(b.write_iops);
  if (!s.devices.empty()) {
    nlohmann::json d = nlohmann::json::array();
    for (const auto& m : s.devices)
      d.push_back({{"PathOnHost", m.host},
                   {"PathInContainer", m.container.empty() ? m.host : m.container},
                   {"CgroupPermissions", m.permissions.empty() ? "rwm" : m.permissions}});
    host["Devices"] = d;
  }
  if (!s.device_requests.empty()) {
    nlohmann::json r = nlohmann::json::array();
    for (const auto& q : s.device_requests) {
      nlohmann::json one = {{"Driver", q.driver}, {"Count", q.count}};
      if (!q.device_ids.empty()) one["DeviceIDs"] = q.device_ids;
      one["Capabilities"] =
          q.capabilities.empty() ? nlohmann::json::array() : nlohmann::json::array({q.capabilities});
      if (!q.options.empty()) one["Options"] = q.options;
      r.push_back(one);
    }
    host["DeviceRequests"] = r;
  }
}

// Mounts: bind strings where they can say it (options after the mode: propagation, selinux label,
// nocopy), HostConfig.Mounts for an anonymous volume with nocopy, Tmpfs with size and mode.
void put_mounts(const compose::Project& p, const compose::Service& s, nlohmann::json& body,
                nlohmann::json& host) {
  nlohmann::json binds = nlohmann::json::array(), tmpfs = nlohmann::json::object(),
                 anonymous = nlohmann::json::object(), mounts = nlohmann::json::array();
  for (const auto& v : s.volumes) {
    if (v.type == "tmpfs") {
      std::string options;
      auto add = [&](const std::string& o) { options += (options.empty() ? "" : ",") + o; };
      if (v.read_only) add("ro");
      if (v.tmpfs_size) add("size=" + std::to_string(*v.tmpfs_size));
      if (v.tmpfs_mode) add("mode=" + octal(*v.tmpfs_mode));
      tmpfs[v.target] = options;
    } else if (v.type == "volume" && v.source.empty()) {
      if (v.nocopy)
        mounts.push_back({{"Type", "volume"},
                          {"Target", v.target},
                          {"ReadOnly", v.read_only},
                          {"VolumeOptions", {{"NoCopy", true}}}});
      else
        anonymous[v.target] = nlohmann::json::object();
    } else {
      std::string source = v.type == "volume" ? p.volumes.at(v.source).name : v.source;
      std::string mode = v.read_only ? "ro" : "rw";
      if (v.type == "bind" && !v.propagation.empty()) mode += "," + v.propagation;
      if (v.type == "bind" && !v.selinux.empty()) mode += "," + v.selinux;
      if (v.type == "volume" && v.nocopy) mode += ",nocopy";
      binds.push_back(source + ":" + v.target + ":" + mode);
    }
  }
  for (const auto& b : grant_binds(p, s)) binds.push_back(b);
  for (const auto& t : s.tmpfs) {
    auto colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }
  if (!binds.empty()) host["Binds"] = binds;
  if (!mounts.empty()) host["Mounts"] = mounts;
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  if (!anonymous.empty()) body["Volumes"] = anonymous;
}

}  // namespace

nlohmann::json create_body(const compose::Project& p, const compose::Service& s, const ReplicaIdentity& who,
                           const std::string& image_id, const Peers& peers) {
  nlohmann::json labels = container_labels(p, s, who, image_id);
  nlohmann::json body = {{"Image", s.image}, {"Labels", labels}};
  if (s.command) body["Cmd"] = *s.command;
  if (s.entrypoint) body["Entrypoint"] = *s.entrypoint;
  if (!s.user.empty()) body["User"] = s.user;
  if (!s.working_dir.empty()) body["WorkingDir"] = s.working_dir;
  if (!s.stop_signal.empty()) body["StopSignal"] = s.stop_signal;
  if (s.stop_grace_period_ns) body["StopTimeout"] = *s.stop_grace_period_ns / 1'000'000'000;
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : s.environment) env.push_back(k + "=" + v);
  // The kernel names itself as the fleet knows it (kernel_info, its logs).
  if (labels.contains(labels::kKernelId) && !s.environment.count("KERNEL_ID"))
    env.push_back("KERNEL_ID=" + labels[labels::kKernelId].get<std::string>());
  if (!env.empty()) body["Env"] = env;

  nlohmann::json exposed = nlohmann::json::object(), bindings = nlohmann::json::object();
  for (std::size_t i = 0; i < s.ports.size(); ++i) {
    const auto& port = s.ports[i];
    std::string key = port_key(port.container_port, port.protocol);
    exposed[key] = nlohmann::json::object();
    // A spawned kernel's ports are a block the fleet chose for it; otherwise the file's, or the
    // engine's pick ("").
    int host_port = port.host_port;
    if (!host_port && who.host_port) host_port = who.host_port + static_cast<int>(i);
    bindings[key].push_back(
        {{"HostIp", port.host_ip}, {"HostPort", host_port ? std::to_string(host_port) : std::string()}});
  }
  for (const auto& e : s.expose) exposed[e] = nlohmann::json::object();
  if (!exposed.empty()) body["ExposedPorts"] = exposed;

  if (s.healthcheck) {
    // No test: the image's own stays (the engine fills what the body leaves out from the image).
    nlohmann::json h = nlohmann::json::object();
    if (!s.healthcheck->test.empty()) h["Test"] = s.healthcheck->test;
    if (s.healthcheck->interval_ns) h["Interval"] = *s.healthcheck->interval_ns;
    if (s.healthcheck->timeout_ns) h["Timeout"] = *s.healthcheck->timeout_ns;
    if (s.healthcheck->start_period_ns) h["StartPeriod"] = *s.healthcheck->start_period_ns;
    // Engine API 1.44 and later; older engines ignore it (`up` says so).
    if (s.healthcheck->start_interval_ns) h["StartInterval"] = *s.healthcheck->start_interval_ns;
    if (s.healthcheck->retries) h["Retries"] = *s.healthcheck->retries;
    body["Healthcheck"] = h;
  }

  nlohmann::json host = {{"RestartPolicy", restart_policy(s.restart)}};
  if (s.mem_limit) host["Memory"] = *s.mem_limit;
  if (s.memswap_limit) host["MemorySwap"] = *s.memswap_limit;
  if (s.mem_reservation) host["MemoryReservation"] = *s.mem_reservation;
  if (s.cpus) host["NanoCpus"] = static_cast<std::int64_t>(*s.cpus * 1e9 + 0.5);
  if (s.cpu_shares) host["CpuShares"] = *s.cpu_shares;
  if (s.pids_limit) host["PidsLimit"] = *s.pids_limit;
  if (!s.cap_add.empty()) host["CapAdd"] = s.cap_add;
  if (!s.cap_drop.empty()) host["CapDrop"] = s.cap_drop;
  if (!s.security_opt.empty()) host["SecurityOpt"] = s.security_opt;
  if (s.read_only) host["ReadonlyRootfs"] = true;
  if (s.privileged) host["Privileged"] = true;
  if (!s.pid.empty()) host["PidMode"] = resolve_mode(p, s.pid, peers);
  if (!s.ipc.empty()) host["IpcMode"] = resolve_mode(p, s.ipc, peers);
  if (!bindings.empty()) host["PortBindings"] = bindings;
  if (s.logging) host["LogConfig"] = {{"Type", s.logging->driver}, {"Config", s.logging->options}};
  put_plain_settings(s, body, host);
  if (auto from = volumes_from(p, s, peers); !from.empty()) host["VolumesFrom"] = from;
  put_mounts(p, s, body, host);

  if (shares_network(s)) {
    // Another container's network namespace: it has that one's name, addresses and ports.
    host["NetworkMode"] = resolve_mode(p, s.network_mode, peers);
    for (const char* key : {"Hostname", "Domainname", "ExposedPorts", "MacAddress"}) body.erase(key);
    for (const char* key : {"PortBindings", "Dns", "DnsSearch", "DnsOptions", "ExtraHosts"}) host.erase(key);
  } else if (!s.network_mode.empty()) {
    host["NetworkMode"] = s.network_mode;
    std::vector<std::string> links = container_links(p, s, who.number, peers);
    if (!links.empty()) host["Links"] = links;
  } else if (!s.networks.empty()) {
    const std::string key = networks_by_priority(s).front();
    const std::string network = p.networks.at(key).name;
    host["NetworkMode"] = network;
    std::vector<std::string> links = container_links(p, s, who.number, peers);
    // The engine keeps HostConfig.Links for the default bridge only; on a user-defined network the
    // endpoint's links are what make the aliases (compose sets both).
    if (!links.empty()) host["Links"] = links;
    nlohmann::json endpoint = endpoint_settings(p, s, key, links);
    // Before API 1.44 the engine takes one MAC address, the container's: the primary network's.
    if (endpoint.contains("MacAddress") && !body.contains("MacAddress"))
      body["MacAddress"] = endpoint["MacAddress"];
    body["NetworkingConfig"] = {{"EndpointsConfig", {{network, endpoint}}}};
  }
  body["HostConfig"] = host;
  return body;
}

}  // namespace fleet
