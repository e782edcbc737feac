// The ctest fixture every integration test requires (see tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"

using namespace fleet;

TEST_CASE("engine ready: dead test runs reaped, offline test image built", "[setup]") {
  engine::Client client = test::make_client();
  test::reap_dead_test_runs(client);
  test::ensure_test_image(client);
  engine::ImageInspect image = client.inspect_image(test::kTestImage);
  CHECK(image.user == "1000:1000");
  CHECK_FALSE(image.healthcheck.is_null());
  CHECK(client.list_containers({.filters = {{"label", {test::kSessionLabel}}}}).empty());
}
