// The seed's kernel commands on every kernel, spawned or a replica of a compose service: spawn, list,
// stop, stop-all, cleanup, find, metrics. A spawned kernel is a replica of its template
// (templates.hpp); every change is a plan run by the executor.
#include <algorithm>
#include <fstream>
#include <random>
#include <regex>

#include "fleet/connection_files.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/drain.hpp"
#include "fleet/errors.hpp"
#include "fleet/executor.hpp"
#include "fleet/heartbeat.hpp"
#include "fleet/labels.hpp"
#include "fleet/load.hpp"
#include "fleet/operations.hpp"
#include "fleet/pool_service.hpp"
#include "fleet/ports.hpp"
#include "fleet/retire.hpp"
#include "fleet/timestamps.hpp"
#include "util/file_lock.hpp"
#include "util/parallel.hpp"
#include "util/tar.hpp"
#include "util/units.hpp"

namespace fleet {
namespace {

constexpr int kDefaultStopTimeout = 30;

}  // namespace

std::string new_kernel_id() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return std::string("kernel-") + buf;
}

namespace {

// Dead for cleanup: exited or dead, or created and never started for longer than any spawn takes
// (younger ones may be a spawn under way in another process).
bool dead(const ObservedContainer& k, std::int64_t now) {
  return k.state == "exited" || k.state == "dead" || (k.state == "created" && now - k.created > 120);
}

bool in_scope(const ObservedContainer& k, const OwnerScope& scope) {
  return scope.all_owners || k.owner() == (scope.owner.empty() ? current_user() : scope.owner);
}

unsigned sample_workers(std::size_t count) {
  return static_cast<unsigned>(std::clamp<std::size_t>(count, 1, 32));
}

}  // namespace

void check_kernel_id(const std::string& id) {
  static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}");
  if (!std::regex_match(id, valid))
    throw InvalidInput("kernel name \"" + id + "\" must be letters, digits, '_', '.' or '-' (at most 63)");
  if (id.find_first_not_of("0123456789") == std::string::npos)
    throw InvalidInput("kernel name \"" + id + "\" would read as a host port: give it a letter");
}

// An owner is a user name: it goes into labels, the registry and messages.
void check_owner(const std::string& owner) {
  static const std::regex valid("[a-zA-Z0-9_][a-zA-Z0-9_.@-]{0,63}");
  if (!std::regex_match(owner, valid))
    throw InvalidInput("owner \"" + owner + "\" must be a user name (letters, digits, '_', '.', '@', '-')");
}

void check_labels(const std::map<std::string, std::string>& extra) {
  for (const auto& [key, value] : extra) {
    if (key.rfind(labels::kPrefix, 0) == 0)
      throw InvalidInput("label " + key + " uses the fleet's reserved prefix " + labels::kPrefix);
    try {
      (void)nlohmann::json({{key, value}}).dump();  // the engine takes labels as JSON: valid UTF-8 only
    } catch (const nlohmann::json::exception&) {
      throw InvalidInput("label " + key + " is not valid UTF-8");
    }
  }
}

namespace {

// What the engine would refuse halfway through is refused first.
void check_against_host(Context& ctx, const Template& t) {
  nlohmann::json info = ctx.client.info();
  std::int64_t total = info.value("MemTotal", std::int64_t{0});
  if (total > 0 && t.memory > total)
    throw InvalidInput("memory " + std::to_string(t.memory / (1024 * 1024)) +
                       " MiB is more than the host's " + std::to_string(total / (1024 * 1024)) + " MiB");
  int cpus = info.value("NCPU", 0);
  if (cpus > 0 && t.cpus > cpus)
    throw InvalidInput("cpus " + util::format_number(t.cpus) + " is more than the host's " +
                       std::to_string(cpus));
}

Observed observe_kernels_warning(Context& ctx) {
  Observed o = observe_kernels(ctx.client);
  for (const auto& f : o.foreign) ctx.warn("Container", "ignored: " + f);
  return o;
}

}  // namespace

