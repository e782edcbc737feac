// Where the fleet finds its inputs and keeps its outputs on the host.
#pragma once

#include <filesystem>

namespace fleet {

struct FleetPaths {
  std::filesystem::path configs_dir;     // kernel configs (*.toml), mounted read-only into kernels
  std::filesystem::path connection_dir;  // host-side connection files, one per published kernel
  std::filesystem::path kernel_context;  // the kernel image's build context (staged by the build)

  // LLMSPELL_FLEET_CONFIGS, else the project's configs/; LLMSPELL_FLEET_HOME/connections, else
  // ~/.llmspell/fleet/connections; the context beside the running binary (build/docker/kernel).
  static FleetPaths defaults();
};

}  // namespace fleet
