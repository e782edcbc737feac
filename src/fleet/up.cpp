// up and scale: check the input against the engine, observe, plan, execute, then optionally wait.
#include "fleet/errors.hpp"
#include "fleet/executor.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/service_checks.hpp"
#include "util/poll.hpp"
#include "util/units.hpp"

namespace fleet {
namespace {

Observed observe(Context& ctx, const compose::Project& p) {
  Observed o = observe_project(ctx.client, p.name, true);
  for (const auto& foreign : o.foreign) ctx.warn("Container", "ignored: " + foreign);
  for (const auto& [key, def] : p.networks)
    if (!o.networks.count(def.name)) {
      try {
        ctx.client.inspect_network(def.name);  // made by another tool without our labels: use it
        o.networks.insert(def.name);
      } catch (const engine::NotFoundError&) {
        if (def.external) throw InvalidInput("external network " + def.name + " does not exist");
      }
    }
  return o;
}

// What the daemon would refuse halfway through is refused before anything is created.
void check_against_engine(Context& ctx, const compose::Project& p, const compose::Selection& sel,
                          std::map<std::string, std::string>& image_ids) {
  int cpus = ctx.client.info().value("NCPU", 0);
  for (const auto& name : sel.targeted) {
    const compose::Service& s = p.services.at(name);
    std::string path = "services." + name;
    if (s.cpus && cpus > 0 && *s.cpus > cpus)
      throw InvalidInput(p.source_name + ":" + std::to_string(p.line_of(path + ".cpus")) + ": " + path +
                         ".cpus: " + util::format_number(*s.cpus) + " is more than the engine's " +
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
  }
  // Settings the engine would refuse or drop, secrets and configs that cannot be placed.
  const engine::ApiVersion api = ctx.client.api_version();
  std::vector<std::string> warnings;
  check_services(p, sel, api, warnings);
  check_networks(p, sel, api);
  for (const auto& w : warnings) ctx.warn("Compose file", w);

  // Every image checked before any is pulled or built: a refusal changes nothing. pull_policy: never
  // wants the image here; always pulls it (there may be no registry: then it fails and says so);
  // build builds it every time; missing, if_not_present and the daily/weekly/every_<n> ones (whose
  // last pull the engine does not record) pull nothing and build what is missing.
  std::vector<std::string> to_build, to_pull;
  for (const auto& name : sel.targeted) {
    const compose::Service& s = p.services.at(name);
    const std::string policy = "services." + name + ".pull_policy " + s.pull_policy;
    if (s.pull_policy == "build") {
      if (!s.build) throw InvalidInput(policy + ": the service has no build section");
      to_build.push_back(name);
      continue;
    }
    if (s.pull_policy == "always") {
      to_pull.push_back(name);
      continue;
    }
    try {
      engine::ImageInspect image = ctx.client.inspect_image(s.image);
      check_image_labels(image, s.image);
      image_ids[name] = image.id;
    } catch (const engine::NotFoundError&) {
      if (s.pull_policy == "never")
        throw InvalidInput(policy + ": image " + s.image + " is not on this engine (and is never pulled)");
      if (!s.build)
        throw InvalidInput("image " + s.image + " of service " + name +
                           " is not on this engine and the service has no build section");
      to_build.push_back(name);
    }
  }
  if (auto refused = unsupported_build_keys(p, to_build); !refused.empty()) {
    std::string message;
    for (const auto& line : refused) message += (message.empty() ? "" : "\n") + line;
    throw InvalidInput(message);
  }
  for (const auto& name : to_pull) {
    const compose::Service& s = p.services.at(name);
    ctx.progress({"Image " + s.image, "Pulling", ProgressEvent::Kind::Working});
    try {
      ctx.client.pull_image(s.image);
    } catch (const engine::EngineError& e) {
      throw OperationFailed("services." + name + ".pull_policy always: cannot pull " + s.image + ": " +
                            (e.daemon_message().empty() ? std::string(e.what()) : e.daemon_message()));
    }
    engine::ImageInspect image = ctx.client.inspect_image(s.image);
    check_image_labels(image, s.image);
    image_ids[name] = image.id;
    ctx.progress({"Image " + s.image, "Pulled", ProgressEvent::Kind::Done});
  }
  for (const auto& name : to_build) {
    build(ctx, p, {.names = {name}}, false);
    image_ids[name] = ctx.client.inspect_image(p.services.at(name).image).id;
  }
}

// Counts the file or the command line asks for that the engine could not carry out.
void check_replicas(const compose::Project& p, const std::map<std::string, int>& replicas) {
  for (const auto& [service, count] : replicas) {
    if (count < 0) throw InvalidInput("cannot scale " + service + " to " + std::to_string(count));
    const auto it = p.services.find(service);
    if (it != p.services.end() && !it->second.container_name.empty() && count > 1)
      throw InvalidInput("service " + service + " has a fixed container_name: it cannot have " +
                         std::to_string(count) + " replicas");
  }
}

void wait_until_healthy(Context& ctx, const compose::Project& p, const compose::Selection& sel,
                        std::chrono::seconds timeout) {
  std::set<std::string> targeted(sel.targeted.begin(), sel.targeted.end());
  std::vector<std::string> pending, failed;
  auto check = [&] {
    pending.clear();
    for (const auto& c : observe_project(ctx.client, p.name).containers) {
      if (!targeted.count(c.service)) continue;
      engine::ContainerInspect i = ctx.client.inspect_container(c.id);
      std::string health = i.state.health ? i.state.health->status : "";
      if (!i.state.running && !i.state.paused)
        failed.push_back(i.name + " (" + i.state.status + ")");
      else if (health == "unhealthy")
        failed.push_back(i.name + " (unhealthy)");
      else if (i.state.health && health != "healthy")
        pending.push_back(i.name + " (" + health + ")");
    }
    return !failed.empty() || pending.empty();
  };
  util::poll_until(check,
                   {.timeout = timeout, .interval = std::chrono::milliseconds(500), .clock = ctx.clock});
  if (!failed.empty() || !pending.empty()) {
    auto all = failed;
    all.insert(all.end(), pending.begin(), pending.end());
    std::string names;
    for (const auto& n : all) names += (names.empty() ? "" : ", ") + n;
    throw OperationFailed("not healthy: " + names);
  }
}

ConvergeResult converge(Context& ctx, const compose::Project& p, const compose::Selection& sel,
                        const std::map<std::string, int>& replicas, bool wait,
                        std::chrono::seconds wait_timeout) {
  UpRequest request{.replicas = replicas};
  check_replicas(p, replicas);
  check_against_engine(ctx, p, sel, request.image_ids);
  Plan plan = plan_up(p, sel, observe(ctx, p), request);
  execute(ctx, p, plan, {.image_ids = request.image_ids, .selection = &sel, .owner = current_user()});
  if (wait) wait_until_healthy(ctx, p, sel, wait_timeout);
  return {sel, plan};
}

}  // namespace

ConvergeResult up(Context& ctx, const compose::Project& p, const ConvergeOptions& options) {
  return converge(ctx, p, compose::select_services(p, options.selection), options.replicas, options.wait,
                  options.wait_timeout);
}

ConvergeResult scale(Context& ctx, const compose::Project& p, const std::map<std::string, int>& replicas,
                     bool wait, std::chrono::seconds wait_timeout) {
  compose::SelectionRequest request;
  for (const auto& [service, count] : replicas) request.names.push_back(service);
  return converge(ctx, p, compose::select_services(p, request), replicas, wait, wait_timeout);
}

}  // namespace fleet
