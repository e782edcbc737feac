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
};

struct Healthcheck {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]
  std::optional<std::int64_t> interval_ns, timeout_ns, start_period_ns;
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
  std::map<std::string, std::string> args;
};

struct Logging {
  std::string driver;
  std::map<std::string, std::string> options;
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
  std::optional<int> replicas;                               // scale or deploy.replicas
  std::optional<Healthcheck> healthcheck;                    // test ["NONE"] when disabled
  std::string restart;                                       // no, always, on-failure[:N], unless-stopped
  std::map<std::string, std::vector<std::string>> networks;  // network -> aliases
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
  std::string network_mode, pid, ipc;
  nlohmann::json extensions = nlohmann::json::object();  // x-* keys, x-fleet among them

  int replica_count() const { return replicas.value_or(1); }
};

struct NetworkDef {
  std::string name;  // engine name: <project>_<key> unless external or named
  std::string driver;
  bool external = false;
  bool internal = false;
  bool attachable = false;
  std::map<std::string, std::string> labels;
};

struct VolumeDef {
  std::string name;
  std::string driver;
  bool external = false;
  std::map<std::string, std::string> labels;
};

struct Project {
  std::string name;
  std::filesystem::path file;         // absolute
  std::string source_name;            // the file as the user named it, for messages
  std::filesystem::path working_dir;  // the compose file's folder
  std::map<std::string, Service> services;
  std::map<std::string, NetworkDef> networks;  // by key in the file
  std::map<std::string, VolumeDef> volumes;
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

// The service as canonical JSON (sorted keys, resolved values): what `config --json` shows.
nlohmann::json to_json(const Service& service);
nlohmann::json to_json(const Project& project);
// sha256 of the canonical JSON without build, scale/replicas, depends_on and profiles: scaling or
// switching profiles never changes it, so they never recreate a container.
std::string config_hash(const Service& service);

}  // namespace fleet::compose
