// The autoscaler's policy with recorded samples and explicit times: the HPA replica math (tolerance,
// ratio, missing and not-ready replicas, several metrics), stabilization windows, rate limits,
// min/max, settings, history and counters. Expected counts are worked out from the algorithm in the
// comments; the Kubernetes cases are replica_calculator_test.go's with requests of 1 CPU.
#include <catch2/catch.hpp>

#include <cmath>

#include "autoscale/autoscale.hpp"

using namespace fleet::autoscale;
using namespace std::chrono_literals;

namespace {

const Clock::time_point t0{};

ReplicaSample cpu(const std::string& id, std::optional<double> percent, bool ready = true) {
  ReplicaSample r;
  r.id = id;
  r.ready = ready;
  r.cpu_percent = percent;
  r.started = t0 - 600s;
  return r;
}

// n ready replicas at the same CPU%.
Observation all_at(int n, double percent) {
  Observation o{n, {}};
  for (int i = 0; i < n; ++i) o.replicas.push_back(cpu("r" + std::to_string(i), percent));
  return o;
}

Settings enabled(int min = 1, int max = 100) {
  Settings s;
  s.enabled = true;
  s.min_replicas = min;
  s.max_replicas = max;
  return s;
}

// Windows off: the replica math alone.
Settings unstabilized(int min = 1, int max = 100) {
  Settings s = enabled(min, max);
  s.scale_up_stabilization_seconds = 0;
  s.scale_down_stabilization_seconds = 0;
  return s;
}

int hpa(double sum_of_usage, double target) {
  return static_cast<int>(std::ceil(sum_of_usage / target));
}

}  // namespace

TEST_CASE("autoscale: within the 10% tolerance the count stays; beyond it, ceil(ratio x ready)",
          "[autoscale]") {
  Autoscaler a("web", unstabilized());
  // 75/70 = 1.071: inside the band.
  Decision d = a.step(t0, all_at(5, 75));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.target_replicas == 5);
  CHECK(d.reason == "within tolerance: CPU utilization 75.0% ~ target 70%");
  CHECK(d.condition == "DesiredWithinRange");
  // 64/70 = 0.914: inside too.
  CHECK(a.step(t0 + 30s, all_at(5, 64)).target_replicas == 5);
  // 78/70 = 1.114: out; 5 x 78 / 70 = 5.57 -> 6.
  d = a.step(t0 + 60s, all_at(5, 78));
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.target_replicas == hpa(5 * 78, 70));
  CHECK(d.target_replicas == 6);
  // 60/70 = 0.857 is out of the band, yet ceil(6 x 60 / 70 = 5.14) = 6: no change.
  d = a.step(t0 + 90s, all_at(6, 60));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.reason == "CPU utilization 60.0% < target 70%");
  CHECK(d.metrics.desired_replicas == 6);
}

TEST_CASE("autoscale: 5 replicas at 85% against 70% scale up to ceil(5 x 85 / 70) = 7", "[autoscale]") {
  Autoscaler a("web", enabled());
  Decision d = a.step(t0, all_at(5, 85), "2026-12-01T10:00:00Z");
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.current_replicas == 5);
  CHECK(d.target_replicas == 7);
  CHECK(d.metrics.desired_replicas == 7);
  CHECK(d.condition == "DesiredWithinRange");
  CHECK(d.summary() == "scale_up 5 -> 7: CPU utilization 85.0% > target 70%");
  CHECK(*d.metrics.avg_cpu_utilization == Approx(85));
  auto j = d.to_json();
  CHECK(j["action"] == "scale_up");
  CHECK(j["target_replicas"] == 7);
  CHECK(j["at"] == "2026-12-01T10:00:00Z");
  CHECK(j["samples"].size() == 5);
  CHECK(j["samples"][0]["uptime_seconds"] == 600);
  CHECK(j["metrics"]["avg_memory_utilization"].is_null());
}

