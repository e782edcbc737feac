// What the engine has of the fleet, read back from labels: the one snapshot every plan starts from
// (up, scale, down, spawn, stop, cleanup, find) and every listing shows. Labels are the source of
// truth, so a fleet process killed at any point loses nothing.
//
// Membership: a container belongs to the fleet when it carries the managed label and its image
// does not (Docker merges an image's labels into its containers', and the fleet never creates from
// an image carrying its labels: image_build.cpp). Which labels the fleet wrote on it is told by its
// origin label: a compose replica's compose labels, or a spawned kernel's (compose labels a spawned
// kernel inherited from an image compose built never make it a project's). A container that looks
// like the fleet's but is not is reported as foreign and left alone.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/api.hpp"

namespace fleet {

// A pooled kernel's name while it starts (observe.hpp's pool_filling).
inline constexpr const char* kPoolFillingPrefix = "llmspell-filling-";

struct ObservedContainer {
  std::string id;
  std::string name;
  std::string service;  // compose replicas: their service; spawned kernels: their template's name
  int number = 0;       // compose replicas: 1..N; spawned kernels: 0
  std::string state;    // created, running, paused, restarting, exited, dead
  std::string config_hash;
  std::string image_id;  // the image the fleet created it from (compose's label)
  std::int64_t created = 0;
  std::string project;    // compose replicas only
  std::string kernel_id;  // kernels only
  std::string status;     // the engine's text, e.g. "Up 2 minutes (healthy)"
  std::vector<engine::PortBinding> ports;
  engine::Labels labels;

  bool kernel() const { return !kernel_id.empty(); }
  bool spawned() const { return kernel() && project.empty(); }
  std::string label(const char* key) const;
  // A warm pool's kernel (made ahead for a template), and where it stands.
  bool pooled() const;
  bool pool_filling() const;  // starting, not handed out yet
  bool pool_ready() const;    // paused, waiting to be handed out
  // Who it is for: the owner label, or for a pooled kernel handed out, the owner in its name.
  std::string owner() const;
  // Published host port of container port `private_port`, 0 when none, and the address it is on.
  int host_port(int private_port) const;
  std::string host_ip(int private_port) const;
};

// The engine's status text carries the health of a running container: "Up 3 minutes (healthy)";
// healthy, unhealthy, starting or none.
std::string health_from_status(const std::string& status);

struct Observed {
  std::vector<ObservedContainer> containers;
  std::set<std::string> networks;    // engine names (projects only)
  std::set<std::string> volumes;     // engine names (projects only)
  std::vector<std::string> foreign;  // "name: why", for a warning
};

// The fleet's containers matching `filters` (all states).
Observed observe_containers(engine::Api& engine, const engine::Filters& filters);
// Every kernel: spawned ones and replicas of compose kernel services, of any project.
Observed observe_kernels(engine::Api& engine);
// A compose project's containers (one-off ones left out), and, for the operations that plan them
// (up, down), its networks and volumes.
Observed observe_project(engine::Api& engine, const std::string& project, bool with_networks = false);

}  // namespace fleet