std::vector<KernelRow> kernel_rows(Context& ctx, const std::vector<ObservedContainer>& kernels) {
  std::vector<KernelRow> rows(kernels.size());
  std::vector<std::function<void()>> inspections;
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const ObservedContainer& c = kernels[i];
    KernelRow& r = rows[i];
    r.kernel_id = c.kernel_id;
    r.container = c.name;
    r.container_id = c.id;
    r.origin = c.spawned() ? "spawned" : "compose";
    r.project = c.project;
    r.service = c.spawned() ? "" : c.service;
    r.language = c.label(labels::kLanguage);
    r.config = c.label(labels::kConfig);
    r.owner = c.owner();
    r.state = c.state;
    r.pool = c.pool_ready() ? "ready" : c.pool_filling() ? "filling" : "";
    r.health = c.state == "running" ? health_from_status(c.status) : "none";
    r.created = c.created;
    for (int p = 0; p < kKernelPortCount; ++p)
      if (int host = c.host_port(kKernelShellPort + p)) r.ports[kKernelPortNames[p]] = host;
    r.shell_port = c.host_port(kKernelShellPort);
    if (std::filesystem::exists(ctx.home.connection_file(c.kernel_id)))
      r.connection_file = ctx.home.connection_file(c.kernel_id).string();
    if (c.state == "exited" || c.state == "dead")
      inspections.push_back([&ctx, &r, id = c.id] {
        try {
          engine::ContainerInspect in = ctx.client.inspect_container(id);
          r.state_reason =
              in.state.oom_killed ? "OOM killed" : "exit code " + std::to_string(in.state.exit_code);
        } catch (const engine::NotFoundError&) {
          r.state = "removed";
        }
      });
  }
  util::run_parallel(inspections, ctx.parallel);
  return rows;
}

KernelRow spawn(Context& ctx, const Template& t, const SpawnExtras& extras) {
  check_template(t, ctx.home);
  check_labels(extras.labels);
  const std::string kernel_id = extras.kernel_id.empty() ? new_kernel_id() : extras.kernel_id;
  check_kernel_id(kernel_id);
  const std::string owner = extras.owner.empty() ? current_user() : extras.owner;
  check_owner(owner);
  check_against_host(ctx, t);
  auto kernels = observe_kernels(ctx.client).containers;
  for (const auto& k : kernels)
    if (k.kernel_id == kernel_id || k.name == kernel_id)
      throw Conflict("a kernel named " + kernel_id + " exists (" + k.kernel_id + ", " + k.state + ")");

  // From the template's warm pool when it has one: one unpause instead of a cold start. A kernel
  // asked for by name cannot be one made ahead, nor one with labels its members do not carry (serve
  // puts its own --label on both its pools' members and the kernels its gateway asks for).
  if (extras.kernel_id.empty() && !extras.fixed) {
    const std::string identity = template_identity(t, ctx.home);
    if (ctx.pools && ctx.pools->has_pool(identity) && ctx.pools->members_carry(extras.labels)) {
      if (auto handed = ctx.pools->acquire(identity, owner)) {
        refresh_registry_after_change(ctx);
        return handed->kernel;
      }
    } else if (!ctx.pools) {
      std::erase_if(kernels, [&](const ObservedContainer& k) {
        return std::any_of(extras.labels.begin(), extras.labels.end(),
                           [&](const auto& l) { return k.label(l.first.c_str()) != l.second; });
      });
      if (auto claimed = claim_pooled(ctx, kernels, identity, owner)) return *claimed;
    }
  }
  return start_kernel(ctx, t,
                      {.kernel_id = kernel_id,
                       .owner = owner,
                       .labels = extras.labels,
                       .cause = "spawn " + template_name(t) + " for " + owner,
                       .fixed = extras.fixed});
}