TEST_CASE("autoscale: target 50 with every replica at 100% doubles at the first step, capped by max",
          "[autoscale]") {
  // No earlier recommendation is lower, so the 60 s up window does not hold the first step back.
  Autoscaler a("web", enabled(1, 100));
  Decision d = a.step(t0, all_at(3, 100));
  CHECK(d.target_replicas == hpa(300, 70));  // target 70: ceil(4.29) = 5

  Settings s = enabled(1, 100);
  s.target_cpu_utilization = 50;
  Autoscaler doubling("web", s);
  d = doubling.step(t0, all_at(3, 100));
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.target_replicas == 6);  // ratio 2; the rate limit allows max(2 x 3, 3 + 4) = 7
  CHECK_FALSE(doubling.due(t0 + 29s));
  CHECK(doubling.due(t0 + 30s));

  s.max_replicas = 5;
  Autoscaler capped("web", s);
  d = capped.step(t0, all_at(3, 100));
  CHECK(d.target_replicas == 5);
  CHECK(d.metrics.desired_replicas == 6);
  CHECK(d.condition == "TooManyReplicas");
  CHECK(d.summary() == "scale_up 3 -> 5: CPU utilization 100.0% > target 50%; limited to max_replicas 5");
}

TEST_CASE("autoscale: scale-down waits for the down window; the recommendations are recorded",
          "[autoscale]") {
  Autoscaler a("web", enabled());  // up 60 s, down 300 s, interval 30 s
  // 6 at 35%: ceil(6 x 35 / 70) = 3, but the count found at the first step (6) holds for 300 s.
  Decision d = a.step(t0, all_at(6, 35));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.metrics.desired_replicas == 3);
  CHECK(d.condition == "ScaleDownStabilized");
  CHECK(d.reason == "CPU utilization 35.0% < target 70% (wants 3); scale-down stabilized (window 300 s)");
  REQUIRE(a.recommendations().size() == 2);
  CHECK(a.recommendations()[0].replicas == 6);
  CHECK(a.recommendations()[0].down_only);
  CHECK(a.recommendations()[1].replicas == 3);
  CHECK(a.recommendations()[1].at == t0);

  for (auto t = t0 + 30s; t < t0 + 300s; t += 30s) CHECK(a.step(t, all_at(6, 35)).target_replicas == 6);
  // At t0 + 300 s the recommendations of t0 fall out of the window (a recommendation counts while
  // strictly younger than the window).
  d = a.step(t0 + 300s, all_at(6, 35));
  CHECK(d.action == Decision::ScaleDown);
  CHECK(d.target_replicas == 3);
  CHECK(d.condition == "DesiredWithinRange");
  // Kept: the ten raw recommendations from t0 + 30 s to t0 + 300 s.
  CHECK(a.recommendations().size() == 10);
  CHECK(a.recommendations().front().at == t0 + 30s);

  // A higher recommendation inside the window holds a later scale-down at that height.
  Autoscaler b("web", enabled());
  b.step(t0, all_at(4, 70));               // 4 (within tolerance), init 4
  b.step(t0 + 400s, all_at(4, 70));        // 4, t0's fall out
  d = b.step(t0 + 430s, all_at(4, 17.5));  // ceil(4 x 17.5 / 70) = 1
  CHECK(d.target_replicas == 4);           // max(4 at 400 s, 1) = 4
  d = b.step(t0 + 700s, all_at(4, 35));    // 2; window (400, 700]: {1, 2}
  CHECK(d.target_replicas == 2);
  CHECK(d.condition == "DesiredWithinRange");
}

TEST_CASE("autoscale: scale-up is held to the lowest recommendation of the up window", "[autoscale]") {
  Autoscaler a("web", enabled());
  a.step(t0, all_at(4, 35));  // wants 2, held by the down window
  // 4 at 140%: ceil(4 x 140 / 70) = 8, but 2 was recommended 30 s ago (inside the 60 s up window).
  Decision d = a.step(t0 + 30s, all_at(4, 140));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.target_replicas == 4);
  CHECK(d.condition == "ScaleUpStabilized");
  CHECK(d.reason == "CPU utilization 140.0% > target 70% (wants 8); scale-up stabilized (window 60 s)");
  // At t0 + 60 s the 2 of t0 is out of the up window: min(8 of t0 + 30 s, 8) = 8.
  d = a.step(t0 + 60s, all_at(4, 140));
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.target_replicas == 8);
}

