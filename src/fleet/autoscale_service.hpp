// The autoscaler carried out, inside `serve`: for every service of the compose project that opts
// in (x-fleet: {autoscaling: true, ...}), every interval it observes the service's replicas,
// samples their load (stats and the kernels' own status, all at once), asks autoscale::Autoscaler
// what to do, and does it: scale-up through the same converge as `scale`, scale-down by draining
// the chosen replicas (no clients and idle first, then the oldest) and retiring them. Every decision
// is an event with the samples behind it.
//
// What it says and what it is told live in the fleet home (autoscaling/): status.json and
// history.json written after every step, control.json (enabled or not) read before every step, so
// `llmspell-fleet autoscale ...` on the command line and the REST API see and steer the same loop.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "autoscale/autoscale.hpp"
#include "fleet/load.hpp"
#include "fleet/operations.hpp"
#include "fleet/service_pool.hpp"

namespace fleet {

class AutoscaleService {
 public:
  // `project` is the compose project to scale, already loaded and checked; only the services the
  // active profiles enable are scaled (`profiles`: the --profile flags, else COMPOSE_PROFILES).
  AutoscaleService(std::shared_ptr<engine::Api> engine, compose::Project project,
                   const std::vector<std::string>& profiles);
  ~AutoscaleService();
  AutoscaleService(const AutoscaleService&) = delete;
  AutoscaleService& operator=(const AutoscaleService&) = delete;

  void start();
  void stop();

 private:
  struct Service {
    std::string name;
    std::unique_ptr<autoscale::Autoscaler> policy;
    DrainSettings drain;
    double cpus = 0;                    // the service's CPU limit, 0 when none
    std::unique_ptr<ServicePool> pool;  // x-fleet.warm_pool, when enabled
  };
  void run();
  void step(Service& s, autoscale::Clock::time_point now);
  void scale_up(Service& s, const autoscale::Decision& d);
  void scale_down(Service& s, const autoscale::Decision& d, const std::vector<ObservedContainer>& replicas,
                  const std::vector<KernelLoad>& loads);
  void record(Service& s, const autoscale::Decision& d, const std::string& outcome);
  void write_status();

  std::shared_ptr<engine::Api> engine_;
  compose::Project project_;
  Context ctx_;
  std::map<std::string, Service> services_;
  StatsMemory stats_;  // the previous samples: each step's whole-fleet sample takes ~1 s
  std::atomic<bool> stopping_{false};
  bool enabled_ = true;
  unsigned long ticks_ = 0;
  std::thread thread_;
};

// The autoscaling settings of a compose service (its x-fleet), checked: InvalidInput naming the
// file, the service and the key. Nothing when the service has no x-fleet.
std::optional<autoscale::Settings> autoscale_settings(const compose::Project& project,
                                                      const compose::Service& service);
// Checks every service's x-fleet (autoscaling, warm_pool, graceful_drain): what `config` and `up`
// refuse before anything changes.
void check_fleet_extensions(const compose::Project& project);

// The autoscaler's word, read from the fleet home: status (with whether a serve runs it), history
// (newest first, at most `limit`), and start/stop (written; a running serve follows within a tick).
nlohmann::json autoscaling_status(const FleetHome& home);
nlohmann::json autoscaling_history(const FleetHome& home, std::size_t limit);
nlohmann::json set_autoscaling(const FleetHome& home, bool enabled);

}  // namespace fleet
