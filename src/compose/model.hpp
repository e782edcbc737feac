// The compose file as a typed model: what the fleet understands of a service. Pure data; the
// loader (loader.hpp) fills it, the fleet turns it into engine calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::compose {

struct PortSpec {
  std::string host_ip;  // empty: all interfaces
  int host_port = 0;    // 0: the engine picks one
  int container_port = 0;
  std::string protocol = "tcp";
};

struct VolumeMount {
  std::string type;    // bind, volume, tmpfs
  std::string source;  // absolute host path (bind), volume name (volume, empty: anonymous)
  std::string target;
  bool read_only = false;
  std::string propagation;       // bind: rprivate, shared, ...
  std::string selinux;           // bind: z or Z
  bool create_host_path = true;  // bind: a missing host path is created (compose's default)
  bool nocopy = false;           // volume: do not copy the image's content into a new volume
  std::optional<std::int64_t> tmpfs_size;
  std::optional<int> tmpfs_mode;
};

struct Healthcheck {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]; empty: the image's
  std::optional<std::int64_t> interval_ns, timeout_ns, start_period_ns, start_interval_ns;
  std::optional<int> retries;
};

struct Dependency {
  std::string condition = "service_started";  // service_healthy, service_completed_successfully
  bool required = true;
  bool restart = false;
};

struct BuildSpec {
  std::filesystem::path context;  // absolute
  std::string dockerfile = "Dockerfile";
  std::string dockerfile_inline;  // the Dockerfile's text, instead of a file in the context
  std::map<std::string, std::string> args;
  std::map<std::string, std::string> labels;
  std::vector<std::string> cache_from, extra_hosts, tags;  // extra_hosts as "host:ip"
  std::string network, target;
  std::optional<std::int64_t> shm_size;
  bool no_cache = false, pull = false;
  // Keys the file may carry but the engine's classic builder cannot honour: `build` refuses them.
  std::vector<std::string> unsupported;  // e.g. "build.ssh"
};

// An item of a service's secrets or configs: which top-level definition lands where.
struct FileGrant {
  std::string source;  // key under the top-level secrets/configs
  std::string target;  // absolute path in the container
  std::string uid, gid;
  std::optional<int> mode;
};

// A top-level secret or config: where its content comes from.
struct FileObjectDef {
  std::string name;
  std::filesystem::path file;          // absolute; or:
  std::string environment;             // a variable of the environment holding the content; or:
  std::optional<std::string> content;  // configs only: inline content
  bool external = false;
  // The environment variable's value when the file was loaded; never serialized (not in `config`,
  // labels or the config hash).
  std::optional<std::string> environment_value;
};

struct Ulimit {
  std::string name;
  std::int64_t soft = 0, hard = 0;
};

struct DeviceMapping {
  std::string host, container, permissions = "rwm";
};

// gpus, deploy.resources.reservations.devices
struct DeviceRequest {
  std::string driver;
  int count = 0;  // -1: all
  std::vector<std::string> device_ids, capabilities;
  std::map<std::string, std::string> options;
};

struct BlkioConfig {
  std::optional<int> weight;
  std::vector<std::pair<std::string, int>> weight_device;
  std::vector<std::pair<std::string, std::int64_t>> read_bps, write_bps, read_iops, write_iops;
  bool empty() const {
    return !weight && weight_device.empty() && read_bps.empty() && write_bps.empty() && read_iops.empty() &&
           write_iops.empty();
  }
};

// A command run in the container after it starts (post_start) or before it stops (pre_stop).
struct Hook {
  std::vector<std::string> command;
  std::string user, working_dir;
  bool privileged = false;
  std::map<std::string, std::string> environment;
};

// A service's place on one network.
struct NetworkAttachment {
  std::vector<std::string> aliases;
  std::string ipv4_address, ipv6_address, mac_address;
  std::vector<std::string> link_local_ips;
  std::map<std::string, std::string> driver_opts;
  int priority = 0;
};

struct Logging {
  std::string driver;
  std::map<std::string, std::string> options;
};

// deploy keys that only a swarm applies. The swarm backend reads them; on one host they are noted
// and ignored, as compose does.
struct SwarmUpdateConfig {  // update_config, rollback_config
  std::optional<std::int64_t> parallelism;
  std::optional<std::int64_t> delay_ns, monitor_ns;
  std::string failure_action;  // continue, pause, rollback (update only)
  std::optional<double> max_failure_ratio;
  std::string order;  // stop-first, start-first
};
struct SwarmRestartPolicy {
  std::string condition = "any";  // none, on-failure, any
  std::optional<std::int64_t> delay_ns, window_ns;
  std::optional<std::int64_t> max_attempts;
};
struct SwarmDeploy {
  std::string mode = "replicated";            // global, replicated-job, global-job
  std::map<std::string, std::string> labels;  // deploy.labels: on the service, not its containers
  std::vector<std::string> constraints;       // placement.constraints, e.g. node.role==worker
  std::vector<std::string> preferences;       // placement.preferences: spread descriptors
  std::optional<std::int64_t> max_replicas_per_node;
  std::optional<SwarmUpdateConfig> update_config, rollback_config;
  std::optional<SwarmRestartPolicy> restart_policy;
  std::string endpoint_mode;  // vip, dnsrr; empty: the fleet's choice
  std::optional<double> cpus_reservation;
};