TEST_CASE("autoscale: rate limits: up by max(100%, +4) per 15 s; down by 100%", "[autoscale]") {
  Autoscaler a("web", enabled());
  // 1 replica at 700% of a host (7 cores busy): ratio 10 -> 10, limited to max(2 x 1, 1 + 4) = 5.
  Decision d = a.step(t0, all_at(1, 700));
  CHECK(d.metrics.desired_replicas == 10);
  CHECK(d.target_replicas == 5);
  CHECK(d.condition == "ScaleUpLimit");
  CHECK(d.summary() ==
        "scale_up 1 -> 5: CPU utilization 700.0% > target 70%; limited by the scale-up rate to 5 (at most "
        "+100% or +4 per 15 s)");
  // 10 s later, 5 replicas at 700%: wants 50, the up window holds it to 10; the +4 of t0 is still in
  // the period, so the period started at 1 and the limit is still 5.
  d = a.step(t0 + 10s, all_at(5, 700));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.target_replicas == 5);
  CHECK(d.condition == "ScaleUpLimit");
  // At t0 + 15 s the event of t0 has left the period: limit max(2 x 5, 5 + 4) = 10, up window min 10.
  d = a.step(t0 + 15s, all_at(5, 700));
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.target_replicas == 10);
  CHECK(d.condition == "ScaleUpStabilized");  // 50 wanted, the 10 of t0 is inside the up window
  CHECK(a.scale_up_count() == 2);

  // Down by 100% per period never binds: 10 at 7% -> ceil(70 / 70) = 1 in one step.
  Autoscaler down("web", unstabilized());
  d = down.step(t0, all_at(10, 7));
  CHECK(d.action == Decision::ScaleDown);
  CHECK(d.target_replicas == 1);
  CHECK(d.condition == "DesiredWithinRange");
}

TEST_CASE("autoscale: min and max bound the target and bring the count in range", "[autoscale]") {
  Autoscaler a("web", unstabilized(3, 5));
  Decision d = a.step(t0, all_at(10, 7));  // above max before any metric is asked
  CHECK(d.action == Decision::ScaleDown);
  CHECK(d.target_replicas == 5);
  CHECK(d.condition == "TooManyReplicas");
  CHECK(d.summary() == "scale_down 10 -> 5: current 10 > max_replicas 5");

  d = a.step(t0 + 30s, all_at(5, 7));  // wants ceil(35 / 70) = 1, min is 3
  CHECK(d.target_replicas == 3);
  CHECK(d.metrics.desired_replicas == 1);
  CHECK(d.condition == "TooFewReplicas");
  CHECK(d.reason == "CPU utilization 7.0% < target 70%; limited to min_replicas 3");

  d = a.step(t0 + 60s, Observation{0, {}});
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.target_replicas == 3);
  CHECK(d.condition == "TooFewReplicas");
  CHECK(d.reason == "current 0 < min_replicas 3");

  Autoscaler zero("web", unstabilized(0, 5));
  d = zero.step(t0, Observation{0, {}});
  CHECK(d.action == Decision::NoAction);
  CHECK(d.target_replicas == 0);

  Settings off;  // not opted in
  Autoscaler disabled("web", off);
  d = disabled.step(t0, all_at(2, 200));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.reason == "autoscaling is disabled");
}

