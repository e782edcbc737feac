// The seams and small helpers: the manual clock, poll_until, typo suggestions.
#include <catch2/catch.hpp>

#include "util/clock.hpp"
#include "util/poll.hpp"
#include "util/suggest.hpp"

using namespace fleet::util;
using namespace std::chrono_literals;

TEST_CASE("poll_until on a manual clock: no real waiting, the deadline respected", "[poll]") {
  ManualClock clock;
  auto start = clock.now();
  int calls = 0;
  CHECK(poll_until([&] { return ++calls == 4; }, {.timeout = 10s, .interval = 100ms, .clock = &clock}));
  CHECK(calls == 4);
  CHECK(clock.now() - start == 300ms);

  calls = 0;
  auto before = clock.now();
  CHECK_FALSE(
      poll_until([&] { return ++calls, false; }, {.timeout = 1s, .interval = 300ms, .clock = &clock}));
  CHECK(clock.now() - before == 1s);  // 300, 600, 900, then the last 100 ms: never past the deadline
  CHECK(calls == 5);                  // the first try, three waits, and once more at the deadline

  CHECK_THROWS_AS(poll_until([]() -> bool { throw std::runtime_error("never"); }, {.clock = &clock}),
                  std::runtime_error);
}

TEST_CASE("typo suggestions: the nearest command, or none when nothing is close", "[suggest]") {
  std::vector<std::string> commands = {"spawn", "stop", "stop-all", "list", "logs", "find", "metrics", "up"};
  CHECK(nearest("spwan", commands) == "spawn");
  CHECK(nearest("lsit", commands) == "list");
  CHECK(nearest("stopall", commands) == "stop-all");
  CHECK(nearest("metric", commands) == "metrics");
  CHECK(nearest("deploy", commands).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("ab", "ba") == 1);
  CHECK(edit_distance("", "abc") == 3);
}
