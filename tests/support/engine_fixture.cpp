#include "support/engine_fixture.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <random>

#include "fleet/reaper.hpp"
#include "util/poll.hpp"
#include "util/tar.hpp"

namespace fleet::test {
namespace {

std::string new_scope_id() {
  std::random_device rd;
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
}

std::uint64_t fnv1a(const std::string& data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

engine::Client make_client() {
  return engine::Client::from_environment();
}

TestScope::TestScope() : client_(make_client()), id_(new_scope_id()) {
  remove_all();
}

TestScope::~TestScope() {
  try {
    remove_all();
  } catch (const std::exception&) {
    // A destructor must not throw; the reaper removes what is left on the next run.
  }
}

engine::Labels TestScope::labels() const {
  return {{kSessionLabel, id_},
          {kPidLabel, std::to_string(::getpid())},
          {kExpiresLabel, std::to_string(std::time(nullptr) + 3600)}};
}

std::string TestScope::name(const std::string& suffix) const {
  return id_ + "-" + suffix;
}

engine::Filters TestScope::label_filter() const {
  return {{"label", {std::string(kSessionLabel) + "=" + id_}}};
}

nlohmann::json TestScope::container_body(const std::vector<std::string>& cmd) const {
  nlohmann::json body = {{"Image", kTestImage},
                         {"Labels", labels()},
                         {"HostConfig",
                          {{"Memory", 64 * 1024 * 1024},
                           {"NanoCpus", 500'000'000},
                           {"PidsLimit", 64},
                           {"CapDrop", {"ALL"}},
                           {"SecurityOpt", {"no-new-privileges:true"}}}}};
  if (!cmd.empty()) body["Cmd"] = cmd;
  return body;
}

std::string TestScope::run(const std::string& name_suffix, const nlohmann::json& body) {
  std::string id = client_.create_container(name(name_suffix), body).id;
  client_.start_container(id);
  return id;
}

int TestScope::remove_all() {
  return fleet::remove_labelled(client_, label_filter());
}

int reap_dead_test_runs(engine::Client& client) {
  return fleet::reap_dead_test_runs(client);
}

void ensure_test_image(engine::Client& client) {
  namespace fs = std::filesystem;
  util::TarWriter context;
  context.add_tree(fs::path(FLEET_SOURCE_DIR) / "docker" / "test-image");
  context.add_host_file("/bin/busybox", "busybox");
  std::string tar = context.finish();
  std::string hash = std::to_string(fnv1a(tar));
  try {
    auto image = client.inspect_image(kTestImage);
    if (image.labels.count("dev.llmspell.fleet-test.context") &&
        image.labels.at("dev.llmspell.fleet-test.context") == hash)
      return;
  } catch (const engine::NotFoundError&) {
  }
  client.build_image(tar, {.tag = kTestImage, .labels = {{"dev.llmspell.fleet-test.context", hash}}});
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  return util::poll_until(done, {.timeout = timeout, .interval = std::chrono::milliseconds(50)});
}

}  // namespace fleet::test
