// The warm pool's policy with explicit times: fill to size, hand out the oldest, replace stale,
// foreign and broken members, shrink, count hits and misses.
#include <catch2/catch.hpp>

#include "pool/pool.hpp"

using namespace fleet::pool;
using namespace std::chrono_literals;

namespace {
Member member(const std::string& id, Member::State state, Clock::time_point created,
              const std::string& t = "T") {
  return {.id = id, .kernel_id = "k-" + id, .template_id = t, .state = state, .created = created};
}
std::vector<std::string> destroyed(const Changes& c) {
  std::vector<std::string> out;
  for (const auto& [id, why] : c.destroy) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("pool: an empty pool fills to its size, members filling count", "[pool]") {
  Pool p("T", {.enabled = true, .size = 5, .refresh_interval_seconds = 3600});
  const Clock::time_point t0{};
  Changes c = p.step(t0);
  CHECK(c.create == 5);
  CHECK(c.reason_for_create == "the pool has 0 of 5");
  p.add(member("a", Member::State::Filling, t0));
  p.add(member("b", Member::State::Ready, t0));
  CHECK(p.step(t0).create == 3);
  CHECK(p.stats().current_size == 1);
  CHECK(p.stats().filling == 1);
  CHECK(p.stats().target_size == 5);
}

TEST_CASE("pool: take hands out the oldest ready member and never a filling one", "[pool]") {
  Pool p("T", {.size = 3});
  const Clock::time_point t0{};
  p.observe({member("young", Member::State::Ready, t0 + 10s), member("old", Member::State::Ready, t0),
             member("filling", Member::State::Filling, t0 - 10s)});
  auto first = p.take();
  REQUIRE(first);
  CHECK(first->id == "old");
  CHECK(p.take()->id == "young");
  CHECK_FALSE(p.take());  // only the filling one is left
  CHECK(p.members().size() == 1);
  p.record(true);
  p.record(true);
  p.record(false);
  CHECK(p.stats().hits == 2);
  CHECK(p.stats().misses == 1);
  CHECK(p.stats().hit_rate_percent() == Approx(66.666).epsilon(0.001));
  CHECK(p.step(t0).create == 2);  // refilled in the background
}

TEST_CASE("pool: stale, foreign, broken and surplus members go; a disabled pool empties", "[pool]") {
  Pool p("T", {.enabled = true, .size = 2, .refresh_interval_seconds = 100});
  const Clock::time_point t0{};
  p.observe({member("stale", Member::State::Ready, t0), member("fresh", Member::State::Ready, t0 + 150s),
             member("other", Member::State::Ready, t0 + 150s, "T-old"),
             member("broken", Member::State::Broken, t0 + 150s)});
  Changes c = p.step(t0 + 201s);  // "stale" is 201 s old: over twice the refresh interval
  CHECK(destroyed(c) == std::vector<std::string>{"broken", "other", "stale"});
  CHECK(c.create == 1);
  // Not yet stale at exactly twice the interval.
  CHECK(destroyed(p.step(t0 + 200s)) == std::vector<std::string>{"broken", "other"});

  Pool shrink("T", {.size = 1});
  shrink.observe({member("a", Member::State::Ready, t0), member("b", Member::State::Ready, t0 + 5s),
                  member("c", Member::State::Ready, t0 + 9s)});
  CHECK(destroyed(shrink.step(t0 + 10s)) == std::vector<std::string>{"b", "c"});  // the oldest stays

  Pool off("T", {.enabled = false, .size = 3});
  off.observe({member("a", Member::State::Ready, t0)});
  Changes none = off.step(t0);
  CHECK(destroyed(none) == std::vector<std::string>{"a"});
  CHECK(none.create == 0);
  CHECK(off.stats().target_size == 0);
}

TEST_CASE("pool settings: the seed's defaults, bad values named with their key", "[pool]") {
  Settings d;
  CHECK(d.enabled);
  CHECK(d.size == 5);
  CHECK(d.refresh_interval_seconds == 3600);
  Settings s = Settings::from_json({{"size", 2}, {"enabled", false}}, "x");
  CHECK(s.size == 2);
  CHECK_FALSE(s.enabled);
  CHECK(s.refresh_interval_seconds == 3600);
  CHECK_THROWS_WITH(Settings::from_json({{"size", -1}}, "t.warm_pool"),
                    Catch::StartsWith("t.warm_pool.size: "));
  CHECK_THROWS_WITH(Settings::from_json({{"size", 1.5}}, "t.warm_pool"),
                    Catch::StartsWith("t.warm_pool.size: "));
  CHECK_THROWS_WITH(Settings::from_json({{"enabled", "yes"}}, "w"), Catch::StartsWith("w.enabled: "));
  CHECK_THROWS_WITH(Settings::from_json({{"refresh_interval_seconds", 0}}, "w"),
                    Catch::StartsWith("w.refresh_interval_seconds: "));
  CHECK_THROWS_WITH(Settings::from_json({{"sise", 3}}, "w"), Catch::Contains("w.sise: unknown key"));
  CHECK_THROWS_AS(Settings::from_json(3, "w"), std::invalid_argument);
}
