// The HPA algorithm for one service: per-metric proposals (replica_calculator.go), the largest wins,
// then stabilization windows and rate limits with min/max (horizontal.go, with behaviors).
#include "autoscale/autoscale.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>

namespace fleet::autoscale {

namespace {

std::string one_decimal(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// 70 as "70", 62.5 as "62.5".
std::string plain(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::optional<double> average(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

nlohmann::json opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

using Getter = std::function<std::optional<double>(const ReplicaSample&)>;

// The CPU target's basis: the container's own limit when known (a container limited to half a CPU
// reads ~50% in docker stats at full use), else docker's CPU% against the host.
std::optional<double> cpu_basis(const ReplicaSample& r) {
  return r.cpu_limit_percent ? r.cpu_limit_percent : r.cpu_percent;
}

struct Metric {
  std::string name;  // "CPU utilization"
  bool percent;
  double target;
  Getter get;

  // What a replica without the metric counts as on a scale-down: a utilization counts as using its
  // whole limit (or the target when that is above 100%), a per-replica value as the target.
  double missing_on_scale_down() const { return percent ? std::max(100.0, target) : target; }

  std::string value(double usage) const {
    return percent ? one_decimal(usage) + "%" : one_decimal(usage) + " per replica";
  }
  std::string describe(double usage, const char* relation) const {
    return name + " " + value(usage) + " " + relation + " target " + plain(target) + (percent ? "%" : "");
  }
};

struct Proposal {
  bool valid = false;
  int replicas = 0;
  std::string reason;
};

bool within_tolerance(double ratio) {
  return std::abs(1.0 - ratio) <= Autoscaler::kTolerance;
}

const char* relation(double ratio) {
  return within_tolerance(ratio) ? "~" : ratio > 1 ? ">" : "<";
}

// ceil(ratio x count), computed as ceil(sum / target) (the same number with less rounding); a
// hair's breadth above a whole number is floating-point dust, not a replica.
int replicas_for(const std::vector<double>& values, double target) {
  const double exact = std::accumulate(values.begin(), values.end(), 0.0) / target;
  return static_cast<int>(std::ceil(exact - 1e-9));
}

std::string plural(int n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// replica_calculator.go (GetResourceReplicas, calcPlainMetricReplicas): a replica that is not ready
// is left out, one without the metric is "missing". Missing ones count as the target on a
// scale-down and as 0 on a scale-up, not-ready ones as 0 on a scale-up; if the recount falls back
// into the tolerance or reverses the direction, the count stays.
Proposal propose(const Metric& m, const std::vector<ReplicaSample>& replicas, int current) {
  std::vector<double> values;
  int missing = 0, unready = 0;
  for (const auto& r : replicas) {
    if (!r.ready) {
      ++unready;
    } else if (auto v = m.get(r)) {
      values.push_back(*v);
    } else {
      ++missing;
    }
  }
  if (values.empty()) return {false, 0, "no ready replica reports " + m.name};

  const double usage = *average(values);
  const double ratio = usage / m.target;
  const bool up_with_unready = unready > 0 && ratio > 1.0;
  const std::string base = m.describe(usage, relation(ratio));
  if (!up_with_unready && missing == 0) {
    if (within_tolerance(ratio)) return {true, current, "within tolerance: " + base};
    return {true, replicas_for(values, m.target), base};
  }

  std::vector<std::string> counted_as;
  if (missing > 0 && ratio < 1.0) {
    values.insert(values.end(), static_cast<std::size_t>(missing), m.missing_on_scale_down());
    counted_as.push_back(plural(missing, "replica", "replicas") + " without it at " +
                         m.value(m.missing_on_scale_down()));
  } else if (missing > 0 && ratio > 1.0) {
    values.insert(values.end(), static_cast<std::size_t>(missing), 0.0);
    counted_as.push_back(plural(missing, "replica", "replicas") + " without it at 0");
  }
  if (up_with_unready) {
    values.insert(values.end(), static_cast<std::size_t>(unready), 0.0);
    counted_as.push_back(plural(unready, "not-ready replica", "not-ready replicas") + " at 0");
  }
  const double new_usage = *average(values);
  const double new_ratio = new_usage / m.target;
  std::string note;
  for (const auto& c : counted_as) note += (note.empty() ? "" : " and ") + c;
  note = " (counting " + note + ": " + m.value(new_usage);
  if (within_tolerance(new_ratio)) return {true, current, base + note + ", within tolerance)"};
  if ((ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0))
    return {true, current, base + note + ", the other direction: keep " + std::to_string(current) + ")"};
  const int replicas_wanted = replicas_for(values, m.target);
  if ((new_ratio < 1.0 && replicas_wanted > current) || (new_ratio > 1.0 && replicas_wanted < current))
    return {true, current,
            base + note + ", the count would move the other way: keep " + std::to_string(current) + ")"};
  return {true, replicas_wanted, base + note + ")"};
}

Metrics measure(const Observation& o) {
  std::vector<double> basis, cpu, cpu_limit, memory, pending;
  for (const auto& r : o.replicas) {
    if (!r.ready) continue;
    if (auto v = cpu_basis(r)) basis.push_back(*v);
    if (r.cpu_percent) cpu.push_back(*r.cpu_percent);
    if (r.cpu_limit_percent) cpu_limit.push_back(*r.cpu_limit_percent);
    if (r.memory_percent) memory.push_back(*r.memory_percent);
    if (r.pending) pending.push_back(*r.pending);
  }
  Metrics m;
  m.current_replicas = o.current_replicas;
  m.avg_cpu_utilization = average(basis);
  m.avg_cpu_percent = average(cpu);
  m.avg_cpu_limit_percent = average(cpu_limit);
  m.avg_memory_utilization = average(memory);
  if (!pending.empty()) m.pending_requests = std::accumulate(pending.begin(), pending.end(), 0.0);
  m.pending_requests_per_replica = average(pending);
  return m;
}

}  // namespace

nlohmann::json Metrics::to_json() const {
  return {{"current_replicas", current_replicas},
          {"desired_replicas", desired_replicas},
          {"avg_cpu_utilization", opt(avg_cpu_utilization)},
          {"avg_cpu_percent", opt(avg_cpu_percent)},
          {"avg_cpu_limit_percent", opt(avg_cpu_limit_percent)},
          {"avg_memory_utilization", opt(avg_memory_utilization)},
          {"pending_requests", opt(pending_requests)},
          {"pending_requests_per_replica", opt(pending_requests_per_replica)}};
}

const char* Decision::action_name(Action a) {
  switch (a) {
    case ScaleUp:
      return "scale_up";
    case ScaleDown:
      return "scale_down";
    case NoAction:
      break;
  }
  return "no_action";
}

std::string Decision::summary() const {
  return std::string(action_name(action)) + " " + std::to_string(current_replicas) + " -> " +
         std::to_string(target_replicas) + ": " + reason;
}

nlohmann::json Decision::to_json() const {
  nlohmann::json samples_json = nlohmann::json::array();
  for (const auto& s : samples)
    samples_json.push_back(
        {{"id", s.id},
         {"ready", s.ready},
         {"cpu_percent", opt(s.cpu_percent)},
         {"cpu_limit_percent", opt(s.cpu_limit_percent)},
         {"memory_percent", opt(s.memory_percent)},
         {"pending", opt(s.pending)},
         {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(at - s.started).count()}});
  return {{"action", action_name(action)},
          {"current_replicas", current_replicas},
          {"target_replicas", target_replicas},
          {"reason", reason},
          {"condition", condition},
          {"metrics", metrics.to_json()},
          {"at", at_iso.empty() ? nlohmann::json(nullptr) : nlohmann::json(at_iso)},
          {"samples", samples_json}};
}

Autoscaler::Autoscaler(std::string service, Settings settings, std::size_t history_capacity)
    : service_(std::move(service)),
      settings_(settings),
      history_capacity_(std::max<std::size_t>(1, history_capacity)) {}

bool Autoscaler::due(Clock::time_point now) const {
  return !last_step_ || now - *last_step_ >= std::chrono::seconds(settings_.autoscaling_interval_seconds);
}

// horizontal.go stabilizeRecommendationWithBehaviors: scale up to no more than the lowest
// recommendation of the up window, down to no less than the highest of the down window; the raw
// recommendation is recorded. A recommendation counts while it is strictly younger than the window.
int Autoscaler::stabilize(Clock::time_point now, int current, int desired) {
  const auto up_cutoff = now - std::chrono::seconds(settings_.scale_up_stabilization_seconds);
  const auto down_cutoff = now - std::chrono::seconds(settings_.scale_down_stabilization_seconds);
  int up = desired, down = desired;
  for (const auto& r : recommendations_) {
    if (!r.down_only && r.at > up_cutoff) up = std::min(up, r.replicas);
    if (r.at > down_cutoff) down = std::max(down, r.replicas);
  }
  std::erase_if(recommendations_,
                [&](const Recommendation& r) { return r.at <= up_cutoff && r.at <= down_cutoff; });
  recommendations_.push_back({desired, now, false});
  return std::min(std::max(current, up), down);
}

Decision Autoscaler::step(Clock::time_point now, const Observation& observation, std::string at_iso) {
  const int current = observation.current_replicas;
  Decision d;
  d.at = now;
  d.at_iso = std::move(at_iso);
  d.samples = observation.replicas;
  d.current_replicas = current;
  d.target_replicas = current;
  d.metrics = measure(observation);
  d.metrics.desired_replicas = current;

  // The count found at the first step holds back scale-down for a window
  // (maybeInitScaleDownStabilizationWindow).
  if (!last_step_) recommendations_.push_back({current, now, true});
  last_step_ = now;

  // The rate limits look at the scale events of the last period (getReplicasChangePerPeriod).
  const auto period_cutoff = now - std::chrono::seconds(kRatePeriodSeconds);
  std::erase_if(events_, [&](const ScaleEvent& e) { return e.at <= period_cutoff; });

  const int min = settings_.min_replicas, max = settings_.max_replicas;
  if (!settings_.enabled) {
    d.reason = "autoscaling is disabled";
  } else if (current == 0 && min == 0) {
    d.reason = "no replicas to measure (min_replicas 0)";
  } else if (current > max) {
    d.target_replicas = d.metrics.desired_replicas = max;
    d.reason = "current " + std::to_string(current) + " > max_replicas " + std::to_string(max);
    d.condition = "TooManyReplicas";
  } else if (current < min) {
    d.target_replicas = d.metrics.desired_replicas = min;
    d.reason = "current " + std::to_string(current) + " < min_replicas " + std::to_string(min);
    d.condition = "TooFewReplicas";
  } else {
    std::vector<Metric> metrics{{"CPU utilization", true, settings_.target_cpu_utilization, cpu_basis}};
    if (settings_.target_memory_utilization)
      metrics.push_back({"memory utilization", true, *settings_.target_memory_utilization,
                         [](const ReplicaSample& r) { return r.memory_percent; }});
    if (settings_.target_pending_requests)
      metrics.push_back({"pending requests", false, *settings_.target_pending_requests,
                         [](const ReplicaSample& r) { return r.pending; }});

    // computeReplicasForMetrics: the largest proposal wins; a metric nobody reports stops a scale-down.
    int wanted = 0, invalid = 0;
    std::string winner, first_invalid;
    for (const auto& m : metrics) {
      Proposal p = propose(m, observation.replicas, current);
      if (!p.valid) {
        if (invalid++ == 0) first_invalid = p.reason;
      } else if (winner.empty() || p.replicas > wanted) {
        wanted = p.replicas;
        winner = p.reason;
      }
    }
    if (invalid == static_cast<int>(metrics.size())) {
      d.reason = first_invalid + ": no action";
    } else if (invalid > 0 && wanted < current) {
      d.reason = first_invalid + " and the other metrics say scale down (to " + std::to_string(wanted) +
                 "): no action";
    } else {
      d.metrics.desired_replicas = wanted;
      d.reason = winner;
      d.condition = "DesiredWithinRange";
      const int stabilized = stabilize(now, current, wanted);
      if (stabilized != wanted) {
        const bool up = wanted >= current;
        d.condition = up ? "ScaleUpStabilized" : "ScaleDownStabilized";
        d.reason += " (wants " + std::to_string(wanted) + "); " + (up ? "scale-up" : "scale-down") +
                    " stabilized" + (stabilized != current ? " to " + std::to_string(stabilized) : "") +
                    " (window " +
                    std::to_string(up ? settings_.scale_up_stabilization_seconds
                                      : settings_.scale_down_stabilization_seconds) +
                    " s)";
      }
      // convertDesiredReplicasWithBehaviorRate: the replicas at the period's start bound the change.
      int added = 0, removed = 0;
      for (const auto& e : events_) (e.change > 0 ? added : removed) += std::abs(e.change);
      const int period_start = current - added + removed;
      int target = stabilized;
      if (stabilized > current) {
        const int by_percent =
            static_cast<int>(std::ceil(static_cast<double>(period_start) * (1.0 + kScaleUpPercent / 100.0)));
        const int limit = std::max(current, std::max(by_percent, period_start + kScaleUpPods));
        if (max > limit && stabilized > limit) {
          target = limit;
          d.condition = "ScaleUpLimit";
          d.reason += "; limited by the scale-up rate to " + std::to_string(limit) + " (at most +" +
                      std::to_string(kScaleUpPercent) + "% or +" + std::to_string(kScaleUpPods) + " per " +
                      std::to_string(kRatePeriodSeconds) + " s)";
        } else if (max <= limit && stabilized > max) {
          target = max;
          d.condition = "TooManyReplicas";
          d.reason += "; limited to max_replicas " + std::to_string(max);
        }
      } else if (stabilized < current) {
        const int by_percent =
            static_cast<int>(static_cast<double>(period_start) * (1.0 - kScaleDownPercent / 100.0));
        const int limit = std::min(current, by_percent);
        if (min < limit && stabilized < limit) {
          target = limit;
          d.condition = "ScaleDownLimit";
          d.reason += "; limited by the scale-down rate to " + std::to_string(limit) + " (at most -" +
                      std::to_string(kScaleDownPercent) + "% per " + std::to_string(kRatePeriodSeconds) +
                      " s)";
        } else if (min >= limit && stabilized < min) {
          target = min;
          d.condition = "TooFewReplicas";
          d.reason += "; limited to min_replicas " + std::to_string(min);
        }
      }
      d.target_replicas = target;
    }
  }

  d.action = d.target_replicas > current   ? Decision::ScaleUp
             : d.target_replicas < current ? Decision::ScaleDown
                                           : Decision::NoAction;
  if (d.action != Decision::NoAction) {
    events_.push_back({d.target_replicas - current, now});
    ++(d.action == Decision::ScaleUp ? scale_up_count_ : scale_down_count_);
  }
  remember(d);
  return d;
}

void Autoscaler::remember(const Decision& d) {
  // A no_action stays only while it is the latest decision: the history is what changed, and why not now.
  if (!history_.empty() && history_.front().action == Decision::NoAction) history_.pop_front();
  history_.push_front(d);
  while (history_.size() > history_capacity_) history_.pop_back();
  last_ = d;
}

std::vector<Decision> Autoscaler::history(std::size_t limit) const {
  const std::size_t n = limit == 0 ? history_.size() : std::min(limit, history_.size());
  return {history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(n)};
}

nlohmann::json Autoscaler::status() const {
  return {{"service", service_},
          {"enabled", settings_.enabled},
          {"current_replicas", last_ ? nlohmann::json(last_->current_replicas) : nlohmann::json(nullptr)},
          {"desired_replicas", last_ ? nlohmann::json(last_->target_replicas) : nlohmann::json(nullptr)},
          {"min_replicas", settings_.min_replicas},
          {"max_replicas", settings_.max_replicas},
          {"last_decision", last_ ? last_->to_json() : nlohmann::json(nullptr)},
          {"scale_up_count", scale_up_count_},
          {"scale_down_count", scale_down_count_},
          {"settings", settings_.to_json()}};
}

}  // namespace fleet::autoscale
