// The autoscaler's loop in serve, and its record in the fleet home (autoscale_service.hpp).
#include "fleet/autoscale_service.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "compose/error.hpp"
#include "compose/profiles.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/drain.hpp"
#include "fleet/errors.hpp"
#include "fleet/event_log.hpp"
#include "fleet/executor.hpp"
#include "fleet/timestamps.hpp"
#include "util/atomic_file.hpp"

namespace fleet {
namespace {

constexpr auto kTick = std::chrono::milliseconds(250);
constexpr std::size_t kHistoryKept = 200;

std::filesystem::path status_file(const FleetHome& h) {
  return h.autoscaling_dir() / "status.json";
}
std::filesystem::path history_file(const FleetHome& h) {
  return h.autoscaling_dir() / "history.json";
}
std::filesystem::path control_file(const FleetHome& h) {
  return h.autoscaling_dir() / "control.json";
}

nlohmann::json read_json(const std::filesystem::path& path, nlohmann::json fallback) {
  std::ifstream in(path);
  if (!in) return fallback;
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

const nlohmann::json* fleet_extension(const compose::Service& service) {
  auto it = service.extensions.find("x-fleet");
  if (it == service.extensions.end() || !it->is_object()) return nullptr;
  return &*it;
}

// The failure in flight (call inside a catch block), with the seed's code when the engine was away.
std::string failure_text(const char* engine_code) {
  Error e = to_fleet_error();
  return std::string(e.kind() == ErrorKind::EngineUnavailable ? engine_code : "failed") + ": " + e.what();
}

// "file:line: services.k.x-fleet.key: why" from the policies' "services.k.x-fleet.key: why": the
// line of the key, else of the closest enclosing key the file has.
std::string in_file(const compose::Project& project, const std::string& message) {
  std::string path = message.substr(0, message.find(':'));
  int line = 0;
  for (std::string p = path; !p.empty() && !line;
       p = p.substr(0, p.rfind('.') == std::string::npos ? 0 : p.rfind('.')))
    line = project.line_of(p);
  return project.source_name + (line ? ":" + std::to_string(line) : "") + ": " + message;
}

}  // namespace

std::optional<autoscale::Settings> autoscale_settings(const compose::Project& project,
                                                      const compose::Service& service) {
  const nlohmann::json* x = fleet_extension(service);
  if (!x) return std::nullopt;
  try {
    return autoscale::Settings::from_json(*x, "services." + service.name + ".x-fleet");
  } catch (const std::invalid_argument& e) {
    throw InvalidInput(in_file(project, e.what()));
  }
}

void check_fleet_extensions(const compose::Project& project) {
  // The project's own x-fleet: which backend runs it.
  if (auto x = project.extensions.find("x-fleet"); x != project.extensions.end()) {
    if (!x->is_object()) throw InvalidInput(in_file(project, "x-fleet: must be a mapping"));
    for (auto it = x->begin(); it != x->end(); ++it) {
      if (it.key() != "backend")
        throw InvalidInput(in_file(project, "x-fleet." + it.key() + ": unknown key (known: backend)"));
      if (!it->is_string() || (*it != "local" && *it != "swarm"))
        throw InvalidInput(in_file(project, "x-fleet.backend: " + it->dump() + " is not local or swarm"));
    }
  }
  for (const auto& [name, service] : project.services) {
    const nlohmann::json* x = fleet_extension(service);
    if (!x) continue;
    auto settings = autoscale_settings(project, service);
    const std::string where = "services." + name + ".x-fleet";
    // Pools and autoscaling know kernels (heartbeats, the kernel's own load, checkpoints).
    if (!is_kernel_service(service)) {
      if (settings && settings->enabled)
        throw InvalidInput(
            in_file(project, where + ".autoscaling: only a kernel service (x-fleet: {kernel: true}) "
                                     "is autoscaled"));
      if (x->contains("warm_pool"))
        throw InvalidInput(in_file(project, where +
                                                ".warm_pool: only a kernel service (x-fleet: {kernel: true}) "
                                                "has a warm pool"));
    }
    try {
      if (x->contains("warm_pool")) pool::Settings::from_json((*x)["warm_pool"], where + ".warm_pool");
      if (x->contains("graceful_drain"))
        DrainSettings::from_json((*x)["graceful_drain"], where + ".graceful_drain");
    } catch (const std::invalid_argument& e) {
      throw InvalidInput(in_file(project, e.what()));
    }
  }
}

AutoscaleService::AutoscaleService(std::shared_ptr<engine::Api> engine, compose::Project project,
                                   const std::vector<std::string>& profiles)
    : engine_(std::move(engine)), project_(std::move(project)), ctx_{.client = *engine_} {
  ctx_.home.prepare();
  auto enabled = compose::select_services(project_, {.profile_flags = profiles}).enabled;
  for (const auto& [name, service] : project_.services) {
    if (std::find(enabled.begin(), enabled.end(), name) == enabled.end()) continue;
    auto settings = autoscale_settings(project_, service);
    if (!settings || !settings->enabled) continue;
    Service s{.name = name, .policy = std::make_unique<autoscale::Autoscaler>(name, *settings)};
    s.drain =
        drain_settings_for(ctx_, ObservedContainer{.service = name, .project = project_.name}, &project_);
    if (service.cpus) s.cpus = *service.cpus;
    const nlohmann::json* x = fleet_extension(service);
    if (x && x->contains("warm_pool")) {
      auto pool = pool::Settings::from_json((*x)["warm_pool"], "services." + name + ".x-fleet.warm_pool");
      if (pool.enabled) s.pool = std::make_unique<ServicePool>(ctx_, project_, name, pool);
    }
    services_.emplace(name, std::move(s));
  }
}

AutoscaleService::~AutoscaleService() {
  stop();
}

void AutoscaleService::start() {
  if (thread_.joinable()) return;
  if (services_.empty()) {
    write_status();  // running, with nothing to scale: `autoscale status` says so
    return;
  }
  thread_ = std::thread([this] { run(); });
}

void AutoscaleService::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& [name, s] : services_)
    if (s.pool) s.pool->stop();
}

