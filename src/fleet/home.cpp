#include "fleet/home.hpp"

#include <sys/stat.h>

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

FleetHome FleetHome::from_environment() {
  const char* home = std::getenv("HOME");
  return {
      env_path("LLMSPELL_FLEET_HOME", std::filesystem::path(home ? home : "/root") / ".llmspell" / "fleet"),
      env_path("LLMSPELL_FLEET_CONFIGS", std::filesystem::path(FLEET_SOURCE_DIR) / "configs"),
      env_path("LLMSPELL_KERNEL_CONTEXT", executable_dir().parent_path() / "docker" / "kernel")};
}

std::filesystem::path FleetHome::connection_file(const std::string& kernel_id) const {
  return root / (kernel_id + ".json");
}

std::filesystem::path FleetHome::registry_dir() const {
  return root / "registry";
}

std::filesystem::path FleetHome::registry_file() const {
  return registry_dir() / "registry.json";
}

std::filesystem::path FleetHome::lock_file(const std::string& name) const {
  return root / "locks" / (name + ".lock");
}

std::filesystem::path FleetHome::events_file() const {
  return root / "events.jsonl";
}
std::filesystem::path FleetHome::checkpoints_dir() const {
  return root / "checkpoints";
}
std::filesystem::path FleetHome::autoscaling_dir() const {
  return root / "autoscaling";
}

std::filesystem::path host_lock(const std::string& name) {
  return std::filesystem::path("/tmp") / ("llmspell-fleet-" + name + ".lock");
}

void FleetHome::prepare() const {
  bool fresh = !std::filesystem::exists(root);
  std::filesystem::create_directories(root);
  if (fresh) ::chmod(root.c_str(), 0700);
  std::filesystem::create_directories(registry_dir());
  std::filesystem::create_directories(root / "locks");
  std::filesystem::create_directories(checkpoints_dir());
  std::filesystem::create_directories(autoscaling_dir());
}

}  // namespace fleet
