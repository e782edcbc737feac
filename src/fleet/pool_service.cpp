#include "fleet/pool_service.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <iostream>

#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/event_log.hpp"
#include "fleet/executor.hpp"
#include "fleet/heartbeat.hpp"
#include "fleet/labels.hpp"
#include "fleet/retire.hpp"
#include "util/atomic_file.hpp"

namespace fleet {
namespace {

// A container created at unix time `created`, on the steady clock the pool's policy reasons with.
pool::Clock::time_point steady_time_of(std::int64_t created) {
  auto age = std::chrono::seconds(std::max<std::int64_t>(0, std::time(nullptr) - created));
  return pool::Clock::now() - age;
}

std::filesystem::path status_file(const FleetHome& home) {
  return home.root / "pools.json";
}

}  // namespace

PoolService::PoolService(std::shared_ptr<engine::Api> engine, std::map<std::string, std::string> labels,
                         EventSink events)
    : engine_(std::move(engine)),
      labels_(std::move(labels)),
      events_(std::move(events)),
      ctx_{.client = *engine_} {
  ctx_.settings = load_settings(ctx_.home);
  ctx_.home.prepare();
  for (const auto& s : ctx_.settings.templates) {
    if (!s.warm_pool.enabled) continue;
    TemplatePool p{.settings = s, .kernel = template_of(s, ctx_.settings.kernels)};
    check_template(p.kernel, ctx_.home);
    p.policy = std::make_unique<pool::Pool>(template_identity(p.kernel, ctx_.home), s.warm_pool);
    pools_.emplace(s.name, std::move(p));
  }
}

PoolService::~PoolService() {
  stop();
}

void PoolService::start() {
  if (pools_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void PoolService::stop() {
  stopping_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Worker> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

void PoolService::launch(std::function<void()> work) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([work = std::move(work), done] {
                        work();
                        *done = true;
                      }),
                      done});
}

void PoolService::run() {
  while (!stopping_) {
    try {
      cycle();
    } catch (const std::exception& e) {
      emit("error", "", "", e.what());  // the engine away, say: the next cycle tries again
    }
    write_status();
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::seconds(2), [&] { return woken_ || stopping_.load(); });
    woken_ = false;
  }
}

void PoolService::cycle() {
  // The members as the engine has them: labels say which template, names and states say how far.
  auto kernels = observe_kernels(ctx_.client).containers;
  std::lock_guard lock(mu_);
  std::erase_if(workers_, [](Worker& w) {
    if (!*w.done) return false;
    w.thread.join();
    return true;
  });
  for (auto& [name, p] : pools_) {
    // A changed config (or settings) is another template: its old members are replaced.
    const std::string identity = template_identity(p.kernel, ctx_.home);
    if (identity != p.policy->template_id()) {
      auto fresh = std::make_unique<pool::Pool>(identity, p.settings.warm_pool);
      p.policy = std::move(fresh);
    }
    std::vector<pool::Member> members;
    std::set<std::string> seen;
    for (const auto& k : kernels) {
      if (!k.pooled() || !k.spawned()) continue;
      // Its members: those made for its identity, and those of an older identity of the same
      // language and config that no pool has any more (a changed config or limits: replaced).
      const std::string member_of = k.label(labels::kPool);
      bool mine = member_of == identity;
      if (!mine) {
        bool other_pool = false;
        for (const auto& [other, q] : pools_) other_pool = other_pool || q.policy->template_id() == member_of;
        mine = !other_pool && k.label(labels::kLanguage) == p.kernel.language &&
               k.label(labels::kConfig) == p.kernel.config;
      }
      if (!mine) continue;
      if (taken_.count(k.id)) {
        if (k.state != "paused") taken_.erase(k.id);  // handed out: running now, no member any more
        continue;
      }
      pool::Member m{.id = k.id,
                     .kernel_id = k.kernel_id,
                     .template_id = k.label(labels::kPool),
                     .created = steady_time_of(k.created)};
      seen.insert(k.kernel_id);
      if (k.pool_ready()) {
        m.state = pool::Member::State::Ready;
        if (!rows_.count(k.id)) rows_[k.id] = kernel_rows(ctx_, {k}).front();
      } else if (k.pool_filling() && p.filling.count(k.kernel_id) && k.state != "exited" &&
                 k.state != "dead") {
        m.state = pool::Member::State::Filling;
      } else if (k.pool_filling() || k.state == "exited" || k.state == "dead" || k.state == "created") {
        // Left by a fill that died with the service that made it, or a member that stopped: never
        // handed out, so nothing of anyone's is lost by destroying it.
        m.state = pool::Member::State::Broken;
      } else {
        continue;  // handed out (running under its plain or owner's name): a kernel like any other
      }
      members.push_back(m);
    }
    for (const auto& id : p.filling)  // being made, not visible yet
      if (!seen.count(id))
        members.push_back({.id = "filling:" + id,
                           .kernel_id = id,
                           .template_id = identity,
                           .state = pool::Member::State::Filling,
                           .created = pool::Clock::now()});
    p.policy->observe(members);

    pool::Changes changes = p.policy->step(pool::Clock::now());
    for (const auto& [id, why] : changes.destroy) {
      std::string kernel_id;
      for (const auto& m : members)
        if (m.id == id) kernel_id = m.kernel_id;
      p.policy->remove(id);
      rows_.erase(id);
      launch([this, id, kernel_id, why] { destroy(id, kernel_id, why); });
    }
    // Fills two at a time: starting kernels is the engine's work, and it has two cores here.
    int room = std::max(0, 2 - static_cast<int>(p.filling.size()));
    if (std::chrono::steady_clock::now() < p.next_fill) room = 0;
    for (int i = 0; i < std::min(changes.create, room); ++i) {
      std::string kernel_id = new_kernel_id();
      p.filling.insert(kernel_id);
      launch([this, name, t = p.kernel, identity, kernel_id] { fill(name, t, identity, kernel_id); });
    }
  }
}

