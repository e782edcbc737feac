// What every integration test shares: a client for the real engine, a label namespace per test
// that is removed before and after (even when the test fails), the reaper for dead test runs, and
// the offline test image.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/client.hpp"
#include "fleet/reaper.hpp"

namespace fleet::test {

inline constexpr const char* kTestImage = "llmspell-fleet-test:latest";
inline constexpr const char* kSessionLabel = fleet::kTestSessionLabel;
inline constexpr const char* kPidLabel = fleet::kTestPidLabel;
inline constexpr const char* kExpiresLabel = fleet::kTestExpiresLabel;

// A fresh client from DOCKER_HOST (one per call: tests that count connections need their own).
engine::Client make_client();

// Everything a test creates carries labels(); the destructor removes every container, network and
// volume carrying them, so a failing REQUIRE still cleans up.
class TestScope {
 public:
  TestScope();
  ~TestScope();
  TestScope(const TestScope&) = delete;
  TestScope& operator=(const TestScope&) = delete;

  engine::Client& client() { return client_; }
  const std::string& id() const { return id_; }
  engine::Labels labels() const;
  // A name unique to this scope, e.g. "t1234-5678-web".
  std::string name(const std::string& suffix) const;
  engine::Filters label_filter() const;
  // A create body for the test image with this scope's labels and the security baseline.
  nlohmann::json container_body(const std::vector<std::string>& cmd = {}) const;
  // create + start; returns the id.
  std::string run(const std::string& name_suffix, const nlohmann::json& body);
  // Removes everything carrying this scope's labels; returns how many objects it removed.
  int remove_all();

 private:
  engine::Client client_;
  std::string id_;
};

// Removes containers, networks and volumes of test runs whose process is gone or whose expiry passed.
int reap_dead_test_runs(engine::Client& client);
// Builds kTestImage from docker/test-image (plus the host's static busybox) unless an image built
// from the same context exists.
void ensure_test_image(engine::Client& client);

// Polls `done` every 50 ms until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace fleet::test
