// Carries a plan out: networks and volumes, then services level by level (a level waits for the
// conditions its dependencies ask for), the containers of a level in parallel. Every step works
// on one container, so a run cut short at any point leaves a state the next plan converges from.
#include "fleet/executor.hpp"

#include <algorithm>

#include <sys/stat.h>
#include <unistd.h>

#include "fleet/connection_files.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/file_grants.hpp"
#include "fleet/hooks.hpp"
#include "fleet/kernel_readiness.hpp"
#include "fleet/labels.hpp"
#include "fleet/retire.hpp"
#include "util/parallel.hpp"
#include "util/poll.hpp"

namespace fleet {
namespace {

bool port_race(const engine::EngineError& e) {
  const auto& m = e.daemon_message();
  return m.find("port is already allocated") != std::string::npos ||
         m.find("address already in use") != std::string::npos;
}

// Bind-mount sources that do not exist are created as directories (as compose does), owned by the
// service's numeric user so a non-root kernel can write its logs there.
void prepare_bind_sources(const compose::Service& s) {
  for (const auto& v : s.volumes) {
    // create_host_path: false is checked before the run (service_checks.hpp): nothing is made for it.
    if (v.type != "bind" || !v.create_host_path || std::filesystem::exists(v.source)) continue;
    std::filesystem::create_directories(v.source);
    if (::geteuid() != 0 || s.user.empty()) continue;
    auto colon = s.user.find(':');
    try {
      uid_t uid = static_cast<uid_t>(std::stoul(s.user.substr(0, colon)));
      gid_t gid = colon == std::string::npos ? uid : static_cast<gid_t>(std::stoul(s.user.substr(colon + 1)));
      if (::chown(v.source.c_str(), uid, gid) != 0) {
        // Not fatal: the service may not need to write there.
      }
    } catch (const std::exception&) {
      // A user name rather than an id: leave ownership alone.
    }
  }
}

}  // namespace

Executor::Executor(Context& ctx, const compose::Project& project) : ctx_(ctx), project_(project) {}

void Executor::report(const std::string& object, const std::string& status, ProgressEvent::Kind kind) {
  std::lock_guard lock(progress_mutex_);
  ctx_.progress({object, status, kind});
}

void Executor::run(const Plan& plan, const ExecutionInput& input) {
  input_ = input;
  for (const auto& step : plan.setup) run_setup(step);
  // Bind sources are made only for what this plan creates: a down or a stop must not make folders.
  for (const auto& [service, steps] : plan.steps)
    if (auto it = project_.services.find(service); it != project_.services.end())
      if (std::any_of(steps.begin(), steps.end(), [](const Step& s) {
            return s.action == Step::Action::CreateContainer || s.action == Step::Action::RecreateContainer;
          }))
        prepare_bind_sources(it->second);
  ctx_.home.prepare();

  for (const auto& level : plan.levels) {
    if (input_.selection)
      for (const auto& service : level) wait_for_dependencies(service);
    // Removals first: a rename may need the name a removed container held.
    std::vector<std::function<void()>> removals, others;
    for (const auto& service : level) {
      auto it = plan.steps.find(service);
      if (it == plan.steps.end()) continue;
      for (const auto& step : it->second)
        (step.action == Step::Action::RemoveContainer ? removals : others).push_back([this, step] {
          run_step(step);
        });
    }
    util::run_parallel(removals, ctx_.parallel);
    util::run_parallel(others, ctx_.parallel);
  }
}

void Executor::run_setup(const Step& step) {
  const auto& p = project_;
  if (step.action == Step::Action::CreateNetwork) {
    std::string key;
    for (const auto& [k, n] : p.networks)
      if (n.name == step.target) key = k;
    const auto& def = p.networks.at(key);
    report("Network " + step.target, "Creating");
    engine::Labels l = def.labels;
    l[labels::kComposeProject] = p.name;
    l[labels::kComposeNetwork] = key;
    l[labels::kComposeVersion] = labels::kComposeVersionValue;
    l[labels::kManaged] = "true";
    engine::NetworkCreateOptions options{.name = step.target,
                                         .driver = def.driver.empty() ? "bridge" : def.driver,
                                         .labels = l,
                                         .internal = def.internal,
                                         .attachable = def.attachable,
                                         .enable_ipv6 = def.enable_ipv6,
                                         .options = def.driver_opts};
    if (def.ipam) {
      engine::Ipam ipam{.driver = def.ipam->driver, .options = def.ipam->options};
      for (const auto& pool : def.ipam->config)
        ipam.config.push_back({pool.subnet, pool.ip_range, pool.gateway, pool.aux_addresses});
      options.ipam = ipam;
    }
    try {
      ctx_.client.create_network(options);
    } catch (const engine::ConflictError&) {
      // Created meanwhile (another run): the same network either way.
    }
    report("Network " + step.target, "Created", ProgressEvent::Kind::Done);
  } else if (step.action == Step::Action::CreateVolume) {
    std::string key;
    for (const auto& [k, v] : p.volumes)
      if (v.name == step.target) key = k;
    engine::Labels l = p.volumes.at(key).labels;
    l[labels::kComposeProject] = p.name;
    l[labels::kComposeVolume] = key;
    l[labels::kComposeVersion] = labels::kComposeVersionValue;
    l[labels::kManaged] = "true";
    report("Volume " + step.target, "Creating");
    const auto& def = p.volumes.at(key);
    ctx_.client.create_volume(step.target, l, def.driver.empty() ? "local" : def.driver, def.driver_opts);
    report("Volume " + step.target, "Created", ProgressEvent::Kind::Done);
  }
}

void Executor::run_step(const Step& step) {
  const std::string object = "Container " + step.target;
  auto service = [&]() -> const compose::Service& {
    auto it = project_.services.find(step.service);
    if (it == project_.services.end())
      throw OperationFailed("plan step \"" + step.str() + "\" names no service of " + project_.name);
    return it->second;
  };
  try {
    switch (step.action) {
      case Step::Action::CreateContainer: {
        report(object, "Creating");
        std::string id = create(service(), step, step.target);
        report(object, "Created");
        start(service(), step, id);
        break;
      }
      case Step::Action::StartContainer:
        start(service(), step, step.container_id);
        break;
      case Step::Action::RenameContainer:
        ctx_.client.rename_container(step.container_id, step.target);
        report(object, "Renamed", ProgressEvent::Kind::Done);
        break;
      case Step::Action::RecreateContainer: {
        // The new container exists before the old one goes.
        report(object, "Recreating");
        std::string temp = step.container_id.substr(0, 12) + "_" + step.target;
        std::string id = create(service(), step, temp);
        retire(step);
        ctx_.client.rename_container(id, step.target);
        report(object, "Recreated");
        start(service(), step, id);
        break;
      }
      case Step::Action::PauseContainer:
      case Step::Action::UnpauseContainer: {
        const bool pause = step.action == Step::Action::PauseContainer;
        try {
          pause ? ctx_.client.pause_container(step.container_id)
                : ctx_.client.unpause_container(step.container_id);
        } catch (const engine::EngineError& e) {
          // The engine answers 409 "is already paused" / 500 "is not paused", never 304: the goal is
          // reached all the same.
          const auto& m = e.daemon_message();
          if (m.find(pause ? "already paused" : "not paused") == std::string::npos) throw;
        }
        report(object, pause ? "Paused" : "Unpaused", ProgressEvent::Kind::Done);
        break;
      }
      case Step::Action::RemoveContainer:
        report(object, "Stopping");
        retire(step, true);
        if (!step.kernel_id.empty()) std::filesystem::remove(ctx_.home.connection_file(step.kernel_id));
        report(object, "Removed", ProgressEvent::Kind::Done);
        break;
      default:
        break;
    }
  } catch (const std::exception& e) {
    report(object, std::string("Error: ") + e.what(), ProgressEvent::Kind::Failed);
    throw;
  }
}

std::string Executor::create(const compose::Service& s, const Step& step, const std::string& name) {
  std::string image_id = input_.image_ids.count(s.name) ? input_.image_ids.at(s.name) : std::string();
  ReplicaIdentity who{.number = step.number,
                      .kernel_id = step.kernel_id,
                      .owner = input_.owner,
                      .host_port = step.host_port,
                      .labels = input_.labels};
  if (auto x = s.extensions.find("x-fleet");
      x != s.extensions.end() && x->is_object() && x->contains("owner"))
    who.owner = x->value("owner", who.owner);
  const Peers peers = peers_of(s);
  nlohmann::json body = create_body(project_, s, who, image_id, peers);
  std::string id;
  try {
    id = ctx_.client.create_container(name, body, s.platform).id;
  } catch (const engine::ConflictError&) {
    // The name is taken. A run killed a moment ago may have had this very container created after
    // we observed (the engine finished its request): the same labels and config hash mean it is the
    // replica this step makes, and it is taken over. Anything else is a real conflict.
    if (who.spawned()) throw;
    engine::ContainerInspect existing = ctx_.client.inspect_container(name);
    for (const char* key : {labels::kComposeProject, labels::kComposeService, labels::kComposeNumber,
                            labels::kComposeConfigHash, labels::kManaged})
      if (!existing.labels.count(key) || !body["Labels"].contains(key) ||
          existing.labels.at(key) != body["Labels"][key])
        throw;
    report("Container " + name, "Taken over (made by an interrupted run)");
    return existing.id;
  }
  try {
    // Further networks before the start, each with its own endpoint settings (compose does the same
    // below API 1.44, where the create body takes one network only).
    if (s.network_mode.empty()) {
      const auto keys = networks_by_priority(s);
      const auto links = container_links(project_, s, who.number, peers);
      for (std::size_t i = 1; i < keys.size(); ++i)
        ctx_.client.connect_endpoint(project_.networks.at(keys[i]).name, id,
                                     endpoint_settings(project_, s, keys[i], links));
    }
  } catch (...) {
    ctx_.client.remove_container(id, {.force = true});
    throw;
  }
  return id;
}

void Executor::start(const compose::Service& s, const Step& step, const std::string& id) {
  const std::string object = "Container " + step.target;
  report(object, "Starting");
  try {
    // Environment secrets and inline configs are copied in before every start (as compose does): a
    // container created by a run cut short before its start gets them too.
    put_grants(ctx_.client, project_, s, id);
    // Published ports are allocated without a lock in the engine: parallel starts can collide.
    for (int attempt = 1;; ++attempt) {
      try {
        ctx_.client.start_container(id);
        break;
      } catch (const engine::EngineError& e) {
        if (!port_race(e) || attempt == 3) throw;
        ctx_.time().sleep_for(std::chrono::milliseconds(100 * attempt));
      }
    }
    if (!s.post_start.empty()) {
      report(object, "Running post_start hooks");
      run_post_start(ctx_.client, s, id);
    }
    if (input_.started) input_.started(step);
    if (is_kernel_service(s)) {
      wait_until_kernel_serves(ctx_.client, id, std::chrono::seconds(60), ctx_.time());
      write_host_connection_file(ctx_.client, ctx_.client.inspect_container(id), ctx_.home);
    }
  } catch (...) {
    // A spawned kernel that does not come up is not left behind (a compose replica stays for the
    // next `up` to converge, as compose leaves it).
    if (step.number == 0 && step.action == Step::Action::CreateContainer) {
      try {
        ctx_.client.remove_container(id, {.force = true});
      } catch (const engine::EngineError&) {
      }
    }
    throw;
  }
  report(object, "Started", ProgressEvent::Kind::Done);
}

void Executor::retire(const Step& step, bool hooks) {
  std::optional<int> timeout = step.stop_timeout;
  auto it = project_.services.find(step.service);
  const compose::Service* s = it != project_.services.end() ? &it->second : nullptr;
  if (!timeout && s && s->stop_grace_period_ns)
    timeout = static_cast<int>(*s->stop_grace_period_ns / 1'000'000'000);
  std::function<void()> before_stop;
  // pre_stop hooks when the container is taken out (down, scale down), not when it is replaced (as
  // compose): best effort, within the grace period (10 s when none is set).
  if (hooks && s && !s->pre_stop.empty() && step.number > 0)
    before_stop = [&] {
      report("Container " + step.target, "Running pre_stop hooks");
      for (const auto& problem : run_pre_stop(ctx_.client, *s, step.container_id,
                                              std::chrono::seconds(timeout.value_or(10)), ctx_.time()))
        report("Container " + step.target, problem, ProgressEvent::Kind::Warning);
    };
  retire_container(ctx_.client, step.container_id, step.container_state, timeout, before_stop);
}

Peers Executor::peers_of(const compose::Service& s) {
  Peers peers;
  std::vector<std::string> referred = compose::implicit_dependencies(s);
  for (const auto& service : referred) {
    if (!project_.services.count(service)) continue;
    std::vector<std::pair<int, std::string>> found;
    for (const auto& c : ctx_.client.list_containers({.all = true,
                         .filters = {{"label",
                                      {std::string(labels::kComposeProject) + "=" + project_.name,
                                       std::string(labels::kComposeService) + "=" + service}}}})) {
      auto number = c.labels.find(labels::kComposeNumber);
      auto oneoff = c.labels.find(labels::kComposeOneoff);
      if (number == c.labels.end() || (oneoff != c.labels.end() && oneoff->second == "True")) continue;
      try {
        found.emplace_back(std::stoi(number->second), c.name());
      } catch (const std::exception&) {
      }
    }
    std::sort(found.begin(), found.end());
    for (const auto& [number, name] : found) peers.containers[service].push_back(name);
  }
  return peers;
}

void Executor::wait_for_dependencies(const std::string& service) {
  const compose::Service& s = project_.services.at(service);
  for (const auto& dep : input_.selection->dependencies.at(service)) {
    // Implicit dependencies (links, volumes_from, service: namespaces) only need to be started.
    auto d = s.depends_on.find(dep);
    if (d == s.depends_on.end()) continue;
    const auto& condition = d->second.condition;
    if (condition == "service_started") continue;
    report("Service " + dep, "Waiting (" + condition + ")");
    bool met = util::poll_until(
        [&] {
          auto containers = ctx_.client.list_containers(
              {.all = true,
               .filters = {{"label",
                            {std::string(labels::kComposeProject) + "=" + project_.name,
                             std::string(labels::kComposeService) + "=" + dep}}}});
          bool all_met = !containers.empty();
          for (const auto& c : containers) {
            engine::ContainerInspect i = ctx_.client.inspect_container(c.id);
            if (condition == "service_healthy") {
              if (!i.state.running)
                throw OperationFailed("dependency " + dep + " (" + i.name + ") is " + i.state.status);
              if (i.state.health && i.state.health->status == "unhealthy")
                throw OperationFailed("dependency " + dep + " (" + i.name + ") is unhealthy");
              if (!i.state.health || i.state.health->status != "healthy") all_met = false;
            } else {  // service_completed_successfully
              if (i.state.running || i.state.restarting)
                all_met = false;
              else if (i.state.exit_code != 0)
                throw OperationFailed("dependency " + dep + " (" + i.name + ") exited with " +
                                      std::to_string(i.state.exit_code));
            }
          }
          return all_met;
        },
        {.timeout = std::chrono::minutes(5),
         .interval = std::chrono::milliseconds(500),
         .clock = ctx_.clock});
    if (!met)
      throw OperationFailed("dependency " + dep + " did not become " + condition.substr(8) +
                            " within 5 minutes");
    report("Service " + dep, condition == "service_healthy" ? "Healthy" : "Completed",
           ProgressEvent::Kind::Done);
  }
}

namespace {
void record(Context& ctx) {
  try {
    remove_replaced_images(ctx);
  } catch (const std::exception& e) {
    ctx.warn("Images", std::string("replaced images not removed: ") + e.what());
  }
  refresh_registry_after_change(ctx);
}
}  // namespace

void execute(Context& ctx, const compose::Project& project, const Plan& plan, const ExecutionInput& input) {
  try {
    Executor(ctx, project).run(plan, input);
  } catch (...) {
    record(ctx);
    throw;
  }
  record(ctx);
}

}  // namespace fleet
