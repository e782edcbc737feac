#include "fleet/connection_files.hpp"

#include "fleet/container_spec.hpp"
#include "fleet/heartbeat.hpp"
#include "fleet/labels.hpp"
#include "util/atomic_file.hpp"
#include "util/tar.hpp"

namespace fleet {
namespace {
constexpr const char* kPortKeys[] = {"shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"};

}  // namespace

std::string container_env(const engine::ContainerInspect& container, const std::string& name,
                          const std::string& fallback) {
  const std::string prefix = name + "=";
  for (const auto& e : container.env)
    if (e.rfind(prefix, 0) == 0) return e.substr(prefix.size());
  return fallback;
}

nlohmann::json read_kernel_connection_file(engine::Api& client, const engine::ContainerInspect& container) {
  std::string path = container_env(container, "LLMSPELL_CONNECTION_FILE", kDefaultKernelConnectionFile);
  engine::ArchiveResult archive = client.get_archive(container.id, path);
  for (const auto& entry : util::read_tar(archive.tar)) {
    if (entry.type != util::TarEntry::Type::File) continue;
    auto j = nlohmann::json::parse(entry.content, nullptr, false);
    if (!j.is_object())
      throw std::runtime_error(container.name + ":" + path + " is not a JSON connection file");
    return j;
  }
  throw std::runtime_error(container.name + ":" + path + " is not a file");
}

nlohmann::json to_host_connection(const nlohmann::json& in_container,
                                  const engine::ContainerInspect& container) {
  nlohmann::json host = in_container;
  std::string host_ip;
  for (const char* key : kPortKeys) {
    int port = in_container.at(key).get<int>();
    auto it = container.ports.find(std::to_string(port) + "/tcp");
    if (it == container.ports.end() || it->second.empty())
      throw std::runtime_error(container.name + ": " + key + " " + std::to_string(port) +
                               " is not published to the host");
    host[key] = std::stoi(it->second.front().host_port);
    host_ip = it->second.front().host_ip;
  }
  host["ip"] = host_address(host_ip);
  return host;
}

std::filesystem::path write_host_connection_file(engine::Api& client,
                                                 const engine::ContainerInspect& container,
                                                 const FleetHome& home) {
  nlohmann::json host = to_host_connection(read_kernel_connection_file(client, container), container);
  auto id = container.labels.find(labels::kKernelId);
  const std::string kernel_id = id == container.labels.end() ? container.name : id->second;
  check_plain_name("kernel id", kernel_id);
  home.prepare();
  auto path = home.connection_file(kernel_id);
  util::write_file_atomically(path, host.dump(2) + "\n", 0600);
  return path;
}

}  // namespace fleet
