// The door: turns the adapters' option structs into the operations' inputs (defaults, parsing of
// sizes and times, the compose file loaded once), calls one operation, and translates whatever it
// throws into a fleet::Error in one place (guard).
#include "fleet/fleet.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>

#include "compose/loader.hpp"
#include "engine/client.hpp"
#include "fleet/autoscale_service.hpp"
#include "fleet/checkpoints.hpp"
#include "fleet/event_log.hpp"
#include "fleet/load.hpp"
#include "fleet/operations.hpp"
#include "fleet/pool_service.hpp"
#include "util/durations.hpp"
#include "util/units.hpp"

namespace fleet {
namespace {

template <typename Fn>
auto guard(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    throw to_fleet_error();
  }
}

// --since: unix seconds, a duration back from now (10m), or an RFC 3339 time.
std::int64_t parse_since(const std::string& text) {
  if (!text.empty() && text.size() < 12 && std::all_of(text.begin(), text.end(), ::isdigit))
    return std::stoll(text);
  if (auto d = util::parse_duration(text))
    return static_cast<std::int64_t>(std::time(nullptr)) - *d / 1'000'000'000;
  std::tm tm{};
  if (text.size() >= 19 && strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return timegm(&tm);
  throw InvalidInput("--since \"" + text + "\" is not a unix time, a duration (10m) or an RFC 3339 time");
}

std::map<std::string, std::string> parse_labels(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& l : items) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0) throw InvalidInput("--label \"" + l + "\" is not KEY=VALUE");
    out[l.substr(0, eq)] = l.substr(eq + 1);
  }
  return out;
}

}  // namespace

// The door's state, made on first use. One door may serve several threads at once (a watcher and
// requests): what is made lazily is made under `mu`.
struct Fleet::Impl {
  FleetOptions options;
  std::recursive_mutex mu;
  std::shared_ptr<engine::Api> own_client;
  engine::Api* engine = nullptr;  // a test's fake, else own_client
  std::optional<Context> context;
  std::optional<compose::Project> project;
  bool settings_loaded = false;

  // The engine connection the door talks through (shared through FleetOptions, or its own).
  engine::Api& api() {
    std::lock_guard lock(mu);
    if (engine) return *engine;
    own_client = options.engine ? options.engine : Fleet::connect(options.docker_host);
    engine = own_client.get();
    return *engine;
  }

  // The HTTP client itself, for what only it knows (its endpoint, the negotiated API version).
  engine::Client& client() {
    auto* c = dynamic_cast<engine::Client*>(&api());
    if (!c) throw OperationFailed("this door talks to an engine that is not reached over HTTP");
    return *c;
  }

  Context& ctx() {
    std::lock_guard lock(mu);
    if (!context) {
      Context fresh{.client = api(),
                    .progress = options.progress,
                    .clock = options.clock,
                    .pools = options.pools.get(),
                    .stats = options.stats.get()};
      fresh.home.prepare();
      context.emplace(std::move(fresh));
    }
    return *context;
  }

  // The fleet's settings, read by the operations that make kernels (spawn, find) only: a typo in
  // fleet.toml must not stand between a user and stop, list or down.
  const FleetSettings& settings() {
    std::lock_guard lock(mu);
    if (!settings_loaded) {
      ctx().settings = load_settings(ctx().home);
      settings_loaded = true;
    }
    return ctx().settings;
  }

  // The swarm backend's context: the settings name the nodes' own engines.
  Context& swarm_ctx() {
    settings();
    return ctx();
  }

  // For operations that must work whatever fleet.toml says (stop): its settings when it reads,
  // the defaults (with a warning) when not.
  void lenient_settings() {
    try {
      settings();
    } catch (const std::exception& e) {
      ctx().warn("fleet.toml", std::string("ignored: ") + e.what());
      std::lock_guard lock(mu);
      settings_loaded = true;
    }
  }