void PoolService::fill(const std::string& name, const Template& t, const std::string& identity,
                       const std::string& kernel_id) {
  auto done = [&] {
    std::lock_guard lock(mu_);
    pools_.at(name).filling.erase(kernel_id);
    woken_ = true;
    wake_.notify_all();
  };
  try {
    auto member_labels = labels_;
    member_labels[labels::kPool] = identity;
    KernelRow row = start_kernel(ctx_, t,
                                 {.kernel_id = kernel_id,
                                  .name = kPoolFillingPrefix + kernel_id,
                                  .owner = "",
                                  .labels = member_labels,
                                  .cause = "fill the warm pool of " + name});
    // Ready: paused, then renamed so its name says so (the name is what a restart reads).
    ctx_.client.pause_container(row.container_id);
    ctx_.client.rename_container(row.container_id, "llmspell-" + kernel_id);
    row.container = "llmspell-" + kernel_id;
    row.state = "paused";
    row.pool = "ready";
    row.health = "none";
    {
      std::lock_guard lock(mu_);
      rows_[row.container_id] = row;
      pools_.at(name).policy->add({.id = row.container_id,
                                   .kernel_id = kernel_id,
                                   .template_id = identity,
                                   .state = pool::Member::State::Ready,
                                   .created = pool::Clock::now()});
    }
    emit("filled", kernel_id, row.container);
    std::lock_guard lock(mu_);
    pools_.at(name).fill_backoff = std::chrono::seconds(0);
  } catch (const std::exception& e) {
    emit("fill_failed", kernel_id, kPoolFillingPrefix + kernel_id, e.what());
    std::lock_guard lock(mu_);
    auto& p = pools_.at(name);
    p.fill_backoff = std::min<std::chrono::seconds>(
        std::chrono::seconds(60),
        std::max<std::chrono::seconds>(std::chrono::seconds(2), p.fill_backoff * 2));
    p.next_fill = std::chrono::steady_clock::now() + p.fill_backoff;
    // What the failed fill left (a container created, say) is destroyed by a later cycle.
  }
  done();
}

void PoolService::destroy(const std::string& container_id, const std::string& kernel_id,
                          const std::string& why) {
  if (container_id.rfind("filling:", 0) == 0) return;
  try {
    retire_container(ctx_.client, container_id, "paused", 0);
    std::error_code ec;
    if (!kernel_id.empty()) std::filesystem::remove(ctx_.home.connection_file(kernel_id), ec);
    emit("destroyed", kernel_id, "", why);
  } catch (const std::exception& e) {
    emit("destroy_failed", kernel_id, "", e.what());
  }
}

bool PoolService::members_carry(const std::map<std::string, std::string>& labels) const {
  return std::all_of(labels.begin(), labels.end(), [&](const auto& l) {
    auto it = labels_.find(l.first);
    return it != labels_.end() && it->second == l.second;
  });
}

bool PoolService::has_pool(const std::string& template_identity) {
  std::lock_guard lock(mu_);
  for (const auto& [name, p] : pools_)
    if (p.policy->template_id() == template_identity) return true;
  return false;
}

