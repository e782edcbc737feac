#include "engine/types.hpp"

namespace fleet::engine {
namespace {

using nlohmann::json;

// The engine sends null for empty collections and omits fields on older versions: read leniently.
template <typename T>
T get_or(const json& j, const char* key, T fallback = T{}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

const json& child(const json& j, const char* key) {
  static const json kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

Labels labels_of(const json& j, const char* key) {
  Labels out;
  const json& labels = child(j, key);
  if (labels.is_object())
    for (auto it = labels.begin(); it != labels.end(); ++it)
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  const json& list = child(j, key);
  if (list.is_string()) return {list.get<std::string>()};
  if (!list.is_array()) return {};
  return list.get<std::vector<std::string>>();
}

CpuCounters cpu_counters(const json& j) {
  CpuCounters c;
  if (!j.is_object()) return c;
  const json& usage = child(j, "cpu_usage");
  c.total_usage = get_or<std::uint64_t>(usage, "total_usage");
  c.system_usage = get_or<std::uint64_t>(j, "system_cpu_usage");
  c.online_cpus = get_or<unsigned>(j, "online_cpus");
  if (c.online_cpus == 0) c.online_cpus = static_cast<unsigned>(child(usage, "percpu_usage").size());
  return c;
}

std::string strip_slash(std::string name) {
  return !name.empty() && name.front() == '/' ? name.substr(1) : name;
}

}  // namespace

std::string ContainerSummary::name() const {
  return names.empty() ? std::string() : strip_slash(names.front());
}

void from_json(const json& j, PortBinding& v) {
  v.ip = get_or<std::string>(j, "IP");
  v.private_port = get_or<int>(j, "PrivatePort");
  v.public_port = get_or<int>(j, "PublicPort");
  v.type = get_or<std::string>(j, "Type");
}

void from_json(const json& j, ContainerSummary& v) {
  v.id = j.at("Id").get<std::string>();
  v.names = strings_of(j, "Names");
  v.image = get_or<std::string>(j, "Image");
  v.image_id = get_or<std::string>(j, "ImageID");
  v.command = get_or<std::string>(j, "Command");
  v.created = get_or<std::int64_t>(j, "Created");
  v.state = get_or<std::string>(j, "State");
  v.status = get_or<std::string>(j, "Status");
  v.labels = labels_of(j, "Labels");
  v.ports = get_or<std::vector<PortBinding>>(j, "Ports");
  v.raw = j;
}

void from_json(const json& j, Health& v) {
  v.status = get_or<std::string>(j, "Status");
  v.failing_streak = get_or<int>(j, "FailingStreak");
  v.log.clear();
  for (const auto& entry : child(j, "Log"))
    v.log.push_back({get_or<std::string>(entry, "Start"), get_or<std::string>(entry, "End"),
                     get_or<int>(entry, "ExitCode"), get_or<std::string>(entry, "Output")});
}

void from_json(const json& j, ContainerState& v) {
  v.status = get_or<std::string>(j, "Status");
  v.running = get_or<bool>(j, "Running");
  v.paused = get_or<bool>(j, "Paused");
  v.restarting = get_or<bool>(j, "Restarting");
  v.oom_killed = get_or<bool>(j, "OOMKilled");
  v.dead = get_or<bool>(j, "Dead");
  v.pid = get_or<int>(j, "Pid");
  v.exit_code = get_or<int>(j, "ExitCode");
  v.error = get_or<std::string>(j, "Error");
  v.started_at = get_or<std::string>(j, "StartedAt");
  v.finished_at = get_or<std::string>(j, "FinishedAt");
  if (child(j, "Health").is_object()) v.health = child(j, "Health").get<Health>();
}

void from_json(const json& j, ContainerInspect& v) {
  v.id = j.at("Id").get<std::string>();
  v.name = strip_slash(get_or<std::string>(j, "Name"));
  v.image = get_or<std::string>(j, "Image");
  v.created = get_or<std::string>(j, "Created");
  v.restart_count = get_or<int>(j, "RestartCount");
  v.state = get_or<ContainerState>(j, "State");
  const json& config = child(j, "Config");
  v.config_image = get_or<std::string>(config, "Image");
  v.user = get_or<std::string>(config, "User");
  v.tty = get_or<bool>(config, "Tty");
  v.labels = labels_of(config, "Labels");
  v.env = strings_of(config, "Env");
  v.cmd = strings_of(config, "Cmd");
  const json& host = child(j, "HostConfig");
  v.memory = get_or<std::int64_t>(host, "Memory");
  v.nano_cpus = get_or<std::int64_t>(host, "NanoCpus");
  v.pids_limit = get_or<std::int64_t>(host, "PidsLimit");
  v.cap_drop = strings_of(host, "CapDrop");
  v.security_opt = strings_of(host, "SecurityOpt");
  v.privileged = get_or<bool>(host, "Privileged");
  v.restart_policy = get_or<std::string>(child(host, "RestartPolicy"), "Name");
  const json& settings = child(j, "NetworkSettings");
  v.ports.clear();
  const json& ports = child(settings, "Ports");
  if (ports.is_object())
    for (auto it = ports.begin(); it != ports.end(); ++it) {
      auto& bindings = v.ports[it.key()];
      if (it.value().is_array())
        for (const auto& b : it.value())
          bindings.push_back({get_or<std::string>(b, "HostIp"), get_or<std::string>(b, "HostPort")});
    }
  v.networks.clear();
  const json& networks = child(settings, "Networks");
  if (networks.is_object())
    for (auto it = networks.begin(); it != networks.end(); ++it) v.networks.push_back(it.key());
  v.raw = j;
}

void from_json(const json& j, StatsSample& v) {
  v.read = get_or<std::string>(j, "read");
  v.cpu = cpu_counters(child(j, "cpu_stats"));
  v.precpu = cpu_counters(child(j, "precpu_stats"));
  const json& memory = child(j, "memory_stats");
  v.memory_usage = get_or<std::uint64_t>(memory, "usage");
  v.memory_limit = get_or<std::uint64_t>(memory, "limit");
  const json& mstats = child(memory, "stats");
  // cgroup v1 reports total_inactive_file; v2 has only inactive_file.
  v.memory_inactive_file = mstats.contains("total_inactive_file")
                               ? get_or<std::uint64_t>(mstats, "total_inactive_file")
                               : get_or<std::uint64_t>(mstats, "inactive_file");
  v.pids = get_or<std::uint64_t>(child(j, "pids_stats"), "current");
  v.raw = j;
}

void from_json(const json& j, Event& v) {
  v.type = get_or<std::string>(j, "Type");
  v.action = get_or<std::string>(j, "Action");
  const json& actor = child(j, "Actor");
  v.actor_id = get_or<std::string>(actor, "ID");
  v.attributes = labels_of(actor, "Attributes");
  v.time = get_or<std::int64_t>(j, "time");
  v.time_nano = get_or<std::int64_t>(j, "timeNano");
  v.raw = j;
}

void from_json(const json& j, ExecInspect& v) {
  v.id = get_or<std::string>(j, "ID");
  v.container_id = get_or<std::string>(j, "ContainerID");
  v.running = get_or<bool>(j, "Running");
  v.pid = get_or<int>(j, "Pid");
  // ExitCode is null while the process runs (and 0 before it ever started).
  v.exit_code = v.running || child(j, "ExitCode").is_null() ? std::nullopt
                                                            : std::optional<int>(j.at("ExitCode").get<int>());
  v.raw = j;
}

void from_json(const json& j, ImageSummary& v) {
  v.id = j.at("Id").get<std::string>();
  v.repo_tags = strings_of(j, "RepoTags");
  v.size = get_or<std::int64_t>(j, "Size");
  v.created = get_or<std::int64_t>(j, "Created");
  v.labels = labels_of(j, "Labels");
  v.raw = j;
}

void from_json(const json& j, ImageInspect& v) {
  v.id = j.at("Id").get<std::string>();
  v.repo_tags = strings_of(j, "RepoTags");
  v.size = get_or<std::int64_t>(j, "Size");
  const json& config = child(j, "Config");
  v.user = get_or<std::string>(config, "User");
  v.labels = labels_of(config, "Labels");
  v.exposed_ports.clear();
  const json& exposed = child(config, "ExposedPorts");
  if (exposed.is_object())
    for (auto it = exposed.begin(); it != exposed.end(); ++it) v.exposed_ports.push_back(it.key());
  v.healthcheck = child(config, "Healthcheck");
  v.raw = j;
}

void from_json(const json& j, NetworkInfo& v) {
  v.id = j.at("Id").get<std::string>();
  v.name = get_or<std::string>(j, "Name");
  v.driver = get_or<std::string>(j, "Driver");
  v.internal = get_or<bool>(j, "Internal");
  v.labels = labels_of(j, "Labels");
  v.containers.clear();
  const json& containers = child(j, "Containers");
  if (containers.is_object())
    for (auto it = containers.begin(); it != containers.end(); ++it)
      v.containers[it.key()] = get_or<std::string>(it.value(), "Name");
  v.raw = j;
}

void from_json(const json& j, VolumeInfo& v) {
  v.name = j.at("Name").get<std::string>();
  v.driver = get_or<std::string>(j, "Driver");
  v.mountpoint = get_or<std::string>(j, "Mountpoint");
  v.labels = labels_of(j, "Labels");
  v.raw = j;
}

void from_json(const json& j, VersionInfo& v) {
  v.version = get_or<std::string>(j, "Version");
  v.api_version = get_or<std::string>(j, "ApiVersion");
  v.min_api_version = get_or<std::string>(j, "MinAPIVersion");
  v.os = get_or<std::string>(j, "Os");
  v.arch = get_or<std::string>(j, "Arch");
  v.kernel_version = get_or<std::string>(j, "KernelVersion");
  v.raw = j;
}

double cpu_percent(const CpuCounters& previous, const CpuCounters& current) {
  if (current.total_usage <= previous.total_usage || current.system_usage <= previous.system_usage)
    return 0.0;
  double cpu_delta = static_cast<double>(current.total_usage - previous.total_usage);
  double system_delta = static_cast<double>(current.system_usage - previous.system_usage);
  unsigned cpus = current.online_cpus ? current.online_cpus : 1;
  return cpu_delta / system_delta * cpus * 100.0;
}

double cpu_percent(const StatsSample& sample) {
  return cpu_percent(sample.precpu, sample.cpu);
}

std::uint64_t memory_used(const StatsSample& sample) {
  return sample.memory_usage > sample.memory_inactive_file ? sample.memory_usage - sample.memory_inactive_file
                                                           : 0;
}

double memory_percent(const StatsSample& sample) {
  if (sample.memory_limit == 0) return 0.0;
  return static_cast<double>(memory_used(sample)) / static_cast<double>(sample.memory_limit) * 100.0;
}

void from_json(const json& j, PublishedPort& v) {
  v.protocol = get_or<std::string>(j, "Protocol", "tcp");
  v.target_port = get_or<int>(j, "TargetPort");
  v.published_port = get_or<int>(j, "PublishedPort");
  v.mode = get_or<std::string>(j, "PublishMode");
}

namespace {
std::uint64_t version_index(const json& j) {
  return get_or<std::uint64_t>(child(j, "Version"), "Index");
}
std::vector<PublishedPort> ports_of(const json& j) {
  const json& list = child(j, "Ports");
  return list.is_array() ? list.get<std::vector<PublishedPort>>() : std::vector<PublishedPort>{};
}
}  // namespace

void from_json(const json& j, ServiceInfo& v) {
  v.id = j.at("ID").get<std::string>();
  v.version = version_index(j);
  v.spec = child(j, "Spec");
  v.name = get_or<std::string>(v.spec, "Name");
  v.labels = labels_of(v.spec, "Labels");
  const json& replicated = child(child(v.spec, "Mode"), "Replicated");
  v.replicas = replicated.is_object()
                   ? std::optional<std::uint64_t>(get_or<std::uint64_t>(replicated, "Replicas"))
                   : std::nullopt;
  const json& endpoint = child(j, "Endpoint");
  v.endpoint_mode = get_or<std::string>(child(endpoint, "Spec"), "Mode", "vip");
  v.ports = ports_of(endpoint);
  v.update_state = get_or<std::string>(child(j, "UpdateStatus"), "State");
  v.raw = j;
}

void from_json(const json& j, TaskInfo& v) {
  v.id = j.at("ID").get<std::string>();
  v.service_id = get_or<std::string>(j, "ServiceID");
  v.node_id = get_or<std::string>(j, "NodeID");
  v.slot = get_or<int>(j, "Slot");
  v.desired_state = get_or<std::string>(j, "DesiredState");
  const json& status = child(j, "Status");
  v.state = get_or<std::string>(status, "State");
  v.message = get_or<std::string>(status, "Message");
  v.error = get_or<std::string>(status, "Err");
  const json& container = child(status, "ContainerStatus");
  v.container_id = get_or<std::string>(container, "ContainerID");
  v.exit_code = get_or<int>(container, "ExitCode");
  v.ports = ports_of(child(status, "PortStatus"));
  v.created = get_or<std::string>(j, "CreatedAt");
  v.updated = get_or<std::string>(j, "UpdatedAt");
  v.labels = labels_of(child(child(j, "Spec"), "ContainerSpec"), "Labels");
  v.raw = j;
}

void from_json(const json& j, NodeInfo& v) {
  v.id = j.at("ID").get<std::string>();
  v.version = version_index(j);
  v.spec = child(j, "Spec");
  v.role = get_or<std::string>(v.spec, "Role");
  v.availability = get_or<std::string>(v.spec, "Availability");
  v.labels = labels_of(v.spec, "Labels");
  const json& description = child(j, "Description");
  v.hostname = get_or<std::string>(description, "Hostname");
  v.engine_version = get_or<std::string>(child(description, "Engine"), "EngineVersion");
  v.nano_cpus = get_or<std::int64_t>(child(description, "Resources"), "NanoCPUs");
  v.memory_bytes = get_or<std::int64_t>(child(description, "Resources"), "MemoryBytes");
  const json& status = child(j, "Status");
  v.state = get_or<std::string>(status, "State");
  v.addr = get_or<std::string>(status, "Addr");
  v.message = get_or<std::string>(status, "Message");
  v.leader = get_or<bool>(child(j, "ManagerStatus"), "Leader");
  v.raw = j;
}

void from_json(const json& j, SwarmObject& v) {
  v.id = j.at("ID").get<std::string>();
  v.version = version_index(j);
  v.name = get_or<std::string>(child(j, "Spec"), "Name");
  v.labels = labels_of(child(j, "Spec"), "Labels");
  v.raw = j;
}

}  // namespace fleet::engine
