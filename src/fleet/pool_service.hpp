// The warm pools of the fleet's templates (fleet.toml's [templates.NAME] with warm_pool enabled),
// carried out: a thread of their own observes the members, asks pool::Pool what to change, fills
// (create, start, probe ready, pause) and destroys; acquire() hands a member out on the hot path
// with one unpause and a heartbeat, nothing else. State lives in the engine (labels, names, paused
// or not): a fresh service rebuilds its pools from it, so nothing is lost or doubled by a restart.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fleet/operations.hpp"
#include "pool/pool.hpp"

namespace fleet {

class PoolService {
 public:
  // `labels` go on every member it makes (tests mark theirs); `events` hears every pool change.
  PoolService(std::shared_ptr<engine::Api> engine, std::map<std::string, std::string> labels,
              EventSink events);
  ~PoolService();
  PoolService(const PoolService&) = delete;
  PoolService& operator=(const PoolService&) = delete;

  void start();
  void stop();

  struct Handout {
    KernelRow kernel;
  };
  // A ready member of the template with this identity, unpaused and answering its heartbeat, for
  // `owner`; nothing when the template has no pool (not a miss) or none is ready (a miss).
  std::optional<Handout> acquire(const std::string& template_identity, const std::string& owner);
  bool has_pool(const std::string& template_identity);
  // Whether its members carry every one of `labels` (a kernel asked for with these can be one).
  bool members_carry(const std::map<std::string, std::string>& labels) const;

  // Per template: its name, identity, settings and counters.
  nlohmann::json stats();

 private:
  struct TemplatePool {
    TemplateSettings settings;
    Template kernel;
    std::unique_ptr<pool::Pool> policy;
    std::set<std::string> filling;  // kernel ids being made by this service
    // After a fill fails (no free ports, the engine away), the next waits: 2 s, doubling to a minute.
    std::chrono::steady_clock::time_point next_fill{};
    std::chrono::seconds fill_backoff{0};
    std::deque<double> acquire_ms;  // the last hand-outs' unpause + heartbeat, for GET /pool
  };

  void run();
  void cycle();
  void write_status();
  void fill(const std::string& name, const Template& t, const std::string& identity,
            const std::string& kernel_id);
  // Runs `work` on a thread of its own (fills, destroys, renames), joined once done or at stop.
  void launch(std::function<void()> work);
  void destroy(const std::string& container_id, const std::string& kernel_id, const std::string& why);
  void emit(const std::string& action, const std::string& kernel_id, const std::string& container,
            const std::string& message = "");

  std::shared_ptr<engine::Api> engine_;
  std::map<std::string, std::string> labels_;
  EventSink events_;
  Context ctx_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  bool woken_ = false;
  std::map<std::string, TemplatePool> pools_;  // by template name
  std::map<std::string, KernelRow> rows_;      // ready members' rows, by container id
  std::set<std::string> taken_;                // handed out, not yet seen running
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;  // fills, destroys and renames under way (guarded by mu_)
  std::thread thread_;
};

// What the pools of a serve of this home last said (written each cycle, for `top` and others without
// pools of their own): {"live": a serve is keeping them now, "pools": as PoolService::stats()}.
nlohmann::json last_pool_status(const FleetHome& home);

}  // namespace fleet
