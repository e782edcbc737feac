// down: every container of the project (whatever its profile, paused ones included), then its
// networks, and with -v its named volumes.
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/project.hpp"
#include "fleet/retire.hpp"
#include "util/parallel.hpp"

namespace fleet {

DownResult down(ProjectContext& ctx, const DownOptions& options) {
  DownResult result;
  const auto& p = ctx.project;
  std::vector<std::function<void()>> tasks;
  std::mutex mu;
  for (const auto& c : project_containers(ctx.client, p.name)) {
    tasks.push_back([&, c] {
      const std::string object = "Container " + c.name();
      ctx.progress({object, "Stopping", ProgressEvent::Kind::Working});
      retire_container(ctx.client, c.id, c.state, options.timeout);
      std::filesystem::remove(connection_dir(p) / (c.name() + ".json"));
      std::lock_guard lock(mu);
      ++result.containers;
      ctx.progress({object, "Removed", ProgressEvent::Kind::Done});
    });
  }
  util::run_parallel(tasks, ctx.parallel);

  const engine::Filters mine = {{"label", {std::string(labels::kComposeProject) + "=" + p.name}}};
  for (const auto& n : ctx.client.list_networks(mine)) {
    try {
      ctx.client.remove_network(n.id);
      ++result.networks;
      ctx.progress({"Network " + n.name, "Removed", ProgressEvent::Kind::Done});
    } catch (const engine::NotFoundError&) {
    } catch (const engine::EngineError& e) {
      ctx.progress({"Network " + n.name, std::string("Error: ") + e.what(), ProgressEvent::Kind::Failed});
    }
  }
  if (options.volumes)
    for (const auto& v : ctx.client.list_volumes(mine)) {
      ctx.client.remove_volume(v.name);
      ++result.volumes;
      ctx.progress({"Volume " + v.name, "Removed", ProgressEvent::Kind::Done});
    }
  refresh_registry(ctx.client, p);
  return result;
}

}  // namespace fleet
