#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"
#include "util/tar.hpp"

using namespace fleet;
using namespace std::chrono_literals;

TEST_CASE("build from a tar context streams progress and labels the image", "[images]") {
  test::TestScope scope;
  auto& client = scope.client();
  util::TarWriter context;
  context.add_file("Dockerfile", std::string("FROM ") + test::kTestImage +
                                     "\nLABEL fleet.test.built=yes\nRUN echo build-marker-$((6*7))\n");
  std::vector<std::string> progress;
  std::string tag = "llmspell-fleet-test-build:" + scope.id();
  std::string id = client.build_image(context.finish(), {.tag = tag, .labels = scope.labels()},
                                      [&](std::string_view line) { progress.emplace_back(line); });
  CHECK_THAT(id, Catch::StartsWith("sha256:"));
  auto has = [&](const std::string& text) {
    return std::any_of(progress.begin(), progress.end(),
                       [&](const auto& l) { return l.find(text) != std::string::npos; });
  };
  CHECK(has("Step 1/"));  // the labels option adds a LABEL step of its own
  CHECK(has("build-marker-42"));
  engine::ImageInspect image = client.inspect_image(tag);
  CHECK(image.id == id);
  CHECK(image.labels.at("fleet.test.built") == "yes");
  CHECK(image.labels.at(test::kSessionLabel) == scope.id());
}

TEST_CASE("a failing build step surfaces as a build error with the daemon's words", "[images]") {
  test::TestScope scope;
  auto& client = scope.client();
  util::TarWriter context;
  context.add_file("Dockerfile", std::string("FROM ") + test::kTestImage + "\nRUN exit 3\n");
  try {
    client.build_image(context.finish(),
                       {.tag = "llmspell-fleet-test-fail:" + scope.id(), .labels = scope.labels()});
    FAIL("the build succeeded");
  } catch (const engine::BuildError& e) {
    CHECK_THAT(e.daemon_message(), Catch::Contains("non-zero code: 3"));
  }
  util::TarWriter missing_base;
  missing_base.add_file("Dockerfile", "FROM no-such-base-image-for-fleet-tests:none\n");
  CHECK_THROWS_AS(client.build_image(missing_base.finish(), {.tag = "x-fleet-never:" + scope.id()}),
                  engine::EngineError);
}

TEST_CASE("a rootfs tar imports as an image that runs", "[images]") {
  test::TestScope scope;
  auto& client = scope.client();
  util::TarWriter rootfs;
  rootfs.add_host_file("/bin/busybox", "bin/busybox");
  rootfs.add_symlink("bin/sh", "busybox");
  rootfs.add_symlink("bin/echo", "busybox");
  std::string reference = "llmspell-fleet-test-import:" + scope.id();
  std::string id = client.import_image(
      rootfs.finish(), reference,
      {"LABEL " + std::string(test::kSessionLabel) + "=" + scope.id(), "CMD [\"/bin/echo\", \"imported\"]"});
  CHECK_THAT(id, Catch::StartsWith("sha256:"));
  engine::ImageInspect image = client.inspect_image(reference);
  CHECK(image.id == id);
  auto listed = client.list_images({{"reference", {reference}}});
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == id);
  CHECK(listed[0].repo_tags == std::vector<std::string>{reference});

  nlohmann::json body = {{"Image", reference}, {"Labels", scope.labels()}};
  std::string container = scope.run("imported", body);
  REQUIRE(client.wait_container(container, "not-running", 30s).status_code == 0);
  std::string out;
  client.container_logs(container, {}, [&](const engine::OutputChunk& c) {
    out.append(c.data);
    return true;
  });
  CHECK(out == "imported\n");

  client.remove_container(container, {.force = true});
  client.remove_image(reference);
  CHECK_THROWS_AS(client.inspect_image(reference), engine::NotFoundError);
}