TEST_CASE("autoscale: missing and not-ready replicas as in Kubernetes' replica calculator", "[autoscale]") {
  auto decide = [](double target, Observation o) {
    Settings s = unstabilized();
    s.target_cpu_utilization = target;
    return Autoscaler("web", s).step(t0, o).target_replicas;
  };
  // TestReplicaCalcMissingMetrics: 40%, 9.5%, two missing, target 100 -> down; the missing count as
  // 100%: (40 + 9.5 + 200) / 100 = 2.495 -> 3.
  CHECK(decide(100, {4, {cpu("a", 40), cpu("b", 9.5), cpu("c", {}), cpu("d", {})}}) == 3);
  // TestReplicaCalcMissingMetricsNoChangeGt: 190% and one missing, target 100 -> up; missing at 0:
  // 95% is within tolerance -> 2.
  CHECK(decide(100, {2, {cpu("a", 190), cpu("b", {})}}) == 2);
  // TestReplicaCalcMissingMetricsUnreadyChange: not ready, 45%, missing; target 50 -> 0.9 counts as
  // down, the missing one at 100% makes it 72.5%: the direction flips -> 3.
  Settings s = unstabilized();
  s.target_cpu_utilization = 50;
  Decision d = Autoscaler("web", s).step(t0, {3, {cpu("a", 10, false), cpu("b", 45), cpu("c", {})}});
  CHECK(d.target_replicas == 3);
  CHECK(d.reason ==
        "CPU utilization 45.0% ~ target 50% (counting 1 replica without it at 100.0%: 72.5%, the other "
        "direction: keep 3)");
  // TestReplicaCalcMissingMetricsUnreadyScaleUp: not ready, 200%, missing; target 50: both at 0 ->
  // 200 / 50 = 4.
  CHECK(decide(50, {3, {cpu("a", 10, false), cpu("b", 200), cpu("c", {})}}) == 4);
  // TestReplicaCalcMissingMetricsUnreadyScaleDown: not ready, 10%, 10%, missing; target 50: the not-
  // ready one is left out on a scale-down, the missing one at 100%: 120 / 50 = 2.4 -> 3.
  CHECK(decide(50, {4, {cpu("a", 10, false), cpu("b", 10), cpu("c", 10), cpu("d", {})}}) == 3);
  // TestReplicaCalcScaleUpUnreadyLessScale: not ready 30%, 50%, 70%; target 30: 60% -> up, the not-
  // ready one at 0: 120 / 30 = 4.
  d = Autoscaler("web",
                 [] {
                   Settings t = unstabilized();
                   t.target_cpu_utilization = 30;
                   return t;
                 }())
          .step(t0, {3, {cpu("a", 30, false), cpu("b", 50), cpu("c", 70)}});
  CHECK(d.target_replicas == 4);
  CHECK(*d.metrics.avg_cpu_utilization == Approx(60));  // the ready ones only
  CHECK(d.reason == "CPU utilization 60.0% > target 30% (counting 1 not-ready replica at 0: 40.0%)");
  // TestReplicaCalcScaleUpUnreadyNoScale: 40%, not ready 50% and 70%; target 30: 40 / 3 = 13.3% is
  // the other direction -> 3.
  CHECK(decide(30, {3, {cpu("a", 40), cpu("b", 50, false), cpu("c", 70, false)}}) == 3);
  // No ready replica reports CPU: nothing to go on.
  d = Autoscaler("web", unstabilized()).step(t0, {2, {cpu("a", {}), cpu("b", 90, false)}});
  CHECK(d.action == Decision::NoAction);
  CHECK(d.reason == "no ready replica reports CPU utilization: no action");
  CHECK(d.condition.empty());
}

TEST_CASE("autoscale: CPU against the container's own limit when known; both averages recorded",
          "[autoscale]") {
  Observation o{2, {cpu("a", 40), cpu("b", 40)}};
  o.replicas[0].cpu_limit_percent = 80;  // limited to half a CPU: 40% of the host is 80% of its own
  o.replicas[1].cpu_limit_percent = 100;
  Decision d = Autoscaler("web", unstabilized()).step(t0, o);
  CHECK(*d.metrics.avg_cpu_utilization == Approx(90));
  CHECK(*d.metrics.avg_cpu_limit_percent == Approx(90));
  CHECK(*d.metrics.avg_cpu_percent == Approx(40));
  CHECK(d.target_replicas == hpa(180, 70));  // 3, not the scale-down 40% of the host would ask
}

