// The fleet's own settings: configs/fleet.toml (beside the kernel configs), every key optional.
//   [kernels]  language, config, image, memory, cpus, pids_limit: what `spawn` uses unless told;
//              port_range "9555-9999": host ports for spawned kernels, five per kernel;
//              publish_ip "127.0.0.1": where their ports are published.
// LLMSPELL_FLEET_PORTS (e.g. "9600-9699") overrides the port range.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "fleet/home.hpp"

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

struct FleetSettings {
  KernelDefaults kernels;
};

inline constexpr const char* kSettingsFile = "fleet.toml";

// Reads <configs>/fleet.toml when it exists; an unknown key or a bad value is an InvalidInput
// naming the file and the key.
FleetSettings load_settings(const FleetHome& home);

}  // namespace fleet
