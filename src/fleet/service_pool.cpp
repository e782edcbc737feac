// A compose kernel service's warm pool (service_pool.hpp).
#include "fleet/service_pool.hpp"

#include <algorithm>

#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/event_log.hpp"
#include "fleet/executor.hpp"
#include "fleet/heartbeat.hpp"
#include "fleet/labels.hpp"
#include "fleet/retire.hpp"

namespace fleet {
namespace {

constexpr int kFillsAtOnce = 2;  // starting kernels is the engine's work, and it has two cores here

pool::Clock::time_point steady_time_of(std::int64_t unix_seconds) {
  auto age = std::chrono::seconds(std::max<std::int64_t>(0, std::time(nullptr) - unix_seconds));
  return pool::Clock::now() - age;
}

}  // namespace

ServicePool::ServicePool(Context& ctx, const compose::Project& project, std::string service,
                         pool::Settings settings)
    : ctx_(ctx),
      project_(project),
      service_(std::move(service)),
      hash_(compose::config_hash(project.services.at(service_))),
      policy_(std::make_unique<pool::Pool>(hash_, settings)) {}

ServicePool::~ServicePool() {
  stop();
}

void ServicePool::stop() {
  stopping_ = true;
  std::vector<Worker> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

void ServicePool::launch(std::function<void()> work) {
  std::erase_if(workers_, [](Worker& w) {
    if (!*w.done) return false;
    w.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([work = std::move(work), done] {
                        work();
                        *done = true;
                      }),
                      done});
}

std::string ServicePool::member_name(int number) const {
  return project_.name + "-" + service_ + "-pool-" + std::to_string(number);
}

bool ServicePool::member(const ObservedContainer& c) const {
  return c.service == service_ && (c.pool_ready() || c.pool_filling());
}

void ServicePool::emit(const std::string& action, const std::string& container, const std::string& message) {
  append_event(ctx_.home, {.type = "pool",
                           .action = action,
                           .container = container,
                           .project = project_.name,
                           .service = service_,
                           .message = message});
}

void ServicePool::maintain() {
  if (stopping_) return;
  auto observed = observe_project(ctx_.client, project_.name).containers;
  std::lock_guard lock(mu_);
  int highest = 0;
  std::vector<pool::Member> members;
  std::set<int> seen;
  for (const auto& c : observed) {
    if (c.service != service_) continue;
    highest = std::max(highest, c.number);
    if (!member(c)) continue;
    pool::Member m{.id = c.id,
                   .kernel_id = c.kernel_id,
                   .template_id = c.config_hash,
                   .created = steady_time_of(c.created)};
    seen.insert(c.number);
    if (c.pool_ready())
      m.state = pool::Member::State::Ready;
    else if (filling_.count(c.number) && c.state == "running")
      m.state = pool::Member::State::Filling;
    else if (filling_.count(c.number) && c.state == "created")
      m.state = pool::Member::State::Filling;
    else
      m.state = pool::Member::State::Broken;  // a fill a killed process left, or a member that stopped
    members.push_back(m);
  }
  for (int number : filling_) {
    highest = std::max(highest, number);
    if (!seen.count(number))
      members.push_back({.id = "filling:" + std::to_string(number),
                         .template_id = hash_,
                         .state = pool::Member::State::Filling,
                         .created = pool::Clock::now()});
  }
  policy_->observe(members);
  pool::Changes changes = policy_->step(pool::Clock::now());
  for (const auto& [id, why] : changes.destroy) {
    policy_->remove(id);
    if (id.rfind("filling:", 0) == 0) continue;
    launch([this, id, why] { destroy(id, why); });
  }
  int room = std::max(0, kFillsAtOnce - static_cast<int>(filling_.size()));
  for (int i = 0; i < std::min(changes.create, room); ++i) {
    int number = ++highest;
    filling_.insert(number);
    launch([this, number] { fill(number); });
  }
}

void ServicePool::fill(int number) {
  const std::string name = member_name(number);
  try {
    const compose::Service& s = project_.services.at(service_);
    Plan plan;
    plan.levels = {{service_}};
    plan.steps[service_] = {{.action = Step::Action::CreateContainer,
                             .service = service_,
                             .number = number,
                             .target = name,
                             .cause = "fill the warm pool of " + service_}};
    Executor(ctx_, project_)
        .run(plan, {.image_ids = {{service_, ctx_.client.inspect_image(s.image).id}},
                    .owner = current_user(),
                    .labels = {{labels::kPool, hash_}}});
    // Ready (it served its first heartbeat-backed readiness check): paused until handed out.
    ctx_.client.pause_container(name);
    emit("filled", name);
  } catch (const std::exception& e) {
    emit("fill_failed", name, e.what());  // what it left is destroyed by a later maintain()
  }
  std::lock_guard lock(mu_);
  filling_.erase(number);
}

void ServicePool::destroy(const std::string& id, const std::string& why) {
  try {
    std::string kernel_id;
    try {
      kernel_id = ctx_.client.inspect_container(id).labels.at(labels::kKernelId);
    } catch (const std::exception&) {
    }
    retire_container(ctx_.client, id, "paused", 0);
    std::error_code ec;
    if (!kernel_id.empty()) std::filesystem::remove(ctx_.home.connection_file(kernel_id), ec);  // its key
    emit("destroyed", id.substr(0, 12), why);
  } catch (const std::exception& e) {
    emit("destroy_failed", id.substr(0, 12), e.what());
  }
}

int ServicePool::acquire(int count) {
  const compose::Service& s = project_.services.at(service_);
  int served = 0;
  // Where each ready member answers its heartbeat, from the last observation (no inspect here).
  std::map<std::string, ObservedContainer> ready;
  for (const auto& c : observe_project(ctx_.client, project_.name).containers)
    if (member(c) && c.pool_ready()) ready[c.id] = c;
  while (served < count && !stopping_) {
    std::optional<pool::Member> m;
    {
      std::lock_guard lock(mu_);
      m = policy_->take();
      if (!m) {
        for (int i = served; i < count; ++i) policy_->record(false);
        emit("miss", "", std::to_string(count - served) + " replica(s) to cold-start");
        break;
      }
    }
    auto it = ready.find(m->id);
    try {
      if (it == ready.end()) throw OperationFailed("no longer a ready member");
      const ObservedContainer& c = it->second;
      ctx_.client.unpause_container(c.id);
      const int hb = kKernelShellPort + 4;
      std::string error = heartbeat(host_address(c.host_ip(hb)), c.host_port(hb), std::chrono::seconds(2));
      if (!error.empty()) throw OperationFailed(error);
      ctx_.client.rename_container(c.id, container_name(project_, s, c.number));
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      launch([this, id = m->id, why = std::string(e.what())] {
        destroy(id, "did not resume or answer: " + why);
      });
      continue;
    }
    {
      std::lock_guard lock(mu_);
      policy_->record(true);
    }
    emit("acquired", container_name(project_, s, it->second.number));
    ++served;
  }
  return served;
}

pool::Stats ServicePool::stats() {
  std::lock_guard lock(mu_);
  return policy_->stats();
}

}  // namespace fleet