TEST_CASE("autoscale: pending requests and memory: the largest count wins", "[autoscale]") {
  Settings s = unstabilized();
  s.target_memory_utilization = 60;
  s.target_pending_requests = 1;
  Observation o = all_at(4, 70);  // CPU within tolerance: 4
  const double memory[] = {90, 90, 90, 90};
  const double pending[] = {3, 2, 1, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    o.replicas[i].memory_percent = memory[i];
    o.replicas[i].pending = pending[i];
  }
  // Memory: ceil(360 / 60) = 6. Pending: 6 requests / 1 per replica = 6 (tie: the first wins).
  Decision d = Autoscaler("web", s).step(t0, o);
  CHECK(d.target_replicas == 6);
  CHECK(d.reason == "memory utilization 90.0% > target 60%");
  CHECK(*d.metrics.pending_requests == Approx(6));
  CHECK(*d.metrics.pending_requests_per_replica == Approx(1.5));
  // More pending: 3 per replica -> 12, above memory's 6; the rate limit allows max(2 x 4, 4 + 4) = 8.
  for (auto& r : o.replicas) r.pending = 3;
  d = Autoscaler("web", s).step(t0, o);
  CHECK(d.metrics.desired_replicas == 12);
  CHECK(d.target_replicas == 8);
  CHECK(d.summary() ==
        "scale_up 4 -> 8: pending requests 3.0 per replica > target 1; limited by the scale-up rate to 8 (at "
        "most +100% or +4 per 15 s)");
  // Everything idle: CPU 1, memory 1, pending 0 requests -> ceil(0) = 0: the largest (1) wins.
  Observation idle = all_at(4, 7);
  for (auto& r : idle.replicas) {
    r.memory_percent = 6;
    r.pending = 0;
  }
  d = Autoscaler("web", s).step(t0, idle);
  CHECK(d.target_replicas == 1);
  // A replica without a pending count counts as the target on a scale-down: 0.5 x 3 + 1 -> 3 (CPU at
  // 7% says 1; leaving the missing one out would say ceil(1.5) = 2, counting it at 0 says 2 too).
  Settings p = unstabilized();
  p.target_pending_requests = 1;
  Observation half = all_at(4, 7);
  for (auto& r : half.replicas) r.pending = 0.5;
  half.replicas[3].pending.reset();
  d = Autoscaler("web", p).step(t0, half);
  CHECK(d.target_replicas == 3);
  CHECK(d.reason ==
        "pending requests 0.5 per replica < target 1 (counting 1 replica without it at 1.0 per replica: 0.6 "
        "per replica)");
}

TEST_CASE("autoscale: a metric nobody reports stops a scale-down, not a scale-up", "[autoscale]") {
  Settings s = unstabilized();
  s.target_memory_utilization = 50;
  // CPU says down (ceil(4 x 14 / 70) = 1), memory is missing on every replica: no action.
  Decision d = Autoscaler("web", s).step(t0, all_at(4, 14));
  CHECK(d.action == Decision::NoAction);
  CHECK(d.target_replicas == 4);
  CHECK(d.reason ==
        "no ready replica reports memory utilization and the other metrics say scale down (to 1): no action");
  // CPU says up: the scale-up goes ahead without memory.
  d = Autoscaler("web", s).step(t0, all_at(4, 140));
  CHECK(d.action == Decision::ScaleUp);
  CHECK(d.target_replicas == 8);
}

TEST_CASE("autoscale: history keeps the changes and the latest no_action, bounded; counters", "[autoscale]") {
  Autoscaler a("web", unstabilized(1, 100), 3);
  auto t = t0;
  auto next = [&] { return t += 30s; };
  a.step(next(), all_at(2, 70));   // no_action
  a.step(next(), all_at(2, 70));   // no_action: replaces the previous
  a.step(next(), all_at(2, 140));  // up to 4
  a.step(next(), all_at(4, 70));   // no_action
  auto h = a.history();
  REQUIRE(h.size() == 2);
  CHECK(h[0].action == Decision::NoAction);
  CHECK(h[0].at == t0 + 120s);
  CHECK(h[1].action == Decision::ScaleUp);
  a.step(next(), all_at(4, 7));    // down to 1: the no_action before it goes
  a.step(next(), all_at(1, 280));  // up to 4
  a.step(next(), all_at(4, 14));   // down to 1: the first scale-up falls off (capacity 3)
  h = a.history();
  REQUIRE(h.size() == 3);
  CHECK(h[0].summary().rfind("scale_down 4 -> 1", 0) == 0);
  CHECK(h[1].summary().rfind("scale_up 1 -> 4", 0) == 0);
  CHECK(h[2].summary().rfind("scale_down 4 -> 1", 0) == 0);
  CHECK(h[2].at == t0 + 150s);
  CHECK(h[0].samples.size() == 4);
  CHECK(a.history(1).size() == 1);
  CHECK(a.scale_up_count() == 2);
  CHECK(a.scale_down_count() == 2);

  auto st = a.status();
  CHECK(st["service"] == "web");
  CHECK(st["enabled"] == true);
  CHECK(st["current_replicas"] == 4);
  CHECK(st["desired_replicas"] == 1);
  CHECK(st["scale_up_count"] == 2);
  CHECK(st["last_decision"]["action"] == "scale_down");
  CHECK(st["settings"]["max_replicas"] == 100);
  CHECK(Autoscaler("idle", Settings{}).status()["last_decision"].is_null());
}

