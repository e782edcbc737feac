// The fleet home (the seed's ~/.llmspell/fleet): where the fleet keeps what it writes on the host,
// and where it finds its inputs.
//   <home>/<kernel-id>.json      host connection files (mode 0600: they hold the kernel's key)
//   <home>/registry/registry.json  kernels, ports, owners, states; no keys. The registry service is
//                                given this folder alone, so nothing secret is ever served.
//   <home>/locks/                 locks that make this home's fleet processes take turns (registry)
//   <home>/events.jsonl           the fleet's own events (pool, scaling, drain), one JSON per line,
//                                 for `llmspell-fleet events` and GET /events (events.1.jsonl: older)
//   <home>/checkpoints/<id>.json  kernels' user state and state folder, saved before a drain
//   <home>/autoscaling/           what serve's autoscaler is told (enabled) and says (status, history)
//   <home>/pools.json             what serve's warm pools last said (pool_service.hpp)
// Locks that every user's fleet on the host shares (port blocks, find) are host-wide: host_lock.
#pragma once

#include <filesystem>
#include <string>

namespace fleet {

struct FleetHome {
  std::filesystem::path root;         // LLMSPELL_FLEET_HOME, else ~/.llmspell/fleet
  std::filesystem::path configs_dir;  // LLMSPELL_FLEET_CONFIGS, else the project's configs/
  std::filesystem::path
      kernel_context;  // LLMSPELL_KERNEL_CONTEXT, else build/docker/kernel beside the binary

  static FleetHome from_environment();

  std::filesystem::path connection_file(const std::string& kernel_id) const;
  std::filesystem::path registry_dir() const;
  std::filesystem::path registry_file() const;
  std::filesystem::path lock_file(const std::string& name) const;
  std::filesystem::path events_file() const;
  std::filesystem::path checkpoints_dir() const;
  std::filesystem::path autoscaling_dir() const;
  // Creates the folders (the home itself 0700: only its owner lists it).
  void prepare() const;
};

// /tmp/llmspell-fleet-<name>.lock (a fixed path, whatever TMPDIR says: every user must find it).
std::filesystem::path host_lock(const std::string& name);

}  // namespace fleet