std::optional<KernelRow> claim_pooled(Context& ctx, std::vector<ObservedContainer> kernels,
                                      const std::string& identity, const std::string& owner) {
  std::erase_if(kernels, [&](const ObservedContainer& k) {
    return !k.pool_ready() || k.label(labels::kPool) != identity;
  });
  std::sort(kernels.begin(), kernels.end(),
            [](const auto& a, const auto& b) { return a.created < b.created; });
  for (const auto& k : kernels) {
    try {
      ctx.client.unpause_container(k.id);  // the claim: a second unpause of it fails
    } catch (const engine::EngineError&) {
      continue;  // taken by another fleet process meanwhile, or gone
    }
    const int hb = kKernelShellPort + 4;
    if (!heartbeat(host_address(k.host_ip(hb)), k.host_port(hb), std::chrono::seconds(2)).empty()) {
      retire_container(ctx.client, k.id, "running", 0);  // did not answer: destroyed, the next one tried
      continue;
    }
    try {
      ctx.client.rename_container(k.id, "llmspell-" + k.kernel_id + "--" + owner);
    } catch (const engine::EngineError&) {
      // Kept under its plain name: it shows without an owner, and is no less the user's.
    }
    kernel_connection(ctx, k.kernel_id);
    KernelRow row = kernel_rows(ctx, {k}).front();
    row.state = "running";
    row.pool.clear();
    row.owner = owner;
    row.container = "llmspell-" + k.kernel_id + "--" + owner;
    row.connection_file = ctx.home.connection_file(k.kernel_id).string();
    refresh_registry_after_change(ctx);
    return row;
  }
  return std::nullopt;
}

KernelRow start_kernel(Context& ctx, const Template& t, const StartKernel& k) {
  compose::Service service =
      template_service(t, ctx.home, ctx.settings.kernels.publish_ip, k.fixed ? &*k.fixed : nullptr);
  const std::string name = service.name;
  std::map<std::string, std::string> image_ids{{name, ensure_kernel_image(ctx, t.image)}};
  const compose::Project templates = templates_project(ctx.home, {std::move(service)});

  // The port lock is held from choosing the block until the engine has bound it (started). It is
  // the host's, not the fleet home's: every user's fleet picks from the same ports.
  // Fixed ports are taken under the lock too: other spawns see them published once it is released.
  util::FileLock ports(host_lock("ports"), 0666);
  int base =
      k.fixed ? 0 : pick_port_block(ctx.settings.kernels.ports, published_ports(ctx.client), [&](int port) {
        return port_free(ctx.settings.kernels.publish_ip, port);
      });
  std::map<std::string, std::string> labels = k.labels;
  if (k.fixed) labels[labels::kLauncher] = k.fixed->connection_file;
  Plan plan = plan_spawn({.service = name,
                          .kernel_id = k.kernel_id,
                          .name = k.name,
                          .owner = k.owner,
                          .host_port = base,
                          .cause = k.cause});
  execute(ctx, templates, plan,
          {.image_ids = image_ids,
           .started = [&](const Step&) { ports.release(); },
           .owner = k.owner,
           .labels = labels});
  ports.release();
  for (const auto& c : observe_kernels(ctx.client).containers)
    if (c.kernel_id == k.kernel_id) return kernel_rows(ctx, {c}).front();
  throw OperationFailed("kernel " + k.kernel_id + " was started but is gone");
}

void sample_rows(Context& ctx, std::vector<KernelRow>& rows, bool stats) {
  // One stats sample, the kernel's own status and an inspect per running kernel, all at once: the
  // whole listing takes about one engine stats period (the status alone, a few milliseconds).
  std::vector<std::function<void()>> tasks;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (KernelRow& r : rows) {
    if (r.state != "running" && r.state != "paused") continue;
    const std::string id = r.container_id;
    if (stats)
      tasks.push_back([&ctx, &r, id] {
        try {
          engine::StatsSample s = ctx.client.container_stats(id);
          r.cpu_percent = engine::cpu_percent(s);
          r.memory_used = static_cast<std::int64_t>(engine::memory_used(s));
          r.memory_limit = static_cast<std::int64_t>(s.memory_limit);
        } catch (const engine::EngineError&) {
        }
      });
    tasks.push_back([&ctx, &r, id, now] {
      try {
        engine::ContainerInspect in = ctx.client.inspect_container(id);
        std::int64_t started = parse_engine_time(in.state.started_at);
        if (started > 0) r.uptime_seconds = now - started;
        nlohmann::json status = kernel_status(ctx.client, in);
        if (status.contains("clients") && status["clients"].is_number_integer())
          r.clients = status["clients"].get<int>();
        if (status.contains("pending") && status["pending"].is_number_integer())
          r.pending = status["pending"].get<int>();
        if (status.contains("execution_state") && status["execution_state"].is_string())
          r.execution_state = status["execution_state"].get<std::string>();
        if (status.contains("last_activity") && status["last_activity"].is_string())
          r.last_activity = status["last_activity"].get<std::string>();
      } catch (const engine::EngineError&) {
        // Gone or stopped meanwhile: the row keeps what the listing saw.
      }
    });
  }
  util::run_parallel(tasks, sample_workers(tasks.size()));
}