TEST_CASE("autoscale settings: the seed's defaults, x-fleet's other keys ignored, errors named",
          "[autoscale]") {
  Settings d;
  CHECK_FALSE(d.enabled);
  CHECK(d.min_replicas == 1);
  CHECK(d.max_replicas == 100);
  CHECK(d.target_cpu_utilization == 70);
  CHECK_FALSE(d.target_memory_utilization);
  CHECK_FALSE(d.target_pending_requests);
  CHECK(d.scale_up_stabilization_seconds == 60);
  CHECK(d.scale_down_stabilization_seconds == 300);
  CHECK(d.autoscaling_interval_seconds == 30);

  const nlohmann::json x_fleet = {{"kernel", true},
                                  {"allow_unsafe", false},
                                  {"template", "lua"},
                                  {"warm_pool", {{"size", 2}}},
                                  {"graceful_drain", {{"timeout_seconds", 30}}},
                                  {"idle_cull_seconds", 600},
                                  {"autoscaling", true},
                                  {"min_replicas", 2.0},
                                  {"max_replicas", 8},
                                  {"target_cpu_utilization", 62.5},
                                  {"target_pending_requests", 2},
                                  {"target_memory_utilization", nullptr}};
  Settings s = Settings::from_json(x_fleet, "services.web.x-fleet");
  CHECK(s.enabled);
  CHECK(s.min_replicas == 2);
  CHECK(s.max_replicas == 8);
  CHECK(s.target_cpu_utilization == 62.5);
  CHECK(*s.target_pending_requests == 2);
  CHECK_FALSE(s.target_memory_utilization);
  CHECK(Settings::from_json(s.to_json(), "x").to_json() == s.to_json());

  const std::string w = "services.web.x-fleet";
  auto fails = [&](nlohmann::json j, const std::string& start) {
    CHECK_THROWS_WITH(Settings::from_json(j, w), Catch::StartsWith(w + "." + start));
  };
  fails({{"min_replicas", -1}}, "min_replicas: ");
  fails({{"min_replicas", "2"}}, "min_replicas: ");
  fails({{"min_replicas", 1.5}}, "min_replicas: ");
  fails({{"max_replicas", 0}}, "max_replicas: ");
  fails({{"min_replicas", 5}, {"max_replicas", 4}}, "min_replicas: 5 is more than max_replicas 4");
  fails({{"target_cpu_utilization", 0}}, "target_cpu_utilization: ");
  fails({{"target_cpu_utilization", 100.5}}, "target_cpu_utilization: ");
  fails({{"target_cpu_utilization", "70%"}}, "target_cpu_utilization: ");
  fails({{"target_memory_utilization", -5}}, "target_memory_utilization: ");
  fails({{"target_pending_requests", 0}}, "target_pending_requests: ");
  fails({{"scale_up_stabilization_seconds", -1}}, "scale_up_stabilization_seconds: ");
  fails({{"scale_down_stabilization_seconds", -30}}, "scale_down_stabilization_seconds: ");
  fails({{"autoscaling_interval_seconds", 0}}, "autoscaling_interval_seconds: ");
  fails({{"autoscaling", "yes"}}, "autoscaling: ");
  fails({{"max_replica", 4}}, "max_replica: unknown key");
  CHECK(Settings::from_json({{"target_cpu_utilization", 100}}, w).target_cpu_utilization == 100);
  CHECK(Settings::from_json({{"min_replicas", 0}}, w).min_replicas == 0);
  CHECK_THROWS_AS(Settings::from_json(nlohmann::json::array(), w), std::invalid_argument);
}