  // spawn --restore: a kernel of the checkpoint's template, then its state loaded. A kernel that
  // cannot take the state is stopped again: nothing is left half restored.
  KernelRow restore(const SpawnOptions& o) {
    if (!o.language.empty() || !o.config.empty() || !o.memory.empty() || o.cpus || !o.image.empty())
      throw InvalidInput(
          "a restored kernel is of its checkpoint's template: give no language, config, "
          "memory, cpus or image with restore");
    settings();
    Context& c = ctx();
    nlohmann::json checkpoint = read_checkpoint(c.home, o.restore);
    Template t = checkpoint_template(checkpoint);
    KernelRow row =
        fleet::spawn(c, t, {.kernel_id = o.name, .owner = o.owner, .labels = parse_labels(o.labels)});
    try {
      auto kernel = resolve(c, nullptr, {row.kernel_id}, Resolve::KernelsOnly).front();
      row.restored = load_checkpoint(c, kernel, checkpoint);
      row.restored_from = o.restore;
    } catch (...) {
      try {
        fleet::stop(c, {.names = {row.kernel_id}, .timeout = 0, .checkpoint = false}, nullptr);
      } catch (const std::exception&) {
      }
      throw;
    }
    return row;
  }

  std::map<std::string, std::int64_t> idle_since;  // cull_idle's memory: kernels first seen idle

  bool has_compose_file() const { return std::filesystem::exists(options.compose_file); }

  const compose::Project& compose_project() {
    std::lock_guard lock(mu);
    if (project) return *project;
    if (!has_compose_file())
      throw InvalidInput("no compose file at " + options.compose_file + " (use -f FILE)");
    project = compose::load_project(
        {.file = options.compose_file,
         .project_name = options.project_name.empty() ? std::nullopt : std::optional(options.project_name)});
    try {
      check_fleet_extensions(*project);
    } catch (...) {
      project.reset();
      throw;
    }
    // Keys the fleet read and ignores, as compose does (swarm-only deploy keys, develop): one line each.
    // The swarm backend applies the swarm's keys.
    const bool swarm = backend_of(*project) == "swarm";
    for (const auto& note : project->notes) {
      if (swarm && note.find("is for swarm") != std::string::npos) continue;
      auto space = note.find(' ');
      ctx().warn(note.substr(0, space), space == std::string::npos ? "" : note.substr(space + 1));
    }
    auto known = project->all_profiles();
    for (const auto& p : options.profiles)
      if (p != "*" && std::find(known.begin(), known.end(), p) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        ctx().warn("Profile " + p,
                   "no service uses it (known profiles: " + (list.empty() ? "none" : list) + ")");
      }
    return *project;
  }

  // Kernel commands work without a compose file; with one, its services and containers count too.
  // --backend, else the file's x-fleet.backend, else local.
  std::string backend_of(const compose::Project& p) const {
    if (!options.backend.empty()) {
      if (options.backend != "local" && options.backend != "swarm")
        throw InvalidInput("--backend: \"" + options.backend + "\" is not local or swarm");
      return options.backend;
    }
    auto x = p.extensions.find("x-fleet");
    if (x == p.extensions.end() || !x->is_object()) return "local";
    return x->value("backend", std::string("local"));  // checked by check_fleet_extensions
  }
  bool on_swarm() { return backend_of(compose_project()) == "swarm"; }
  // Kernel commands work without a compose file: --backend, else a compose file's x-fleet.backend
  // when one loads, else this engine.
  bool kernels_on_swarm() {
    if (!options.backend.empty()) return backend_of(compose::Project{}) == "swarm";
    try {
      return has_compose_file() && on_swarm();
    } catch (const std::exception&) {
      return false;  // a compose file that does not load is not the kernel commands' business
    }
  }

  const compose::Project* optional_project() { return has_compose_file() ? &compose_project() : nullptr; }

  // Names to containers. Kernels come first and need no compose file: the file is read only for a
  // name that is no kernel's, so a broken compose file in the current folder never stands between
  // a user and a kernel. `used` is set when the file was needed.
  std::vector<ObservedContainer> resolve_names(const std::vector<std::string>& names,
                                               const compose::Project*& used) {
    used = nullptr;
    try {
      return resolve(ctx(), nullptr, names, Resolve::KernelsOnly);
    } catch (const NotFound&) {
    }
    used = optional_project();
    return resolve(ctx(), used, names, Resolve::Anything);
  }

