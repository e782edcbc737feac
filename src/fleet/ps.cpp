// ps: a row per container with what the engine says of it; limits and health need an inspect each,
// made in parallel.
#include <ctime>

#include "fleet/labels.hpp"
#include "fleet/project.hpp"
#include "util/parallel.hpp"

namespace fleet {
namespace {

// "2026-11-24T11:30:00.123456789Z" -> unix seconds (-1 for the engine's zero time).
std::int64_t parse_timestamp(const std::string& text) {
  std::tm tm{};
  if (text.size() < 19 || text.rfind("0001-", 0) == 0) return -1;
  if (!strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string ports_text(const engine::ContainerSummary& c) {
  std::string out;
  for (const auto& p : c.ports) {
    if (!out.empty()) out += ", ";
    if (p.public_port) out += (p.ip.empty() ? "" : p.ip + ":") + std::to_string(p.public_port) + "->";
    out += std::to_string(p.private_port) + "/" + p.type;
  }
  return out;
}

}  // namespace

std::vector<PsRow> ps(ProjectContext& ctx, bool all) {
  auto containers = project_containers(ctx.client, ctx.project.name, all);
  std::vector<PsRow> rows(containers.size());
  std::vector<std::function<void()>> tasks;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (std::size_t i = 0; i < containers.size(); ++i)
    tasks.push_back([&, i] {
      const auto& c = containers[i];
      PsRow& r = rows[i];
      r.id = c.id;
      r.name = c.name();
      r.service = c.labels.count(labels::kComposeService) ? c.labels.at(labels::kComposeService) : "";
      r.number =
          c.labels.count(labels::kComposeNumber) ? std::atoi(c.labels.at(labels::kComposeNumber).c_str()) : 0;
      r.state = c.state;
      r.ports = ports_text(c);
      try {
        engine::ContainerInspect in = ctx.client.inspect_container(c.id);
        r.health = in.state.health ? in.state.health->status : "";
        r.memory = in.memory;
        r.cpus = static_cast<double>(in.nano_cpus) / 1e9;
        if (in.state.running) {
          std::int64_t started = parse_timestamp(in.state.started_at);
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
