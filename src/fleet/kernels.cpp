#include "fleet/kernels.hpp"

#include <random>

#include "fleet/connection_files.hpp"
#include "fleet/errors.hpp"
#include "fleet/kernel_readiness.hpp"
#include "fleet/labels.hpp"
#include "fleet/retire.hpp"

namespace fleet {
namespace {

std::string new_kernel_id() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return std::string("kernel-") + buf;
}

KernelRecord record_of(const engine::ContainerSummary& c, const FleetPaths& paths) {
  KernelRecord r;
  r.container_id = c.id;
  r.name = c.name();
  auto label = [&](const char* key) { return c.labels.count(key) ? c.labels.at(key) : std::string(); };
  r.kernel_id = label(labels::kKernelId);
  r.language = label(labels::kLanguage);
  r.config = label(labels::kConfig);
  r.state = c.state;
  r.status = c.status;
  for (const auto& p : c.ports)
    if (p.private_port == kKernelBasePort && p.public_port) r.shell_host_port = p.public_port;
  // Compose kernels keep theirs in the project's folder, spawned ones in the fleet's.
  auto dir = c.labels.count(labels::kComposeWorkingDir)
                 ? std::filesystem::path(c.labels.at(labels::kComposeWorkingDir)) / "connection-files"
                 : paths.connection_dir;
  auto file = dir / (r.name + ".json");
  if (std::filesystem::exists(file)) r.connection_file = file;
  return r;
}

}  // namespace

void check_plain_name(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.find('\0') != std::string::npos)
    throw InvalidInput(what + " \"" + name + "\" must be a plain file name (no path separators, not \"..\")");
}

KernelRecord KernelService::spawn(const SpawnOptions& o) {
  if (o.language != "lua" && o.language != "javascript")
    throw InvalidInput("language \"" + o.language + "\" is not supported (lua or javascript)");
  check_plain_name("config", o.config);
  auto config_path = std::filesystem::absolute(paths_.configs_dir / o.config);
  if (!std::filesystem::is_regular_file(config_path))
    throw InvalidInput("config " + o.config + " not found in " + paths_.configs_dir.string());
  if (o.memory_bytes < 6 * 1024 * 1024) throw InvalidInput("memory must be at least 6 MiB");
  if (!(o.cpus > 0)) throw InvalidInput("cpus must be more than 0");
  for (const auto& [key, value] : o.extra_labels)
    if (key.rfind(labels::kPrefix, 0) == 0)
      throw InvalidInput("label " + key + " uses the fleet's reserved prefix " + labels::kPrefix);

  std::string kernel_id = new_kernel_id();
  engine::Labels container_labels = o.extra_labels;
  container_labels[labels::kKernel] = "true";
  container_labels[labels::kKernelId] = kernel_id;
  container_labels[labels::kLanguage] = o.language;
  container_labels[labels::kConfig] = o.config;

  nlohmann::json exposed = nlohmann::json::object(), bindings = nlohmann::json::object();
  for (int i = 0; i < 5; ++i) {
    std::string port = std::to_string(kKernelBasePort + i) + "/tcp";
    exposed[port] = nlohmann::json::object();
    // HostPort "": the engine picks a free host port, so kernels never collide.
    bindings[port] = nlohmann::json::array({{{"HostIp", o.publish_ip}, {"HostPort", ""}}});
  }
  nlohmann::json body = {{"Image", o.image},
                         {"Cmd",
                          {"start", "--port", std::to_string(kKernelBasePort), "--language", o.language,
                           "--kernel-id", kernel_id}},
                         {"Env", {"KERNEL_ID=" + kernel_id}},
                         {"User", "1000:1000"},
                         {"Labels", container_labels},
                         {"ExposedPorts", exposed},
                         {"HostConfig",
                          {{"Memory", o.memory_bytes},
                           {"NanoCpus", static_cast<std::int64_t>(o.cpus * 1e9)},
                           {"PidsLimit", o.pids_limit},
                           {"CapDrop", {"ALL"}},
                           {"SecurityOpt", {"no-new-privileges:true"}},
                           {"Binds", {config_path.string() + ":/etc/llmspell/config.toml:ro"}},
                           {"PortBindings", bindings},
                           {"RestartPolicy", {{"Name", "no"}}}}}};

  std::string name = "llmspell-" + kernel_id;
  std::string id = client_.create_container(name, body).id;
  try {
    client_.start_container(id);
    wait_until_kernel_serves(client_, id, o.ready_timeout);
    engine::ContainerInspect inspected = client_.inspect_container(id);
    KernelRecord r;
    r.kernel_id = kernel_id;
    r.container_id = id;
    r.name = name;
    r.language = o.language;
    r.config = o.config;
    r.state = inspected.state.status;
    r.connection_file = write_host_connection_file(client_, inspected, paths_.connection_dir);
    r.shell_host_port =
        std::stoi(inspected.ports.at(std::to_string(kKernelBasePort) + "/tcp").front().host_port);
    return r;
  } catch (...) {
    // A kernel that did not come up is not left behind.
    try {
      client_.remove_container(id, {.force = true});
    } catch (const engine::EngineError&) {
    }
    throw;
  }
}

std::vector<KernelRecord> KernelService::list() {
  std::vector<KernelRecord> out;
  for (const auto& c :
       client_.list_containers({.filters = {{"label", {std::string(labels::kKernel) + "=true"}}}}))
    out.push_back(record_of(c, paths_));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

KernelRecord KernelService::find(const std::string& selector) {
  for (const auto& k : list()) {
    bool by_port = !selector.empty() && std::all_of(selector.begin(), selector.end(), ::isdigit) &&
                   k.shell_host_port == std::atoi(selector.c_str());
    if (k.kernel_id == selector || k.name == selector ||
        (selector.size() >= 12 && k.container_id.rfind(selector, 0) == 0) || by_port)
      return k;
  }
  throw InvalidInput("no such kernel: " + selector);
}

KernelRecord KernelService::stop(const std::string& selector, int timeout_seconds) {
  KernelRecord k = find(selector);
  retire_container(client_, k.container_id, k.state, timeout_seconds);
  std::error_code ec;
  std::filesystem::remove(paths_.connection_dir / (k.name + ".json"), ec);
  k.state = "removed";
  return k;
}

}  // namespace fleet