void AutoscaleService::run() {
  write_status();
  while (!stopping_) {
    // What `autoscale start|stop` said; anything else in the file reads as enabled.
    auto control = read_json(control_file(ctx_.home), nlohmann::json::object());
    enabled_ = !(control.is_object() && control.contains("enabled") && control["enabled"] == false);
    const auto now = autoscale::Clock::now();
    const bool pools_due = ++ticks_ % 8 == 0;  // the pools looked after every two seconds
    for (auto& [name, s] : services_) {
      if (stopping_) break;
      if (s.pool && pools_due) {
        try {
          s.pool->maintain();
        } catch (const std::exception& e) {
          std::cerr << "autoscaler: " << name << " pool: " << e.what() << std::endl;
        }
      }
      if (!enabled_ || !s.policy->due(now)) continue;
      try {
        step(s, now);
      } catch (const std::exception& e) {
        std::cerr << "autoscaler: " << name << ": " << e.what() << std::endl;
      }
      write_status();
    }
    std::this_thread::sleep_for(kTick);
  }
}

void AutoscaleService::step(Service& s, autoscale::Clock::time_point now) {
  auto observed = observe_project(ctx_.client, project_.name).containers;
  std::erase_if(observed, [&](const ObservedContainer& c) {
    return c.service != s.name || c.state != "running" || c.pool_ready() || c.pool_filling() ||
           draining(c.id);
  });
  std::sort(observed.begin(), observed.end(),
            [](const auto& a, const auto& b) { return a.number < b.number; });
  std::vector<KernelLoad> loads = sample_loads(ctx_.client, observed, true, &stats_);
  autoscale::Observation o{.current_replicas = static_cast<int>(observed.size())};
  const auto unix_now = static_cast<std::int64_t>(std::time(nullptr));
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const KernelLoad& l = loads[i];
    const std::string health = health_from_status(observed[i].status);
    autoscale::ReplicaSample r{
        .id = observed[i].name,
        .ready = health == "healthy" || health == "none",
        .cpu_percent = l.cpu_percent,
        .cpu_limit_percent = l.cpu_limit_percent,
        .memory_percent = l.memory_percent,
        .pending = l.pending ? std::optional<double>(*l.pending) : std::nullopt,
        .started = now - std::chrono::seconds(l.started > 0 ? unix_now - l.started : 0)};
    o.replicas.push_back(r);
  }
  autoscale::Decision d = s.policy->step(now, o, utc_now());
  if (d.action == autoscale::Decision::Action::ScaleUp) {
    scale_up(s, d);
  } else if (d.action == autoscale::Decision::Action::ScaleDown) {
    scale_down(s, d, observed, loads);
  } else {
    record(s, d, "");
  }
}

void AutoscaleService::scale_up(Service& s, const autoscale::Decision& d) {
  try {
    // The warm pool first (each member one unpause away), then cold starts for the rest.
    int from_pool = s.pool ? s.pool->acquire(d.target_replicas - d.current_replicas) : 0;
    fleet::scale(ctx_, project_, {{s.name, d.target_replicas}}, false, std::chrono::seconds(120));
    record(s, d,
           "done: " + std::to_string(from_pool) + " from the warm pool, " +
               std::to_string(d.target_replicas - d.current_replicas - from_pool) + " cold");
  } catch (...) {
    record(s, d, failure_text(kScaleUpFailedCode));
  }
}

