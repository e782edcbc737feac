// down: every container of the project (whatever its profile, paused ones included) retired through
// one plan, then its networks, and with -v its named volumes. The warm pools' members nobody has
// been handed yet go too: after down, nothing of the fleet sits paused.
#include "fleet/errors.hpp"
#include "fleet/executor.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"

namespace fleet {

DownReport down(Context& ctx, const compose::Project& p, const DownOptions& options) {
  DownReport result;
  Observed observed = observe_project(ctx.client, p.name);
  for (const auto& foreign : observed.foreign) ctx.warn("Container", "left alone: " + foreign);
  std::vector<ObservedContainer> retired = observed.containers;
  result.containers = static_cast<int>(retired.size());
  for (const auto& k : observe_kernels(ctx.client).containers)
    if (k.spawned() && (k.pool_ready() || k.pool_filling())) retired.push_back(k);
  result.pool_members = static_cast<int>(retired.size()) - result.containers;
  execute(ctx, p, plan_retire(retired, "down", options.timeout));

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
  return result;
}

}  // namespace fleet
