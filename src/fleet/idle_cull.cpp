// Idle culling: spawned kernels of a template with idle_cull_seconds set (fleet.toml), idle with no
// clients for longer than that, are drained (checkpoint kept, per the template) and removed.
#include <algorithm>
#include <ctime>

#include "fleet/drain.hpp"
#include "fleet/executor.hpp"
#include "fleet/labels.hpp"
#include "fleet/load.hpp"
#include "fleet/operations.hpp"
#include "fleet/timestamps.hpp"

namespace fleet {

std::vector<DrainOutcome> cull_idle(Context& ctx, std::map<std::string, std::int64_t>& idle_since) {
  // The templates that cull, by identity.
  std::map<std::string, const TemplateSettings*> culling;
  for (const auto& s : ctx.settings.templates)
    if (s.idle_cull_seconds > 0)
      culling[template_identity(template_of(s, ctx.settings.kernels), ctx.home)] = &s;
  if (culling.empty()) return {};

  std::vector<ObservedContainer> candidates;
  for (const auto& k : observe_kernels(ctx.client).containers)
    if (k.spawned() && k.state == "running" && !k.pool_filling() &&
        culling.count(k.label(labels::kTemplate)) && !draining(k.id))
      candidates.push_back(k);
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::erase_if(idle_since, [&](const auto& e) {
    return std::none_of(candidates.begin(), candidates.end(), [&](const auto& k) { return k.id == e.first; });
  });
  if (candidates.empty()) return {};

  auto loads = sample_loads(ctx.client, candidates, false);
  std::vector<ObservedContainer> idle;
  std::vector<DrainSettings> settings;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const KernelLoad& l = loads[i];
    const TemplateSettings& t = *culling[candidates[i].label(labels::kTemplate)];
    if (!l.idle() || l.clients.value_or(1) > 0) {
      idle_since.erase(candidates[i].id);
      continue;
    }
    // Idle since its last activity, and at least since this culler first saw it so: a kernel
    // handed out of a warm pool a moment ago has an old last_activity and is nobody's idle kernel.
    const std::int64_t seen = idle_since.emplace(candidates[i].id, now).first->second;
    const std::int64_t last = std::max(parse_engine_time(l.last_activity), seen);
    if (now - last < t.idle_cull_seconds) continue;
    idle.push_back(candidates[i]);
    settings.push_back(t.graceful_drain);
  }
  if (idle.empty()) return {};
  std::vector<DrainOutcome> outcomes;
  auto drains = drain_all(ctx, idle, settings, "idle with no clients past idle_cull_seconds", outcomes);
  execute(ctx, templates_project(ctx.home, {}), plan_retire(idle, "idle cull", std::nullopt));
  return outcomes;
}

}  // namespace fleet
