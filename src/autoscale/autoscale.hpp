// The replica count of one compose service as pure policy: the Kubernetes HPA algorithm
// (replica_calculator.go and horizontal.go: tolerance, missing and not-ready replicas, several
// metrics, stabilization windows, rate limits, min/max). No engine, no threads, no clock read: the
// fleet samples the replicas, calls step(now, observation) every interval and carries the decision out.
//
// What differs from Kubernetes, and why:
// - The defaults are the seed's (up window 60 s instead of 0 s).
// - At the first step the current count is recorded as a recommendation for the scale-down window
//   only (Kubernetes records it for both): with a 60 s up window, a fresh autoscaler would otherwise
//   refuse to scale up for a minute while the service is under load.
// - A replica that is not ready is left out of every metric (Kubernetes does so for CPU only): a
//   kernel that is still starting reports neither its steady memory nor its pending requests.
// - A replica without a metric counts, on a scale-down, as Kubernetes counts it: a utilization (CPU,
//   memory) as max(100%, target) of its limit, pending requests (a per-replica value) as the target.
//   Kubernetes' documentation says "100% of the desired value"; its code, followed here, does this.
// - step() assumes its decision is carried out: the scale event is recorded at once for the rate
//   limits. A scale that fails shows in the next observation's current_replicas and, for 15 s, in a
//   rate limit that counts it (a short back-off).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::autoscale {

using Clock = std::chrono::steady_clock;

// The seed's autoscaling parameters, from a compose service's `x-fleet` mapping.
struct Settings {
  bool enabled = false;  // x-fleet key `autoscaling`: a compose service opts in
  int min_replicas = 1;
  int max_replicas = 100;
  double target_cpu_utilization = 70;               // percent, in (0, 100]
  std::optional<double> target_memory_utilization;  // percent of the memory limit, in (0, 100]
  std::optional<double> target_pending_requests;    // average pending execute requests per replica, > 0
  int scale_up_stabilization_seconds = 60;
  int scale_down_stabilization_seconds = 300;
  int autoscaling_interval_seconds = 30;

  // Reads the keys above from an object that may also hold the fleet's other x-fleet keys (kernel,
  // allow_unsafe, template, warm_pool, graceful_drain, idle_cull_seconds; ignored here). Other keys,
  // wrong types and values out of range throw std::invalid_argument naming `<where>.<key>`. Whole
  // numbers may be written as 2.0; null leaves an optional target unset.
  static Settings from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

// One replica as sampled by the fleet.
struct ReplicaSample {
  std::string id;  // the container
  bool ready = true;
  std::optional<double> cpu_percent;        // docker stats CPU%: against the whole host
  std::optional<double> cpu_limit_percent;  // CPU% of the container's own CPU limit (NanoCpus)
  std::optional<double> memory_percent;     // of the container's memory limit
  std::optional<double> pending;            // pending execute requests
  Clock::time_point started{};
};

struct Observation {
  int current_replicas = 0;
  std::vector<ReplicaSample> replicas;
};

// Averages over the ready replicas that report the metric; unset when none does.
struct Metrics {
  int current_replicas = 0;
  // What the metrics ask for, before stabilization, rate limits and min/max (the decision's
  // target_replicas is after them).
  int desired_replicas = 0;
  // The CPU target's basis: per replica, the CPU% of its own limit when known, else docker's CPU%.
  std::optional<double> avg_cpu_utilization;
  std::optional<double> avg_cpu_percent;
  std::optional<double> avg_cpu_limit_percent;
  std::optional<double> avg_memory_utilization;
  std::optional<double> pending_requests;              // total over the ready replicas
  std::optional<double> pending_requests_per_replica;  // its average
  nlohmann::json to_json() const;
};

struct Decision {
  enum Action { ScaleUp, ScaleDown, NoAction };
  Action action = NoAction;
  int current_replicas = 0;
  int target_replicas = 0;
  // Why, e.g. "CPU utilization 85.0% > target 70%", "within tolerance: CPU utilization 72.0% ~ target
  // 70%", "CPU utilization 30.0% < target 70% (wants 3); scale-down stabilized (window 300 s)".
  std::string reason;
  // Kubernetes' condition reason: ScaleUpLimit, ScaleDownLimit, TooManyReplicas, TooFewReplicas,
  // DesiredWithinRange, ScaleUpStabilized, ScaleDownStabilized, or "" (no usable metric, disabled).
  std::string condition;
  Metrics metrics;
  Clock::time_point at{};
  std::string at_iso;  // wall-clock time the caller gave step(), for display; may be empty
  std::vector<ReplicaSample> samples;

  static const char* action_name(Action a);  // "scale_up", "scale_down", "no_action"
  // "scale_up 5 -> 7: CPU utilization 85.0% > target 70%"
  std::string summary() const;
  nlohmann::json to_json() const;
};

class Autoscaler {
 public:
  static constexpr double kTolerance = 0.1;
  static constexpr int kRatePeriodSeconds = 15;
  static constexpr int kScaleUpPercent = 100;  // up by at most max(100% of the period's start, 4)
  static constexpr int kScaleUpPods = 4;
  static constexpr int kScaleDownPercent = 100;  // down by at most 100% per period

  Autoscaler(std::string service, Settings settings, std::size_t history_capacity = 100);

  const std::string& service() const { return service_; }
  const Settings& settings() const { return settings_; }

  // One evaluation: the decision for this observation at `now` (a steady time the caller reads;
  // at_iso is only copied into the decision). Records the raw recommendation and the scale event.
  Decision step(Clock::time_point now, const Observation& observation, std::string at_iso = {});
  // True when no step ran yet or autoscaling_interval_seconds passed since the last one, so a loop
  // may tick often and step every interval.
  bool due(Clock::time_point now) const;

  // Kept: every decision that scales, plus the latest one when it does not (a run of no_action
  // decisions keeps only its newest), at most history_capacity, the oldest dropped first.
  // Newest first; limit 0 means all.
  std::vector<Decision> history(std::size_t limit = 0) const;
  std::optional<Decision> last_decision() const { return last_; }
  long scale_up_count() const { return scale_up_count_; }
  long scale_down_count() const { return scale_down_count_; }
  // {service, enabled, current_replicas, desired_replicas, min_replicas, max_replicas, last_decision,
  //  scale_up_count, scale_down_count, settings}
  nlohmann::json status() const;

  // The raw recommendations inside the stabilization windows, oldest first (for tests and status).
  struct Recommendation {
    int replicas;
    Clock::time_point at;
    bool down_only;  // the count found at the first step: holds back scale-down only
  };
  const std::deque<Recommendation>& recommendations() const { return recommendations_; }

 private:
  struct ScaleEvent {
    int change;  // + added, - removed
    Clock::time_point at;
  };
  int stabilize(Clock::time_point now, int current, int desired);
  void remember(const Decision& d);

  std::string service_;
  Settings settings_;
  std::size_t history_capacity_;
  std::deque<Recommendation> recommendations_;
  std::deque<ScaleEvent> events_;
  std::deque<Decision> history_;  // newest first
  std::optional<Decision> last_;
  std::optional<Clock::time_point> last_step_;
  long scale_up_count_ = 0, scale_down_count_ = 0;
};

}  // namespace fleet::autoscale
