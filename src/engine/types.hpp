// Typed views of what the fleet reads from the engine. Each keeps the raw JSON beside the typed
// fields, so a field we do not map yet is still at hand. Mapping is explicit (from_json below).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::engine {

using Labels = std::map<std::string, std::string>;

struct PortBinding {
  std::string ip;
  int private_port = 0;
  int public_port = 0;  // 0 when not published
  std::string type;     // tcp, udp
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;  // as the engine gives them, with a leading '/'
  std::string image;
  std::string image_id;
  std::string command;
  std::int64_t created = 0;  // unix seconds
  std::string state;         // created, running, paused, restarting, removing, exited, dead
  std::string status;        // human text, e.g. "Up 3 minutes (healthy)"
  Labels labels;
  std::vector<PortBinding> ports;
  nlohmann::json raw;
  std::string name() const;  // first name without the leading '/'
};

struct HealthLogEntry {
  std::string start;
  std::string end;
  int exit_code = 0;
  std::string output;
};

struct Health {
  std::string status;  // starting, healthy, unhealthy
  int failing_streak = 0;
  std::vector<HealthLogEntry> log;
};

struct ContainerState {
  std::string status;  // created, running, paused, restarting, removing, exited, dead
  bool running = false;
  bool paused = false;
  bool restarting = false;
  bool oom_killed = false;
  bool dead = false;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  std::string started_at;
  std::string finished_at;
  std::optional<Health> health;  // only for containers with a healthcheck
};

struct HostPortBinding {
  std::string host_ip;
  std::string host_port;
};

struct ContainerInspect {
  std::string id;
  std::string name;   // without the leading '/'
  std::string image;  // image id
  std::string created;
  int restart_count = 0;
  ContainerState state;
  // Config
  std::string config_image;  // as asked for, e.g. "llmspell:latest"
  std::string user;
  bool tty = false;
  Labels labels;
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  // HostConfig
  std::int64_t memory = 0;     // bytes, 0 = unlimited
  std::int64_t nano_cpus = 0;  // 1e9 = one CPU
  std::int64_t pids_limit = 0;
  std::vector<std::string> cap_drop;
  std::vector<std::string> security_opt;
  bool privileged = false;
  std::string restart_policy;
  // NetworkSettings.Ports: "9555/tcp" -> bindings (empty when exposed but not published)
  std::map<std::string, std::vector<HostPortBinding>> ports;
  std::vector<std::string> networks;
  nlohmann::json raw;
};

// The CPU part of a stats frame: cumulative counters, in nanoseconds.
struct CpuCounters {
  std::uint64_t total_usage = 0;
  std::uint64_t system_usage = 0;
  unsigned online_cpus = 0;
};

struct StatsSample {
  std::string read;  // timestamp of the sample
  CpuCounters cpu;
  CpuCounters precpu;  // the previous sample's counters (empty with one-shot)
  std::uint64_t memory_usage = 0;
  std::uint64_t memory_limit = 0;
  std::uint64_t memory_inactive_file = 0;  // total_inactive_file (cgroup v1) or inactive_file (v2)
  std::uint64_t pids = 0;
  nlohmann::json raw;
};

struct Event {
  std::string type;    // container, image, network, volume, daemon...
  std::string action;  // start, die, health_status: healthy, pause...
  std::string actor_id;
  Labels attributes;  // for containers: its labels plus name and image
  std::int64_t time = 0;
  std::int64_t time_nano = 0;
  nlohmann::json raw;
};

struct ExecInspect {
  std::string id;
  std::string container_id;
  bool running = false;
  std::optional<int> exit_code;  // absent until the process ended
  int pid = 0;
  nlohmann::json raw;
};

struct ImageSummary {
  std::string id;
  std::vector<std::string> repo_tags;
  std::int64_t size = 0;
  std::int64_t created = 0;
  Labels labels;
  nlohmann::json raw;
};

struct ImageInspect {
  std::string id;
  std::vector<std::string> repo_tags;
  std::int64_t size = 0;
  std::string user;
  Labels labels;
  std::vector<std::string> exposed_ports;
  nlohmann::json healthcheck;  // null when the image has none
  nlohmann::json raw;
};

struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;
  bool internal = false;
  Labels labels;
  std::map<std::string, std::string> containers;  // container id -> container name
  nlohmann::json raw;
};

