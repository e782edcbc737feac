// services: the compose project's services as they stand, what the file asks for beside what runs.
#include "fleet/container_spec.hpp"
#include "fleet/operations.hpp"

namespace fleet {

std::vector<ServiceRow> services(Context& ctx, const compose::Project& p,
                                 const std::vector<std::string>& profiles) {
  auto selection = compose::select_services(p, {.profile_flags = profiles});
  auto containers = observe_project(ctx.client, p.name).containers;
  std::vector<ServiceRow> rows;
  for (const auto& [name, s] : p.services) {
    ServiceRow r{.name = name,
                 .enabled = std::find(selection.enabled.begin(), selection.enabled.end(), name) !=
                            selection.enabled.end(),
                 .kernel = is_kernel_service(s),
                 .profiles = s.profiles,
                 .desired = s.replica_count()};
    for (const auto& c : containers)
      if (c.service == name && !c.pool_ready() && !c.pool_filling()) {  // pool members are no replicas
        ++r.containers;
        if (c.state == "running") ++r.running;
        r.replicas.push_back(c.name);
      }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace fleet