std::vector<KernelRow> list(Context& ctx, const ListOptions& options) {
  // A listing is the moment the fleet looks at the engine: the registry is brought up to date with
  // what it saw (a kernel killed from outside shows as exited there too).
  RegistryRefresh seen;
  try {
    seen = refresh_registry(ctx, false, false);
  } catch (const std::exception& e) {
    ctx.warn("Registry", std::string("not rewritten: ") + e.what());
    Observed kernels = observe_kernels(ctx.client);
    seen.rows = kernel_rows(ctx, kernels.containers);
    seen.foreign = kernels.foreign;
  }
  for (const auto& f : seen.foreign) ctx.warn("Container", "ignored: " + f);
  std::vector<KernelRow> rows = std::move(seen.rows);
  std::erase_if(rows, [&](const KernelRow& k) {
    return (!options.owner.empty() && k.owner != options.owner) ||
           (!options.state.empty() && k.state != options.state);
  });
  if (options.verbose || options.activity) sample_rows(ctx, rows, options.verbose);
  return rows;
}

std::vector<KernelRow> stop(Context& ctx, const StopOptions& options, const compose::Project* project) {
  if (options.names.empty())
    throw InvalidInput("stop which kernel? (a kernel id, container name or host port)");
  auto kernels = resolve(ctx, nullptr, options.names, Resolve::KernelsOnly);
  auto rows = kernel_rows(ctx, kernels);
  // Drained first, all at once: each waits for its own kernel to be idle and keeps its user's state.
  std::vector<DrainSettings> settings;
  for (const auto& k : kernels) {
    DrainSettings s = drain_settings_for(ctx, k, project);
    if (options.drain_timeout) s.timeout_seconds = *options.drain_timeout;
    if (options.checkpoint) s.checkpoint_before_drain = *options.checkpoint;
    settings.push_back(s);
  }
  std::vector<DrainOutcome> outcomes;
  auto drains = drain_all(ctx, kernels, settings, "stop", outcomes);
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (kernels[i].state == "running") rows[i].drain = outcomes[i];
  compose::Project none = templates_project(ctx.home, {});
  execute(ctx, none, plan_retire(kernels, "stop", options.timeout.value_or(kDefaultStopTimeout)));
  for (auto& r : rows) r.state = "removed";
  return rows;
}

std::vector<KernelRow> stop_all(Context& ctx, bool force, const OwnerScope& scope) {
  auto kernels = observe_kernels_warning(ctx).containers;
  // Kernels of compose projects are left to `down`: stop-all is the seed's, for spawned ones. The
  // warm pools' members not handed out are nobody's and go too: stop-all leaves nothing paused.
  std::erase_if(kernels, [&](const ObservedContainer& k) {
    return !k.spawned() || !(in_scope(k, scope) || k.pool_ready() || k.pool_filling());
  });
  auto rows = kernel_rows(ctx, kernels);
  compose::Project none = templates_project(ctx.home, {});
  execute(ctx, none,
          plan_retire(kernels, force ? "stop-all --force" : "stop-all", force ? 0 : kDefaultStopTimeout));
  for (auto& r : rows) r.state = "removed";
  return rows;
}

CleanupReport cleanup(Context& ctx, const OwnerScope& scope) {
  auto kernels = observe_kernels_warning(ctx).containers;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::erase_if(kernels, [&](const ObservedContainer& k) { return !dead(k, now) || !in_scope(k, scope); });
  CleanupReport report;
  for (const auto& k : kernels) report.removed.push_back(k.kernel_id);
  compose::Project none = templates_project(ctx.home, {});
  // Run and recorded by hand rather than through execute(): the report needs what the refresh found.
  try {
    Executor(ctx, none).run(plan_retire(kernels, "cleanup: the kernel is not running", 0));
  } catch (...) {
    refresh_registry_after_change(ctx);
    throw;
  }
  remove_replaced_images(ctx);
  RegistryRefresh refreshed = refresh_registry(ctx);
  report.connection_files = refreshed.removed_files;
  report.registry_entries_dropped = refreshed.dropped_entries;
  return report;
}

