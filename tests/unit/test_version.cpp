#include <catch2/catch.hpp>

#include "engine/errors.hpp"
#include "engine/version.hpp"

using namespace fleet::engine;

TEST_CASE("API versions parse and compare numerically", "[version]") {
  auto v = ApiVersion::parse("1.41");
  REQUIRE(v);
  CHECK(v->major == 1);
  CHECK(v->minor == 41);
  CHECK(v->str() == "1.41");
  CHECK(*ApiVersion::parse("1.9") < *ApiVersion::parse("1.10"));
  for (const char* bad : {"", "1", "1.", ".41", "1.x", "v1.41", "1.41.2", "-1.3"})
    CHECK_FALSE(ApiVersion::parse(bad));
}

TEST_CASE("negotiation takes the older of client and daemon, never below the minimum", "[version]") {
  ApiVersion newest{1, 43}, minimum{1, 41};
  CHECK(negotiate_api_version(ApiVersion{1, 41}, newest, minimum) == ApiVersion{1, 41});
  CHECK(negotiate_api_version(ApiVersion{1, 42}, newest, minimum) == ApiVersion{1, 42});
  CHECK(negotiate_api_version(ApiVersion{1, 47}, newest, minimum) == ApiVersion{1, 43});
  CHECK(negotiate_api_version(ApiVersion{2, 0}, newest, minimum) == ApiVersion{1, 43});
  CHECK(negotiate_api_version(std::nullopt, newest, minimum) == ApiVersion{1, 41});
  CHECK_THROWS_AS(negotiate_api_version(ApiVersion{1, 40}, newest, minimum), UnsupportedEngineError);
  CHECK_THROWS_WITH(negotiate_api_version(ApiVersion{1, 24}, newest, minimum),
                    Catch::Contains("1.24") && Catch::Contains("1.41"));
}
