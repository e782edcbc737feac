// Host-side connection files. A kernel writes its connection file inside its container with the
// container's ports; a client on the host needs the published host ports instead. The fleet reads
// the kernel's file through the engine (no shared folder needed) and writes the host version.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/api.hpp"
#include "fleet/home.hpp"

namespace fleet {

// In a swarm kernel's host connection file: the node it runs on (Jupyter clients ignore the key;
// the local registry's sweep leaves such files to the swarm backend).
inline constexpr const char* kSwarmNodeKey = "llmspell_swarm_node";

// Where the kernel writes its file when the container does not say (LLMSPELL_CONNECTION_FILE).
inline constexpr const char* kDefaultKernelConnectionFile = "/var/lib/llmspell/state/connection.json";

// The value of environment variable `name` in the container's config, else `fallback`.
std::string container_env(const engine::ContainerInspect& container, const std::string& name,
                          const std::string& fallback);

// The kernel's own connection file, read out of the container. Throws engine::NotFoundError
// while the kernel has not written it yet.
nlohmann::json read_kernel_connection_file(engine::Api& client, const engine::ContainerInspect& container);

// The same file with each *_port replaced by its published host port and ip set to the host
// address they are published on. Throws std::runtime_error naming a port that is not published.
nlohmann::json to_host_connection(const nlohmann::json& in_container,
                                  const engine::ContainerInspect& container);

// Writes the fleet home's <kernel id>.json, mode 0600 (it holds the kernel's key), and returns its path.
std::filesystem::path write_host_connection_file(engine::Api& client,
                                                 const engine::ContainerInspect& container,
                                                 const FleetHome& home);

}  // namespace fleet
