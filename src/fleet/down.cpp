// down: every container of the project (whatever its profile, paused ones included), then its
// networks, and with -v its named volumes.
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/project.hpp"
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
      try {
        // A frozen process cannot act on SIGTERM: thaw it first so it stops gracefully.
        if (c.state == "paused") ctx.client.unpause_container(c.id);
        if (c.state == "running" || c.state == "paused" || c.state == "restarting")
          ctx.client.stop_container(c.id, options.timeout);
        ctx.client.remove_container(c.id, {.force = true});
      } catch (const engine::NotFoundError&) {
      }
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