struct Service {
  std::string name;
  std::string image;
  std::optional<BuildSpec> build;
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> entrypoint;
  std::string container_name;
  std::vector<PortSpec> ports;
  std::vector<std::string> expose;  // "9555/tcp"
  std::vector<VolumeMount> volumes;
  std::map<std::string, std::string> environment;
  std::map<std::string, std::string> labels;
  std::optional<std::int64_t> mem_limit, mem_reservation, memswap_limit;
  std::optional<double> cpus;
  std::optional<std::int64_t> cpu_shares, pids_limit;
  std::optional<int> replicas;                        // scale or deploy.replicas
  std::optional<Healthcheck> healthcheck;             // test ["NONE"] when disabled
  std::string restart;                                // no, always, on-failure[:N], unless-stopped
  std::map<std::string, NetworkAttachment> networks;  // by network key
  std::map<std::string, Dependency> depends_on;
  std::vector<std::string> profiles;
  std::string user;
  std::string working_dir;
  bool read_only = false;
  std::vector<std::string> cap_add, cap_drop, security_opt;
  std::optional<std::int64_t> stop_grace_period_ns;
  std::string stop_signal;
  std::optional<Logging> logging;
  std::vector<std::string> tmpfs;
  bool privileged = false;
  std::string network_mode, pid, ipc;  // "service:NAME" resolved to a container at create

  // Settings the engine applies as given.
  bool init = false, tty = false, stdin_open = false, oom_kill_disable = false;
  std::string hostname, domainname, runtime, cgroup_parent, cgroup, mac_address, platform, isolation;
  std::string userns_mode, uts;
  std::string pull_policy;  // always, never, missing, build, daily, weekly, every_<duration>
  std::vector<std::string> dns, dns_search, dns_opt, extra_hosts, group_add;  // extra_hosts as "host:ip"
  std::vector<std::string> links, external_links;  // "service[:alias]", "container[:alias]"
  std::vector<std::string> volumes_from;           // "service[:ro|rw]" or "container:NAME[:ro|rw]"
  std::vector<std::string> device_cgroup_rules;
  std::vector<Ulimit> ulimits;
  std::map<std::string, std::string> sysctls, storage_opt, annotations;
  std::optional<std::int64_t> shm_size, cpu_period, cpu_quota, cpu_rt_period, cpu_rt_runtime, cpu_count;
  std::optional<int> oom_score_adj, mem_swappiness, cpu_percent;
  std::string cpuset;
  BlkioConfig blkio;
  std::vector<DeviceMapping> devices;
  std::vector<DeviceRequest> device_requests;
  std::vector<FileGrant> secrets, configs;
  std::vector<Hook> post_start, pre_stop;
  bool attach = true;  // whether `up`/`logs` follow it by default
  SwarmDeploy swarm;

  nlohmann::json extensions = nlohmann::json::object();  // x-* keys, x-fleet among them

  int replica_count() const { return replicas.value_or(1); }
  // x-fleet: {allow_unsafe: true}, the operator's opt-in to what fleet services are refused.
  bool allows_unsafe() const {
    auto x = extensions.find("x-fleet");
    if (x == extensions.end() || !x->is_object()) return false;
    auto flag = x->find("allow_unsafe");
    return flag != x->end() && flag->is_boolean() && flag->get<bool>();
  }
};

struct NetworkDef {
  std::string name;  // engine name: <project>_<key> unless external or named
  std::string driver;
  bool external = false;
  bool internal = false;
  bool attachable = false;
  bool enable_ipv6 = false;
  std::optional<bool> enable_ipv4;
  std::map<std::string, std::string> labels, driver_opts;
  struct Pool {
    std::string subnet, ip_range, gateway;
    std::map<std::string, std::string> aux_addresses;
  };
  struct Ipam {
    std::string driver;
    std::vector<Pool> config;
    std::map<std::string, std::string> options;
  };
  std::optional<Ipam> ipam;
};

struct VolumeDef {
  std::string name;
  std::string driver;
  bool external = false;
  std::map<std::string, std::string> labels, driver_opts;
};

struct Project {
  std::string name;
  std::filesystem::path file;         // absolute
  std::string source_name;            // the file as the user named it, for messages
  std::filesystem::path working_dir;  // the compose file's folder
  std::map<std::string, Service> services;
  std::map<std::string, NetworkDef> networks;  // by key in the file
  std::map<std::string, VolumeDef> volumes;
  std::map<std::string, FileObjectDef> secrets, configs;
  std::vector<std::filesystem::path> included;  // files pulled in by include, absolute
  // Keys read and deliberately ignored (swarm-only deploy keys, develop): one line each for the user.
  std::vector<std::string> notes;
  nlohmann::json extensions = nlohmann::json::object();
  std::map<std::string, int> lines;       // "services.kernel.mem_limit" -> line, for later errors
  std::vector<std::string> env_profiles;  // COMPOSE_PROFILES from the environment or .env

  int line_of(const std::string& path) const {
    auto it = lines.find(path);
    return it == lines.end() ? 0 : it->second;
  }
  // Every profile named in the file, sorted.
  std::vector<std::string> all_profiles() const;
};

// The resolved model in the shape `docker compose config --format json` prints it (compose v2): the
// specification's keys, unset values left out, sizes as decimal strings, durations as Go writes them.
// A secret's value is never in it. What `config` shows.
nlohmann::json to_json(const Service& service);
nlohmann::json to_json(const Project& project);
// sha256 of a canonical JSON of the service without build, pull_policy, scale/replicas, depends_on,
// profiles and attach: scaling or switching profiles never recreates a container. The settings older
// versions knew keep their old shape in it, so upgrading recreates nothing (model.cpp says how).
std::string config_hash(const Service& service);

}  // namespace fleet::compose
