// Single kernels on demand (the seed's spawn / list / stop): one container per kernel, its ports
// published on loopback, the security baseline always applied, a host connection file per kernel.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/client.hpp"
#include "fleet/paths.hpp"

namespace fleet {

inline constexpr int kKernelBasePort = 9555;  // shell; iopub, stdin, control, hb follow

struct SpawnOptions {
  std::string language = "lua";
  std::string config = "default.toml";  // a file name in FleetPaths::configs_dir
  std::string image = "llmspell:latest";
  std::int64_t memory_bytes = 512ll * 1024 * 1024;
  double cpus = 0.5;
  std::int64_t pids_limit = 128;
  std::string publish_ip = "127.0.0.1";
  engine::Labels extra_labels;  // may not use the fleet's reserved prefix
  std::chrono::milliseconds ready_timeout{30'000};
};

struct KernelRecord {
  std::string kernel_id;
  std::string container_id;
  std::string name;
  std::string language;
  std::string config;
  std::string state;   // the engine's: running, paused, exited...
  std::string status;  // the engine's text, with health
  int shell_host_port = 0;
  std::filesystem::path connection_file;  // empty when none was written
};

class KernelService {
 public:
  KernelService(engine::Client& client, FleetPaths paths) : client_(client), paths_(std::move(paths)) {}

  // Creates, starts and waits until the kernel serves (its status file says idle), then writes the
  // host connection file. On any failure the container is removed again: nothing is left behind.
  KernelRecord spawn(const SpawnOptions& options);
  std::vector<KernelRecord> list();
  // `selector`: kernel id, container name or id, or the host shell port. Stops gracefully (SIGTERM,
  // then `timeout_seconds`), removes the container and its host connection file.
  KernelRecord stop(const std::string& selector, int timeout_seconds);

 private:
  KernelRecord find(const std::string& selector);

  engine::Client& client_;
  FleetPaths paths_;
};

// Checks a name that becomes part of a host path: no separators, no "..", not empty.
void check_plain_name(const std::string& what, const std::string& name);

}  // namespace fleet
