#include "fleet/paths.hpp"

#include <unistd.h>

#include <cstdlib>

namespace fleet {
namespace {
std::filesystem::path env_path(const char* name, const std::filesystem::path& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::filesystem::path(value) : fallback;
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}
}  // namespace

FleetPaths FleetPaths::defaults() {
  const char* home = std::getenv("HOME");
  std::filesystem::path fleet_home =
      env_path("LLMSPELL_FLEET_HOME", std::filesystem::path(home ? home : "/root") / ".llmspell" / "fleet");
  return {env_path("LLMSPELL_FLEET_CONFIGS", std::filesystem::path(FLEET_SOURCE_DIR) / "configs"),
          fleet_home / "connections",
          env_path("LLMSPELL_KERNEL_CONTEXT", executable_dir().parent_path() / "docker" / "kernel")};
}

}  // namespace fleet