std::optional<PoolService::Handout> PoolService::acquire(const std::string& template_identity,
                                                         const std::string& owner) {
  pool::Pool* policy = nullptr;
  std::string name;
  {
    std::lock_guard lock(mu_);
    for (auto& [n, p] : pools_)
      if (p.policy->template_id() == template_identity) policy = p.policy.get(), name = n;
  }
  if (!policy) return std::nullopt;
  while (true) {
    std::optional<pool::Member> m;
    KernelRow row;
    {
      std::lock_guard lock(mu_);
      m = policy->take();
      if (!m) {
        policy->record(false);
        woken_ = true;
        wake_.notify_all();
        emit("miss", "", "", name);
        return std::nullopt;
      }
      taken_.insert(m->id);
      row = rows_[m->id];
      rows_.erase(m->id);
    }
    // The hot path: one unpause (which is also the claim: a second unpause of it fails), one
    // heartbeat. A member that does not resume or answer is destroyed and the next one tried.
    const auto started = std::chrono::steady_clock::now();
    try {
      ctx_.client.unpause_container(m->id);
      const int hb = row.ports.count("hb") ? row.ports.at("hb") : 0;
      std::string error =
          heartbeat(host_address(ctx_.settings.kernels.publish_ip), hb, std::chrono::seconds(2));
      if (!error.empty()) throw OperationFailed(error);
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      launch([this, id = m->id, kid = m->kernel_id, why = std::string(e.what())] {
        destroy(id, kid, "did not resume or answer: " + why);
      });
      continue;
    }
    {
      std::lock_guard lock(mu_);
      policy->record(true);
      auto& times = pools_.at(name).acquire_ms;
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
      if (times.size() > 1000) times.pop_front();
      woken_ = true;  // refill in the background
      // The owner goes into the name (labels are fixed): after the hand-out, off the hot path.
      if (!owner.empty())
        launch([this, id = m->id, name = "llmspell-" + m->kernel_id + "--" + owner] {
          try {
            ctx_.client.rename_container(id, name);
          } catch (const std::exception&) {
            // Kept under its plain name: it shows without an owner, and is no less the user's.
          }
        });
    }
    wake_.notify_all();
    row.state = "running";
    row.pool.clear();
    row.owner = owner;
    row.health = "starting";
    emit("acquired", m->kernel_id, row.container, owner);
    return Handout{row};
  }
}

nlohmann::json PoolService::stats() {
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, p] : pools_) {
    nlohmann::json j = p.policy->stats().to_json();
    j["template"] = name;
    j["identity"] = p.policy->template_id();
    j["settings"] = p.settings.warm_pool.to_json();
    if (!p.acquire_ms.empty()) {
      std::vector<double> sorted(p.acquire_ms.begin(), p.acquire_ms.end());
      std::sort(sorted.begin(), sorted.end());
      auto at = [&](double q) {
        return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5)];
      };
      j["acquire_ms"] = {{"count", sorted.size()}, {"p50", at(0.5)}, {"p99", at(0.99)}};
    }
    out.push_back(j);
  }
  return out;
}

void PoolService::write_status() {
  nlohmann::json status = {{"pid", static_cast<long>(::getpid())},
                           {"updated_unix", static_cast<std::int64_t>(std::time(nullptr))},
                           {"pools", stats()}};
  try {
    util::write_file_atomically(status_file(ctx_.home), status.dump(), 0600);
  } catch (const std::exception& e) {
    std::cerr << "pools: status not written: " << e.what() << std::endl;
  }
}

nlohmann::json last_pool_status(const FleetHome& home) {
  std::ifstream in(status_file(home));
  auto status = nlohmann::json::parse(in, nullptr, false);
  if (!status.is_object() || !status.contains("pools") || !status["pools"].is_array())
    return {{"live", false}, {"pools", nlohmann::json::array()}};
  // A serve that is gone, or has not cycled for a minute, keeps nothing filled any more.
  long pid = status.value("pid", 0L);
  bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
  auto age = static_cast<std::int64_t>(std::time(nullptr)) - status.value("updated_unix", std::int64_t{0});
  return {{"live", alive && age < 60}, {"pools", status["pools"]}};
}

void PoolService::emit(const std::string& action, const std::string& kernel_id, const std::string& container,
                       const std::string& message) {
  FleetEvent e{
      .type = "pool", .action = action, .container = container, .kernel_id = kernel_id, .message = message};
  e.time_nano = now_nano();
  append_event(ctx_.home, e);
  if (!events_) return;
  try {
    events_(e);
  } catch (const std::exception&) {
  }
}

}  // namespace fleet