struct VolumeInfo {
  std::string name;
  std::string driver;
  std::string mountpoint;
  Labels labels;
  nlohmann::json raw;
};

struct VersionInfo {
  std::string version;
  std::string api_version;
  std::string min_api_version;
  std::string os;
  std::string arch;
  std::string kernel_version;
  nlohmann::json raw;
};

// --- swarm mode (a manager's /services, /tasks, /nodes, /secrets, /configs)

// A port a service publishes, or a task published on its node (mode "host").
struct PublishedPort {
  std::string protocol = "tcp";
  int target_port = 0;
  int published_port = 0;  // 0: none yet (a task not running, or an ingress port of a vip service)
  std::string mode;        // ingress, host
};

struct ServiceInfo {
  std::string id, name;
  std::uint64_t version = 0;  // Version.Index: an update must name the one it changes
  Labels labels;
  nlohmann::json spec;                    // the ServiceSpec as the manager holds it
  std::optional<std::uint64_t> replicas;  // Mode.Replicated.Replicas; unset for a global service
  std::string endpoint_mode;              // vip, dnsrr
  std::vector<PublishedPort> ports;       // Endpoint.Ports
  std::string update_state;               // UpdateStatus.State: updating, completed, paused...
  nlohmann::json raw;
};

struct TaskInfo {
  std::string id, service_id, node_id;
  int slot = 0;
  std::string state, desired_state;  // new ... running, complete, shutdown, failed, rejected, orphaned
  std::string message, error;
  std::string container_id;  // Status.ContainerStatus.ContainerID, once the node created it
  int exit_code = 0;
  std::vector<PublishedPort> ports;  // Status.PortStatus.Ports: host-mode ports on its node
  std::string created, updated;      // RFC 3339
  Labels labels;                     // Spec.ContainerSpec.Labels
  nlohmann::json raw;
};

struct NodeInfo {
  std::string id, hostname;
  std::uint64_t version = 0;
  std::string role;          // manager, worker
  std::string availability;  // active, pause, drain
  std::string state;         // ready, down, unknown, disconnected
  std::string addr;          // Status.Addr: the node's address as the swarm sees it
  std::string message;       // Status.Message ("heartbeat failure" ...)
  bool leader = false;
  std::string engine_version;
  std::int64_t nano_cpus = 0, memory_bytes = 0;
  Labels labels;        // Spec.Labels (what placement constraints read)
  nlohmann::json spec;  // Spec, for updates
  nlohmann::json raw;
};

// A secret or a config: name and labels (the manager never gives a secret's data back).
struct SwarmObject {
  std::string id, name;
  std::uint64_t version = 0;
  Labels labels;
  nlohmann::json raw;
};

void from_json(const nlohmann::json& j, PublishedPort& v);
void from_json(const nlohmann::json& j, ServiceInfo& v);
void from_json(const nlohmann::json& j, TaskInfo& v);
void from_json(const nlohmann::json& j, NodeInfo& v);
void from_json(const nlohmann::json& j, SwarmObject& v);

void from_json(const nlohmann::json& j, PortBinding& v);
void from_json(const nlohmann::json& j, ContainerSummary& v);
void from_json(const nlohmann::json& j, Health& v);
void from_json(const nlohmann::json& j, ContainerState& v);
void from_json(const nlohmann::json& j, ContainerInspect& v);
void from_json(const nlohmann::json& j, StatsSample& v);
void from_json(const nlohmann::json& j, Event& v);
void from_json(const nlohmann::json& j, ExecInspect& v);
void from_json(const nlohmann::json& j, ImageSummary& v);
void from_json(const nlohmann::json& j, ImageInspect& v);
void from_json(const nlohmann::json& j, NetworkInfo& v);
void from_json(const nlohmann::json& j, VolumeInfo& v);
void from_json(const nlohmann::json& j, VersionInfo& v);

// CPU use between two samples as `docker stats` shows it: percent of one CPU, so a container
// using two full cores reads 200. 0 unless both deltas are positive.
double cpu_percent(const CpuCounters& previous, const CpuCounters& current);
// The same against the sample's own precpu counters (a streamed or stream=false sample).
double cpu_percent(const StatsSample& sample);
// Memory in use as `docker stats` shows it: usage less inactive page cache.
std::uint64_t memory_used(const StatsSample& sample);
// memory_used as a percentage of the limit (0 when no limit is known).
double memory_percent(const StatsSample& sample);

}  // namespace fleet::engine
