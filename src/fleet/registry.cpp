// The project's containers as the engine has them, and the registry the fleet keeps on the host:
// one connection file per kernel plus registry.json listing them, in <compose dir>/connection-files.
#include <algorithm>
#include <set>

#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/project.hpp"
#include "util/atomic_file.hpp"

namespace fleet {

std::vector<engine::ContainerSummary> project_containers(engine::Client& client, const std::string& project,
                                                         bool all) {
  auto list = client.list_containers(
      {.all = all, .filters = {{"label", {std::string(labels::kComposeProject) + "=" + project}}}});
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
  return list;
}

std::vector<engine::ContainerSummary> select_containers(ProjectContext& ctx,
                                                        const std::vector<std::string>& names, bool all) {
  auto containers = project_containers(ctx.client, ctx.project.name, all);
  if (names.empty()) return containers;
  std::vector<engine::ContainerSummary> out;
  for (const auto& name : names) {
    bool known_service = ctx.project.services.count(name) > 0;
    bool matched = false;
    for (const auto& c : containers) {
      auto service = c.labels.count(labels::kComposeService) ? c.labels.at(labels::kComposeService) : "";
      if (service == name || c.name() == name) {
        matched = true;
        if (std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.id == c.id; }))
          out.push_back(c);
      }
    }
    if (!matched && !known_service) throw InvalidInput("no such service or container: " + name);
  }
  return out;
}

std::filesystem::path connection_dir(const compose::Project& project) {
  return project.working_dir / "connection-files";
}

void refresh_registry(engine::Client& client, const compose::Project& project) {
  auto dir = connection_dir(project);
  std::filesystem::create_directories(dir);
  nlohmann::json kernels = nlohmann::json::array();
  std::set<std::string> live;
  for (const auto& c : project_containers(client, project.name)) {
    if (!c.labels.count(labels::kKernel)) continue;
    std::string file = c.name() + ".json";
    live.insert(file);
    int shell = 0;
    for (const auto& port : c.ports)
      if (port.private_port == 9555 && port.public_port) shell = port.public_port;
    kernels.push_back({{"container", c.name()},
                       {"service", c.labels.at(labels::kComposeService)},
                       {"number", std::stoi(c.labels.at(labels::kComposeNumber))},
                       {"state", c.state},
                       {"status", c.status},
                       {"shell_port", shell},
                       {"connection_file", std::filesystem::exists(dir / file) ? file : ""}});
  }
  // Connection files of containers that are gone would point clients at nothing.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (name != "registry.json" && entry.path().extension() == ".json" && !live.count(name))
      std::filesystem::remove(entry.path());
  }
  util::write_file_atomically(
      dir / "registry.json", nlohmann::json({{"project", project.name}, {"kernels", kernels}}).dump(2) + "\n",
      0644);
}

}  // namespace fleet
