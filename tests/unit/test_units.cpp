#include <catch2/catch.hpp>

#include "util/durations.hpp"
#include "util/units.hpp"

using fleet::util::parse_size;

TEST_CASE("sizes use binary units, any case, optional b", "[units]") {
  CHECK(parse_size("512m") == 536870912);
  CHECK(parse_size("512M") == 536870912);
  CHECK(parse_size("512mb") == 536870912);
  CHECK(parse_size("2g") == 2147483648);
  CHECK(parse_size("1.5g") == 1610612736);
  CHECK(parse_size("1024k") == 1048576);
  CHECK(parse_size("100") == 100);
  CHECK(parse_size("100b") == 100);
  for (const char* bad :
       {"", "m", "512q", "-1m", "1.5", "1..5m", ".5g", "5.g", "12 m", "1e3", "99999999999g"}) {
    INFO(bad);
    CHECK_FALSE(parse_size(bad));
  }
}

TEST_CASE("durations print as Go's time.Duration does and read back", "[units]") {
  using fleet::util::format_duration;
  using fleet::util::parse_duration;
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(1) == "1ns");
  CHECK(format_duration(1'500) == "1.5\xC2\xB5s");
  CHECK(format_duration(500'000'000) == "500ms");
  CHECK(format_duration(1'500'000) == "1.5ms");
  CHECK(format_duration(1'000'000'000) == "1s");
  CHECK(format_duration(1'500'000'000) == "1.5s");
  CHECK(format_duration(30'000'000'000) == "30s");
  CHECK(format_duration(90'000'000'000) == "1m30s");
  CHECK(format_duration(60'000'000'000) == "1m0s");
  CHECK(format_duration(3'600'000'000'000) == "1h0m0s");
  CHECK(format_duration(5'400'500'000'000) == "1h30m0.5s");
  CHECK(format_duration(-2'000'000'000) == "-2s");
  for (std::int64_t ns : {1LL, 1'500LL, 1'500'000LL, 500'000'000LL, 90'000'000'000LL, 5'400'500'000'000LL})
    CHECK(parse_duration(format_duration(ns)) == ns);
}
