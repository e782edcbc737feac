// The fleet's own settings: configs/fleet.toml (beside the kernel configs), every key optional.
//   [kernels]  language, config, image, memory, cpus, pids_limit: what `spawn` uses unless told;
//              port_range "9555-9999": host ports for spawned kernels, five per kernel;
//              publish_ip "127.0.0.1": where their ports are published.
//   [templates.NAME]  a spawn template the fleet looks after: language, config (and memory, cpus,
//              image, else [kernels]'), with the seed's settings: warm_pool {enabled, size,
//              refresh_interval_seconds}, graceful_drain {timeout_seconds, checkpoint_before_drain},
//              idle_cull_seconds (0: off).
// LLMSPELL_FLEET_PORTS (e.g. "9600-9699") overrides the port range; LLMSPELL_FLEET_SETTINGS names
// another file instead of <configs>/fleet.toml.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/home.hpp"
#include "pool/pool.hpp"

namespace fleet {

struct PortRange {
  int first = 9555;
  int last = 9999;
  // "FIRST-LAST"; throws InvalidInput naming `what` when malformed or outside 1..65535.
  static PortRange parse(const std::string& text, const std::string& what);
};

struct KernelDefaults {
  std::string language = "lua";
  std::string config = "default.toml";
  std::string image = "llmspell:latest";
  std::int64_t memory = 512ll * 1024 * 1024;
  double cpus = 0.5;
  std::int64_t pids_limit = 128;
  PortRange ports;
  std::string publish_ip = "127.0.0.1";
};

// The seed's graceful_drain: how long a kernel may take to become idle before it stops anyway
// (E2093), and whether its user state is saved first.
struct DrainSettings {
  int timeout_seconds = 30;
  bool checkpoint_before_drain = true;
  // Unknown keys and bad values throw std::invalid_argument naming `<where>.<key>`.
  static DrainSettings from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

struct TemplateSettings {
  std::string name;  // as in [templates.NAME]
  std::string language, config, image;
  std::optional<std::int64_t> memory;
  std::optional<double> cpus;
  pool::Settings warm_pool;
  DrainSettings graceful_drain;
  int idle_cull_seconds = 0;
};

// The swarm backend's reach into each node: the engines of the swarm's nodes (DOCKER_HOST-style
// endpoints), matched to swarm node IDs through their /info. What only a node can do goes there:
// per-container stats, pause and unpause, archive reads, loading images.
struct SwarmSettings {
  std::vector<std::string> nodes;
};
struct FleetSettings {
  KernelDefaults kernels;
  std::vector<TemplateSettings> templates;
  SwarmSettings swarm;
};

inline constexpr const char* kSettingsFile = "fleet.toml";

// Reads <configs>/fleet.toml when it exists; an unknown key or a bad value is an InvalidInput
// naming the file and the key.
FleetSettings load_settings(const FleetHome& home);

}  // namespace fleet
