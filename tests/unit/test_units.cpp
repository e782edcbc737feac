#include <catch2/catch.hpp>

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
