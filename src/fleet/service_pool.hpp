// The warm pool of a compose kernel service (x-fleet: {warm_pool: {enabled, size,
// refresh_interval_seconds}}), for the autoscaler's scale-ups: members are replicas made ahead,
// started, probed ready and paused, under the name <project>-<service>-pool-<N> (replica numbers
// no replica uses, so a member handed out keeps its number). A scale-up takes members first (one
// unpause, a heartbeat, a rename to <project>-<service>-<N>: a replica like the others), then
// cold-starts the rest; the pool refills in the background. Members are not replicas: `up` and
// `scale` neither count nor touch them (plan_up), `down` removes them with the project. As with the
// templates' pools, its state is the engine's (labels, names, paused or not): rebuilt after a restart.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fleet/operations.hpp"
#include "pool/pool.hpp"

namespace fleet {

class ServicePool {
 public:
  ServicePool(Context& ctx, const compose::Project& project, std::string service, pool::Settings settings);
  ~ServicePool();
  ServicePool(const ServicePool&) = delete;
  ServicePool& operator=(const ServicePool&) = delete;

  // Observes the members, destroys stale, foreign and broken ones and starts fills (in the
  // background) up to the pool's size. Called by the autoscaler's loop every tick.
  void maintain();
  // Up to `count` members handed out as replicas; how many were. Each one asked for and not served
  // is a miss (the caller cold-starts it).
  int acquire(int count);
  pool::Stats stats();
  void stop();

 private:
  void fill(int number);
  void destroy(const std::string& id, const std::string& why);
  void emit(const std::string& action, const std::string& container, const std::string& message = "");
  std::string member_name(int number) const;
  bool member(const ObservedContainer& c) const;

  Context& ctx_;
  const compose::Project& project_;
  std::string service_;
  std::string hash_;  // the service's config hash: a changed service is another pool
  std::unique_ptr<pool::Pool> policy_;
  std::mutex mu_;
  std::set<int> filling_;  // numbers being filled by this process
  std::atomic<bool> stopping_{false};
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  // Runs `work` on a thread of its own, joined once done or at stop (call with mu_ held).
  void launch(std::function<void()> work);
  std::vector<Worker> workers_;
};

}  // namespace fleet
