// `top`: one refresh of the live view. Every kernel's row with its load (engine stats and the
// kernel's own status, all sampled at once: with the door's StatsMemory one stats period, ~1 s),
// the warm pools (this process's, else as serve last said) and the autoscaler's latest decisions.
#include "fleet/autoscale_service.hpp"
#include "fleet/load.hpp"
#include "fleet/operations.hpp"
#include "fleet/pool_service.hpp"

namespace fleet {
namespace {

PoolRow pool_row(const std::string& name, const nlohmann::json& stats) {
  return {.name = name,
          .current_size = stats.value("current_size", 0),
          .filling = stats.value("filling", 0),
          .target_size = stats.value("target_size", 0),
          .hits = stats.value("hits", 0L),
          .misses = stats.value("misses", 0L)};
}

}  // namespace

TopReport top(Context& ctx, const TopOptions& options) {
  TopReport report;
  auto kernels = observe_kernels(ctx.client).containers;
  report.kernels = kernel_rows(ctx, kernels);
  std::vector<ObservedContainer> live;
  std::vector<KernelRow*> live_rows;
  for (std::size_t i = 0; i < kernels.size(); ++i)
    if (kernels[i].state == "running" || kernels[i].state == "paused") {
      live.push_back(kernels[i]);
      live_rows.push_back(&report.kernels[i]);
    }
  const auto started = ctx.time().now();
  std::vector<KernelLoad> loads = sample_loads(ctx.client, live, true, ctx.stats);
  report.sample_seconds = std::chrono::duration<double>(ctx.time().now() - started).count();
  for (std::size_t i = 0; i < live.size(); ++i) {
    KernelRow& r = *live_rows[i];
    const KernelLoad& l = loads[i];
    if (l.sampled) {
      r.cpu_percent = l.cpu_percent;
      r.memory_used = l.memory_used;
      r.memory_limit = l.memory_limit;
    }
    r.clients = l.clients;
    r.pending = l.pending;
    r.execution_state = l.execution_state.value_or("");
  }

  nlohmann::json pools = nlohmann::json::array();
  if (ctx.pools) {
    pools = ctx.pools->stats();
    report.pools_live = true;
  } else {
    nlohmann::json last = last_pool_status(ctx.home);
    pools = last["pools"];
    report.pools_live = last["live"].get<bool>();
  }
  for (const auto& p : pools) report.pools.push_back(pool_row(p.value("template", std::string()), p));
  nlohmann::json autoscaling = autoscaling_status(ctx.home);
  report.autoscaler_running = autoscaling.value("running", false);
  for (const auto& s : autoscaling["services"])  // compose services' pools, as serve last said
    if (s.contains("warm_pool"))
      report.pools.push_back(pool_row(s.value("service", std::string()), s["warm_pool"]));

  for (const auto& d : autoscaling_history(ctx.home, options.decisions)) {
    auto text = [&d](const char* key) {
      return d.contains(key) && d[key].is_string() ? d[key].get<std::string>() : "";
    };
    report.decisions.push_back({.at = text("at"),
                                .project = text("project"),
                                .service = text("service"),
                                .action = text("action"),
                                .summary = text("summary"),
                                .outcome = text("outcome")});
  }
  return report;
}

}  // namespace fleet
