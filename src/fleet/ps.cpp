// ps: a row per container of the project with what the engine says of it; limits and health need an
// inspect each, made in parallel.
#include <algorithm>
#include <ctime>
#include <tuple>

#include "fleet/operations.hpp"
#include "fleet/timestamps.hpp"
#include "util/parallel.hpp"

namespace fleet {
namespace {

std::string ports_text(const ObservedContainer& c) {
  auto ports = c.ports;  // the engine lists them in no particular order
  std::sort(ports.begin(), ports.end(), [](const auto& a, const auto& b) {
    return std::tie(a.private_port, a.type, a.public_port) < std::tie(b.private_port, b.type, b.public_port);
  });
  std::string out;
  for (const auto& p : ports) {
    if (!out.empty()) out += ", ";
    if (p.public_port) out += (p.ip.empty() ? "" : p.ip + ":") + std::to_string(p.public_port) + "->";
    out += std::to_string(p.private_port) + "/" + p.type;
  }
  return out;
}

}  // namespace

std::vector<PsRow> ps(Context& ctx, const compose::Project& project, bool all) {
  auto containers = observe_project(ctx.client, project.name).containers;
  if (!all)
    std::erase_if(containers, [](const ObservedContainer& c) {
      return c.state != "running" && c.state != "paused" && c.state != "restarting";
    });
  std::vector<PsRow> rows(containers.size());
  std::vector<std::function<void()>> tasks;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (std::size_t i = 0; i < containers.size(); ++i)
    tasks.push_back([&, i] {
      const auto& c = containers[i];
      PsRow& r = rows[i];
      r.id = c.id;
      r.name = c.name;
      r.service = c.service;
      r.number = c.number;
      r.state = c.state;
      r.ports = ports_text(c);
      try {
        engine::ContainerInspect in = ctx.client.inspect_container(c.id);
        r.health = in.state.health ? in.state.health->status : "";
        r.memory = in.memory;
        r.cpus = static_cast<double>(in.nano_cpus) / 1e9;
        if (in.state.running) {
          std::int64_t started = parse_engine_time(in.state.started_at);
          r.uptime_seconds = started < 0 ? -1 : now - started;
        }
      } catch (const engine::NotFoundError&) {
        r.state = "removed";
      }
    });
  util::run_parallel(tasks, ctx.parallel);
  return rows;
}

}  // namespace fleet
