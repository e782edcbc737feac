// up and scale: check the input against the engine, observe, plan, execute, then optionally wait.
#include <thread>

#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/executor.hpp"
#include "fleet/labels.hpp"
#include "fleet/project.hpp"

namespace fleet {
namespace {

Observed observe(engine::Client& client, const compose::Project& p) {
  Observed o;
  for (const auto& c : project_containers(client, p.name))
    if (c.labels.count(labels::kComposeOneoff) == 0 || c.labels.at(labels::kComposeOneoff) != "True")
      o.containers.push_back(observed_from(c));
  for (const auto& n :
       client.list_networks({{"label", {std::string(labels::kComposeProject) + "=" + p.name}}}))
    o.networks.insert(n.name);
  for (const auto& [key, def] : p.networks)
    if (!o.networks.count(def.name)) {
      try {
        client.inspect_network(def.name);  // made by another tool without our labels: use it
        o.networks.insert(def.name);
      } catch (const engine::NotFoundError&) {
        if (def.external) throw InvalidInput("external network " + def.name + " does not exist");
      }
    }
  for (const auto& v :
       client.list_volumes({{"label", {std::string(labels::kComposeProject) + "=" + p.name}}}))
    o.volumes.insert(v.name);
  return o;
}

// What the daemon would refuse halfway through is refused before anything is created.
void check_against_engine(ProjectContext& ctx, const compose::Selection& sel, UpRequest& request) {
  const auto& p = ctx.project;
  int cpus = ctx.client.info().value("NCPU", 0);
  for (const auto& name : sel.targeted) {
    const compose::Service& s = p.services.at(name);
    std::string path = "services." + name;
    if (s.cpus && cpus > 0 && *s.cpus > cpus)
      throw InvalidInput(p.source_name + ":" + std::to_string(p.line_of(path + ".cpus")) + ": " + path +
                         ".cpus: " + std::to_string(*s.cpus) + " is more than the engine's " +
                         std::to_string(cpus) + " CPUs");
    // A missing source is created as a folder (as the engine would), which only helps a writable
    // mount: read-only, it is a typo that would hand the service an empty folder for a file.
    for (const auto& v : s.volumes)
      if (v.type == "bind" && v.read_only && !std::filesystem::exists(v.source))
        throw InvalidInput(p.source_name + ":" + std::to_string(p.line_of(path + ".volumes")) + ": " + path +
                           ".volumes: " + v.source + " does not exist (a read-only mount needs it)");
    if (s.mem_limit && *s.mem_limit < 6 * 1024 * 1024)
      throw InvalidInput(p.source_name + ":" + std::to_string(p.line_of(path + ".mem_limit")) + ": " + path +
                         ".mem_limit: the engine needs at least 6 MiB");
    try {
      request.image_ids[name] = ctx.client.inspect_image(s.image).id;
    } catch (const engine::NotFoundError&) {
      if (!s.build)
        throw InvalidInput("image " + s.image + " of service " + name +
                           " is not on this engine and the service has no build section");
      ctx.progress({"Image " + s.image, "Building", ProgressEvent::Kind::Working});
      build(ctx, {.names = {name}}, false);
      request.image_ids[name] = ctx.client.inspect_image(s.image).id;
    }
  }
}

void wait_until_healthy(ProjectContext& ctx, const compose::Selection& sel, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::set<std::string> targeted(sel.targeted.begin(), sel.targeted.end());
  while (true) {
    std::vector<std::string> pending, failed;
    for (const auto& c : project_containers(ctx.client, ctx.project.name)) {
      auto service = c.labels.at(labels::kComposeService);
      if (!targeted.count(service)) continue;
      engine::ContainerInspect i = ctx.client.inspect_container(c.id);
      std::string health = i.state.health ? i.state.health->status : "";
      if (!i.state.running && !i.state.paused)
        failed.push_back(i.name + " (" + i.state.status + ")");
      else if (health == "unhealthy")
        failed.push_back(i.name + " (unhealthy)");
      else if (i.state.health && health != "healthy")
        pending.push_back(i.name + " (" + health + ")");
    }
    if (!failed.empty() || (std::chrono::steady_clock::now() > deadline && !pending.empty())) {
      auto all = failed;
      all.insert(all.end(), pending.begin(), pending.end());
      std::string names;
      for (const auto& n : all) names += (names.empty() ? "" : ", ") + n;
      throw OperationFailed("not healthy: " + names);
    }
    if (pending.empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

UpResult converge(ProjectContext& ctx, const compose::Selection& sel,
                  const std::map<std::string, int>& replicas, bool wait, std::chrono::seconds wait_timeout) {
  UpRequest request{.replicas = replicas};
  check_against_engine(ctx, sel, request);
  Plan plan = plan_up(ctx.project, sel, observe(ctx.client, ctx.project), request);
  Executor(ctx).run(plan, sel, request);
  refresh_registry(ctx.client, ctx.project);
  if (wait) wait_until_healthy(ctx, sel, wait_timeout);
  return {sel, plan};
}

}  // namespace

UpResult up(ProjectContext& ctx, const UpOptions& options) {
  return converge(ctx, compose::select_services(ctx.project, options.selection), options.replicas,
                  options.wait, options.wait_timeout);
}

UpResult scale(ProjectContext& ctx, const std::map<std::string, int>& replicas, bool wait,
               std::chrono::seconds wait_timeout) {
  compose::SelectionRequest request;
  for (const auto& [service, count] : replicas) {
    if (count < 0) throw InvalidInput("cannot scale " + service + " to " + std::to_string(count));
    request.names.push_back(service);
    const auto it = ctx.project.services.find(service);
    if (it != ctx.project.services.end() && !it->second.container_name.empty() && count > 1)
      throw InvalidInput("service " + service + " has a fixed container_name: it cannot have " +
                         std::to_string(count) + " replicas");
  }
  return converge(ctx, compose::select_services(ctx.project, request), replicas, wait, wait_timeout);
}

}  // namespace fleet