FindReport find(Context& ctx, const Template& t, const SpawnExtras& extras, bool shared) {
  check_template(t, ctx.home);
  check_labels(extras.labels);
  const std::string owner = extras.owner.empty() ? current_user() : extras.owner;
  check_owner(owner);
  const std::string hash = template_identity(t, ctx.home);
  // One finder per template at a time, whoever runs it: ten concurrent finds end with one kernel.
  util::FileLock lock(host_lock("find-" + hash.substr(0, 16)), 0666);
  auto kernels = observe_kernels(ctx.client).containers;
  std::erase_if(kernels, [&](const ObservedContainer& k) {
    return !k.spawned() || k.label(labels::kTemplate) != hash || k.state != "running" ||
           (!shared && k.owner() != owner) || health_from_status(k.status) == "unhealthy" || draining(k.id) ||
           !k.label(labels::kLauncher).empty();
  });
  // The least loaded first (the kernel's own word: pending requests, busy, clients), then the oldest.
  std::vector<KernelLoad> loads = sample_loads(ctx.client, kernels, false);
  std::vector<std::size_t> order(kernels.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto weight = [&](std::size_t i) {
    const KernelLoad& l = loads[i];
    return std::tuple(l.pending.value_or(0), l.execution_state == "busy" ? 1 : 0, l.clients.value_or(0),
                      kernels[i].created);
  };
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return weight(a) < weight(b); });
  for (std::size_t i : order) {
    const ObservedContainer& k = kernels[i];
    const int hb = kKernelShellPort + 4;
    if (!heartbeat(host_address(k.host_ip(hb)), k.host_port(hb), std::chrono::milliseconds(1000)).empty())
      continue;
    // Found in another fleet home (a colleague's, with --shared): the caller gets a connection file
    // of its own, read from the kernel itself, so it can connect.
    kernel_connection(ctx, k.kernel_id);
    return {kernel_rows(ctx, {k}).front(), false};
  }
  return {spawn(ctx, t, {.owner = owner, .labels = extras.labels}), true};
}

nlohmann::json kernel_connection(Context& ctx, const std::string& kernel_id) {
  auto file = ctx.home.connection_file(kernel_id);
  if (!std::filesystem::exists(file)) {
    auto kernels = resolve(ctx, nullptr, {kernel_id}, Resolve::KernelsOnly);
    write_host_connection_file(ctx.client, ctx.client.inspect_container(kernels.front().id), ctx.home);
  }
  std::ifstream in(file);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) throw OperationFailed(file.string() + " is not a connection file");
  return j;
}

MetricsReport metrics(Context& ctx) {
  MetricsReport report;
  auto kernels = observe_kernels_warning(ctx).containers;
  for (const auto& k : kernels) ++report.kernels_by_state[k.state];
  std::erase_if(kernels,
                [](const ObservedContainer& k) { return k.state != "running" && k.state != "paused"; });
  auto started = ctx.time().now();
  std::vector<KernelLoad> loads = sample_loads(ctx.client, kernels, true, ctx.stats);
  report.sample_seconds = std::chrono::duration<double>(ctx.time().now() - started).count();
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    KernelMetrics m{.kernel_id = kernels[i].kernel_id, .state = kernels[i].state};
    if (!loads[i].sampled) m.state = loads[i].execution_state ? "unknown" : "removed";
    m.cpu_percent = loads[i].cpu_percent.value_or(0);
    m.memory_used = loads[i].memory_used;
    m.memory_limit = loads[i].memory_limit;
    m.memory_percent = loads[i].memory_percent.value_or(0);
    report.kernels.push_back(m);
  }
  for (const auto& m : report.kernels) {
    report.total_cpu_percent += m.cpu_percent;
    report.total_memory_used += m.memory_used;
    report.total_memory_limit += m.memory_limit;
  }
  return report;
}

}  // namespace fleet