  Template template_of(const std::string& language, const std::string& config, const std::string& memory,
                       std::optional<double> cpus, const std::string& image) {
    const KernelDefaults& d = settings().kernels;
    Template t{.language = language.empty() ? d.language : language,
               .config = config.empty() ? d.config : config,
               .image = image.empty() ? d.image : image,
               .memory = d.memory,
               .cpus = cpus.value_or(d.cpus),
               .pids_limit = d.pids_limit};
    if (t.language == "js") t.language = "javascript";
    if (!memory.empty()) {
      auto bytes = util::parse_size(memory);
      if (!bytes) throw InvalidInput("--memory \"" + memory + "\" is not a size (e.g. 512m, 2g)");
      t.memory = *bytes;
    }
    return t;
  }
};

Fleet::Fleet(FleetOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Fleet::Fleet(FleetOptions options, engine::Api& engine) : Fleet(std::move(options)) {
  impl_->engine = &engine;
}

Fleet::~Fleet() = default;

std::shared_ptr<engine::Api> Fleet::connect(const std::string& docker_host) {
  return guard([&] {
    return std::static_pointer_cast<engine::Api>(std::make_shared<engine::Client>(
        docker_host.empty() ? engine::Endpoint::from_environment() : engine::Endpoint::parse(docker_host)));
  });
}

VersionReport Fleet::version() {
  return guard([&] {
    engine::Client& client = impl_->client();
    engine::VersionInfo v = client.version();
    return VersionReport{.fleet_version = PROJECT_VERSION,
                         .endpoint = client.endpoint().address,
                         .api_in_use = client.api_version().str(),
                         .engine_version = v.version,
                         .engine_api = v.api_version,
                         .engine_min_api = v.min_api_version,
                         .os = v.os,
                         .arch = v.arch,
                         .engine_raw = v.raw};
  });
}

PingReport Fleet::ping() {
  return guard([&] {
    engine::Client& client = impl_->client();
    return PingReport{client.endpoint().address, client.ping().api_version};
  });
}

ConfigReport Fleet::config(const ConfigOptions& options) {
  return guard([&] {
    const compose::Project& p = impl_->compose_project();
    ConfigReport r;
    if (options.profiles) {
      r.names = p.all_profiles();
      return r;
    }
    auto selection = compose::select_services(p, {.profile_flags = impl_->options.profiles});
    if (options.services) {
      r.names = selection.enabled;
      return r;
    }
    r.project = compose::to_json(p);
    for (auto it = r.project["services"].begin(); it != r.project["services"].end();)
      if (std::find(selection.enabled.begin(), selection.enabled.end(), it.key()) == selection.enabled.end())
        it = r.project["services"].erase(it);
      else
        ++it;
    return r;
  });
}

BuildReport Fleet::build(const BuildOptions& options) {
  return guard([&] {
    Context& ctx = impl_->ctx();
    if (!options.context.empty())
      return BuildReport{
          {build_image(ctx, {.context = options.context, .tag = options.tag, .no_cache = options.no_cache})}};
    return fleet::build(ctx, impl_->compose_project(),
                        {.profile_flags = impl_->options.profiles, .names = options.services},
                        options.no_cache);
  });
}

namespace {
UpReport report_of(const ConvergeResult& r) {
  UpReport out{.services = r.selection.targeted};
  std::string text = r.plan.str();
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    out.steps.push_back(text.substr(at, nl - at));
  return out;
}
}  // namespace

UpReport Fleet::up(const UpOptions& options) {
  return guard([&] {
    const compose::Project& p = impl_->compose_project();
    for (const auto& [service, count] : options.replicas)
      if (!p.services.count(service)) throw InvalidInput("--scale: no such service: " + service);
    const ConvergeOptions converge{.selection = {.profile_flags = impl_->options.profiles,
                                                 .names = options.names,
                                                 .names_may_be_profiles = true},
                                   .replicas = options.replicas,
                                   .wait = options.wait,
                                   .wait_timeout = options.wait_timeout};
    if (impl_->on_swarm()) return swarm_up(impl_->swarm_ctx(), p, converge);
    return report_of(fleet::up(impl_->ctx(), p, converge));
  });
}

UpReport Fleet::scale(const ScaleOptions& options) {
  return guard([&] {
    if (options.replicas.empty()) throw InvalidInput("scale what? (SERVICE N or SERVICE=N)");
    if (impl_->on_swarm())
      return swarm_scale(impl_->swarm_ctx(), impl_->compose_project(), options.replicas, options.wait,
                         options.wait_timeout);
    return report_of(fleet::scale(impl_->ctx(), impl_->compose_project(), options.replicas, options.wait,
                                  options.wait_timeout));
  });
}

DownReport Fleet::down(const DownOptions& options) {
  return guard([&] {
    if (options.timeout && *options.timeout < 0) throw InvalidInput("--timeout must be 0 or more seconds");
    if (impl_->on_swarm()) return swarm_down(impl_->swarm_ctx(), impl_->compose_project(), options);
    return fleet::down(impl_->ctx(), impl_->compose_project(), options);
  });
}

std::vector<PsRow> Fleet::ps(bool all) {
  return guard([&] {
    if (impl_->on_swarm()) return swarm_ps(impl_->swarm_ctx(), impl_->compose_project(), all);
    return fleet::ps(impl_->ctx(), impl_->compose_project(), all);
  });
}

std::vector<NodeRow> Fleet::nodes() {
  return guard([&] { return swarm_nodes(impl_->swarm_ctx()); });
}

std::vector<NodeDrainRow> Fleet::drain_node(const std::string& node, std::chrono::seconds timeout) {
  return guard([&] { return fleet::drain_node(impl_->swarm_ctx(), node, timeout); });
}

void Fleet::activate_node(const std::string& node) {
  guard([&] { set_node_availability(impl_->swarm_ctx(), node, "active"); });
}

CleanReport Fleet::clean() {
  return guard([&] { return fleet::clean(impl_->ctx(), impl_->compose_project()); });
}

std::shared_ptr<PoolService> Fleet::start_pools(const FleetOptions& options,
                                                const std::vector<std::string>& labels, EventSink events) {
  return guard([&] {
    auto engine = options.engine ? options.engine : connect(options.docker_host);
    auto pools = std::make_shared<PoolService>(engine, parse_labels(labels), std::move(events));
    pools->start();
    return pools;
  });
}

std::shared_ptr<StatsMemory> Fleet::stats_memory() {
  return std::make_shared<StatsMemory>();
}

std::shared_ptr<AutoscaleService> Fleet::start_autoscaler(const FleetOptions& options) {
  return guard([&]() -> std::shared_ptr<AutoscaleService> {
    Fleet door(options);
    if (!door.impl_->has_compose_file()) return nullptr;  // nothing to scale
    auto engine = options.engine ? options.engine : connect(options.docker_host);
    auto service =
        std::make_shared<AutoscaleService>(engine, door.impl_->compose_project(), options.profiles);
    service->start();
    return service;
  });
}

std::vector<DrainOutcome> Fleet::cull_idle() {
  return guard([&] {
    impl_->settings();
    return fleet::cull_idle(impl_->ctx(), impl_->idle_since);
  });
}

nlohmann::json Fleet::fleet_health() {
  return guard([&] {
    Context& c = impl_->ctx();
    PingReport ping = this->ping();
    nlohmann::json autoscaling = autoscaling_status(c.home);
    int current = 0, min = 0, max = 0;
    bool services_ok = true;
    // A service the autoscaler has not stepped yet has null replica counts (json::value would throw):
    // none counted, and not yet known to be short.
    auto count = [](const nlohmann::json& s, const char* key) {
      return s.contains(key) && s[key].is_number_integer() ? s[key].get<int>() : 0;
    };
    for (const auto& s : autoscaling["services"]) {
      current += count(s, "current_replicas");
      min += count(s, "min_replicas");
      max += count(s, "max_replicas");
      if (s.contains("current_replicas") && s["current_replicas"].is_number_integer() &&
          count(s, "current_replicas") < count(s, "min_replicas"))
        services_ok = false;
    }
    int active = 0, unhealthy = 0;
    for (const auto& k : observe_kernels(c.client).containers) {
      if (k.state != "running") continue;
      ++active;
      if (health_from_status(k.status) == "unhealthy") ++unhealthy;
    }
    nlohmann::json pool = {{"current_size", 0}, {"target_size", 0}, {"hits", 0}, {"misses", 0}};
    if (impl_->options.pools)
      for (const auto& p : impl_->options.pools->stats()) {
        for (const char* key : {"current_size", "target_size", "hits", "misses"})
          pool[key] = pool[key].get<std::int64_t>() + p.value(key, std::int64_t{0});
      }
    for (const auto& s : autoscaling["services"])  // the compose services' pools, as serve last said
      if (s.contains("warm_pool"))
        for (const char* key : {"current_size", "target_size", "hits", "misses"})
          pool[key] = pool[key].get<std::int64_t>() + s["warm_pool"].value(key, std::int64_t{0});
    const auto asked = pool["hits"].get<std::int64_t>() + pool["misses"].get<std::int64_t>();
    pool["hit_rate_percent"] =
        asked ? 100.0 * static_cast<double>(pool["hits"].get<std::int64_t>()) / asked : 0.0;
    pool["enabled"] = impl_->options.pools != nullptr;
    return nlohmann::json{{"status", "ok"},
                          {"healthy", services_ok && unhealthy == 0},
                          {"engine", {{"endpoint", ping.endpoint}, {"api_version", ping.api_version}}},
                          {"current_replicas", current},
                          {"min_replicas", min},
                          {"max_replicas", max},
                          {"active_instances", active},
                          {"unhealthy_instances", unhealthy},
                          {"autoscaling", autoscaling},
                          {"warm_pool", pool}};
  });
}

nlohmann::json Fleet::autoscaling() {
  return guard([&] { return autoscaling_status(impl_->ctx().home); });
}

nlohmann::json Fleet::autoscaling_history(std::size_t limit) {
  return guard([&] { return fleet::autoscaling_history(impl_->ctx().home, limit); });
}

nlohmann::json Fleet::set_autoscaling(bool enabled) {
  return guard([&] { return fleet::set_autoscaling(impl_->ctx().home, enabled); });
}

nlohmann::json Fleet::pools() {
  return guard([&]() -> nlohmann::json {
    if (!impl_->options.pools) return nlohmann::json::array();
    return impl_->options.pools->stats();
  });
}

std::vector<ServiceRow> Fleet::services() {
  return guard(
      [&] { return fleet::services(impl_->ctx(), impl_->compose_project(), impl_->options.profiles); });
}

std::vector<HealthRow> Fleet::health(const std::vector<std::string>& names) {
  return guard([&] {
    Context& ctx = impl_->ctx();
    if (impl_->optional_project() && impl_->on_swarm())
      return swarm_health(impl_->swarm_ctx(), impl_->compose_project(), names);
    const compose::Project* p = nullptr;
    if (!names.empty()) return fleet::health(ctx, impl_->resolve_names(names, p));
    p = impl_->optional_project();
    // Everything: every kernel, and the project's other containers.
    auto containers = observe_kernels(ctx.client).containers;
    if (p)
      for (auto& c : observe_project(ctx.client, p->name).containers)
        if (!c.kernel()) containers.push_back(std::move(c));
    return fleet::health(ctx, containers);
  });
}

void Fleet::logs(const LogsOptions& options, const LineSink& sink) {
  guard([&] {
    Context& ctx = impl_->ctx();
    LogsRequest request{.follow = options.follow,
                        .tail = options.tail,
                        .timestamps = options.timestamps,
                        .cancel = options.cancel};
    if (!options.since.empty()) request.since = parse_since(options.since);
    const compose::Project* p = nullptr;
    if (impl_->optional_project() && impl_->on_swarm()) {
      swarm_logs(impl_->swarm_ctx(), impl_->compose_project(), options.names, request, sink);
      return;
    }
    if (options.names.empty()) {
      p = impl_->optional_project();
      request.containers =
          p ? observe_project(ctx.client, p->name).containers : observe_kernels(ctx.client).containers;
      if (p) request.project = p->name;
    } else {
      request.containers = impl_->resolve_names(options.names, p);
      // Named services are followed across replicas that start later.
      if (p)
        for (const auto& name : options.names)
          if (p->services.count(name)) request.services.push_back(name);
      if (!request.services.empty()) request.project = p->name;
    }
    fleet::logs(ctx, request, sink);
  });
}

int Fleet::shell(const ShellOptions& options, const OutputSink& output) {
  return guard([&] {
    Context& ctx = impl_->ctx();
    if (options.target.empty()) throw InvalidInput("shell into what? (a kernel, a container or a service)");
    const compose::Project* p = nullptr;
    auto found = impl_->resolve_names({options.target}, p);
    bool service = p && p->services.count(options.target);
    const ObservedContainer* chosen = nullptr;
    for (const auto& c : found)
      if (!service || c.number == options.index) chosen = &c;
    if (!chosen)
      throw NotFound("service " + options.target + " has no container number " +
                     std::to_string(options.index) + " (see `llmspell-fleet ps`)");
    return fleet::shell(ctx, *chosen, options, output);
  });
}

void Fleet::resize_shell(const std::string& session, int rows, int columns) {
  guard([&] { impl_->ctx().client.exec_resize(session, rows, columns); });
}

KernelRow Fleet::spawn(const SpawnOptions& options) {
  if (!options.restore.empty()) return guard([&] { return impl_->restore(options); });
  return guard([&] {
    Template t =
        impl_->template_of(options.language, options.config, options.memory, options.cpus, options.image);
    if (impl_->kernels_on_swarm())
      return swarm_spawn(
          impl_->swarm_ctx(), t,
          {.kernel_id = options.name, .owner = options.owner, .labels = parse_labels(options.labels)},
          options.node);
    if (!options.node.empty())
      throw InvalidInput("--node places a kernel on a swarm node: give --backend swarm");
    return fleet::spawn(
        impl_->ctx(), t,
        {.kernel_id = options.name, .owner = options.owner, .labels = parse_labels(options.labels)});
  });
}

std::vector<KernelRow> Fleet::list(const ListOptions& options) {
  return guard([&] {
    if (impl_->kernels_on_swarm()) return swarm_list(impl_->swarm_ctx(), options);
    return fleet::list(impl_->ctx(), options);
  });
}

KernelRow Fleet::kernel(const std::string& name, bool activity) {
  return guard([&] {
    auto found = resolve(impl_->ctx(), nullptr, {name}, Resolve::KernelsOnly);
    std::vector<KernelRow> rows = kernel_rows(impl_->ctx(), found);
    if (activity) sample_rows(impl_->ctx(), rows, false);
    return rows.front();
  });
}

nlohmann::json Fleet::connection(const std::string& kernel_id) {
  return guard([&] { return kernel_connection(impl_->ctx(), kernel_id); });
}

std::unique_ptr<KernelChannels> Fleet::channels(const std::string& kernel) {
  return guard([&] { return open_channels(impl_->ctx(), kernel); });
}

void Fleet::interrupt(const std::string& kernel) {
  guard([&] { interrupt_kernel(impl_->ctx(), kernel); });
}

void Fleet::restart(const std::string& kernel) {
  guard([&] { restart_kernel(impl_->ctx(), kernel); });
}

std::vector<KernelSpecRow> Fleet::kernelspecs() {
  return guard([&] { return fleet::kernelspecs(impl_->ctx()); });
}

nlohmann::json Fleet::registry() {
  return guard([&] {
    refresh_registry(impl_->ctx(), false);
    std::ifstream in(impl_->ctx().home.registry_file());
    return nlohmann::json::parse(in);
  });
}

void Fleet::fleet_events(const WatchOptions& options, const EventSink& sink) {
  guard([&] { follow_events(impl_->ctx().home, options.since_nano, sink, options.cancel); });
}

std::vector<CheckpointRow> Fleet::checkpoints() {
  return guard([&] { return list_checkpoints(impl_->ctx().home); });
}

void Fleet::watch(const WatchOptions& options, const EventSink& sink) {
  guard([&] { fleet::watch(impl_->ctx(), options, sink); });
}

std::vector<KernelRow> Fleet::stop(const StopOptions& options) {
  return guard([&] {
    if (options.timeout && *options.timeout < 0) throw InvalidInput("--timeout must be 0 or more seconds");
    if (options.drain_timeout && (*options.drain_timeout < 0 || *options.drain_timeout > 86400))
      throw InvalidInput("the drain timeout must be 0 to 86400 seconds");
    impl_->lenient_settings();
    if (impl_->kernels_on_swarm()) return swarm_stop(impl_->ctx(), options);
    const compose::Project* project = nullptr;
    try {
      project = impl_->optional_project();
    } catch (const std::exception&) {
      // A compose file that does not load only costs its services' drain settings.
    }
    return fleet::stop(impl_->ctx(), options, project);
  });
}

std::vector<KernelRow> Fleet::stop_all(const StopAllOptions& options) {
  if (options.scope.all_owners && !options.scope.owner.empty())
    throw InvalidInput("stop-all: --owner and --all are one or the other");
  return guard([&] { return fleet::stop_all(impl_->ctx(), options.force, options.scope); });
}

CleanupReport Fleet::cleanup(const OwnerScope& scope) {
  return guard([&] { return fleet::cleanup(impl_->ctx(), scope); });
}

FindReport Fleet::find(const FindOptions& options) {
  return guard([&] {
    Template t = impl_->template_of(options.language, options.config, options.memory, options.cpus, "");
    return fleet::find(impl_->ctx(), t, {.owner = options.owner, .labels = parse_labels(options.labels)},
                       options.shared);
  });
}

MetricsReport Fleet::metrics() {
  return guard([&] { return fleet::metrics(impl_->ctx()); });
}

TopReport Fleet::top(const TopOptions& options) {
  return guard([&] { return fleet::top(impl_->ctx(), options); });
}

int Fleet::launch(const LaunchOptions& options) {
  return guard([&] {
    if (options.connection_file.empty()) throw InvalidInput("kernel-launch needs --connection-file");
    const std::string path = std::filesystem::absolute(options.connection_file).string();
    std::ifstream in(path);
    if (!in) throw InvalidInput("connection file " + path + " cannot be read");
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object()) throw InvalidInput("connection file " + path + " is not a JSON object");
    FixedConnection fixed{.connection_file = path};
    try {
      if (j.value("transport", "tcp") != "tcp")
        throw InvalidInput("connection file " + path + ": transport must be tcp");
      if (j.value("signature_scheme", "hmac-sha256") != "hmac-sha256")
        throw InvalidInput("connection file " + path +
                           ": signature_scheme must be hmac-sha256 (the kernel's)");
      fixed.ip = j.value("ip", "127.0.0.1");
      fixed.key = j.value("key", "");
      const char* keys[] = {"shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"};
      for (int i = 0; i < 5; ++i) {
        fixed.ports[i] = j.at(keys[i]).get<int>();
        if (fixed.ports[i] < 1 || fixed.ports[i] > 65535)
          throw InvalidInput("connection file " + path + ": " + keys[i] + " " +
                             std::to_string(fixed.ports[i]) + " is not a port");
      }
    } catch (const nlohmann::json::exception& e) {
      throw InvalidInput("connection file " + path + ": " + e.what());
    }
    Template t = impl_->template_of(options.language, options.config, "", std::nullopt, "");
    return fleet::launch(impl_->ctx(), t, options, fixed, parse_labels(options.labels));
  });
}

std::vector<InstalledKernelspec> Fleet::install_kernelspecs(const KernelspecOptions& options) {
  return guard([&] { return fleet::install_kernelspecs(impl_->ctx(), options); });
}

}  // namespace fleet