void AutoscaleService::scale_down(Service& s, const autoscale::Decision& d,
                                  const std::vector<ObservedContainer>& replicas,
                                  const std::vector<KernelLoad>& loads) {
  // Who goes: replicas nobody is connected to and that are idle first, then the oldest.
  std::vector<std::size_t> order(replicas.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto weight = [&](std::size_t i) {
    return std::tuple(loads[i].clients.value_or(0) > 0 ? 1 : 0, loads[i].idle() ? 0 : 1, replicas[i].created);
  };
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return weight(a) < weight(b); });
  const std::size_t count = std::min<std::size_t>(replicas.size(), d.current_replicas - d.target_replicas);
  std::vector<ObservedContainer> chosen;
  for (std::size_t i = 0; i < count; ++i) chosen.push_back(replicas[order[i]]);
  try {
    std::vector<DrainOutcome> outcomes;
    auto drains = drain_all(ctx_, chosen, std::vector<DrainSettings>(chosen.size(), s.drain),
                            "autoscale: " + d.summary(), outcomes);
    execute(ctx_, project_, plan_retire(chosen, "autoscale: " + d.summary(), std::nullopt));
    nlohmann::json drained = nlohmann::json::array();
    for (const auto& out : outcomes) drained.push_back(out.to_json());
    record(s, d, "done: drained " + drained.dump());
  } catch (...) {
    record(s, d, failure_text(kScaleDownFailedCode));
  }
}

void AutoscaleService::record(Service& s, const autoscale::Decision& d, const std::string& outcome) {
  nlohmann::json entry = d.to_json();
  entry["service"] = s.name;
  entry["project"] = project_.name;
  entry["summary"] = d.summary();
  if (!outcome.empty()) entry["outcome"] = outcome;
  if (d.action != autoscale::Decision::Action::NoAction) {
    std::cerr << utc_now() << " autoscaler: " << project_.name << "/" << s.name << ": " << d.summary()
              << (outcome.empty() ? "" : " (" + outcome + ")") << std::endl;
    auto history = read_json(history_file(ctx_.home), nlohmann::json::array());
    if (!history.is_array()) history = nlohmann::json::array();
    history.insert(history.begin(), entry);
    if (history.size() > kHistoryKept) history.erase(history.begin() + kHistoryKept, history.end());
    util::write_file_atomically(history_file(ctx_.home), history.dump(), 0600);
  }
  FleetEvent e{.type = "scaling",
               .action = entry.value("action", std::string()),
               .project = project_.name,
               .service = s.name,
               .message = d.summary() + (outcome.empty() ? "" : " (" + outcome + ")"),
               .details = entry};
  append_event(ctx_.home, e);
}

void AutoscaleService::write_status() {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& [name, s] : services_) {
    nlohmann::json status = s.policy->status();
    if (auto last = s.policy->last_decision()) status["last_decision"]["summary"] = last->summary();
    if (s.pool) status["warm_pool"] = s.pool->stats().to_json();
    services.push_back(status);
  }
  nlohmann::json status = {{"enabled", enabled_},
                           {"running", true},
                           {"pid", static_cast<long>(::getpid())},
                           {"project", project_.name},
                           {"updated_at", utc_now()},
                           {"updated_unix", static_cast<std::int64_t>(std::time(nullptr))},
                           {"services", services}};
  try {
    util::write_file_atomically(status_file(ctx_.home), status.dump(), 0600);
  } catch (const std::exception& e) {
    std::cerr << "autoscaler: status not written: " << e.what() << std::endl;
  }
}

nlohmann::json autoscaling_status(const FleetHome& home) {
  nlohmann::json status = read_json(status_file(home), nlohmann::json::object());
  if (!status.is_object()) status = nlohmann::json::object();
  auto control = read_json(control_file(home), nlohmann::json::object());
  bool enabled = !(control.is_object() && control.contains("enabled") && control["enabled"] == false);
  // A status a serve no longer writes: its process is gone, or it has not stepped for a while.
  long pid = status.value("pid", 0L);
  bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
  std::int64_t age =
      static_cast<std::int64_t>(std::time(nullptr)) - status.value("updated_unix", std::int64_t{0});
  if (!status.contains("services")) status["services"] = nlohmann::json::array();
  status["running"] = alive && status.contains("updated_unix") && age < 3600;
  status["enabled"] = enabled;
  return status;
}

nlohmann::json autoscaling_history(const FleetHome& home, std::size_t limit) {
  auto history = read_json(history_file(home), nlohmann::json::array());
  if (!history.is_array()) return nlohmann::json::array();
  if (history.size() > limit)
    history.erase(history.begin() + static_cast<std::ptrdiff_t>(limit), history.end());
  return history;
}

nlohmann::json set_autoscaling(const FleetHome& home, bool enabled) {
  home.prepare();
  util::write_file_atomically(control_file(home), nlohmann::json({{"enabled", enabled}}).dump(), 0600);
  return autoscaling_status(home);
}

}  // namespace fleet
