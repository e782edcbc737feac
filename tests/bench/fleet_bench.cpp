// Engine client benchmark: pause and unpause through the client against the same calls made by
// `curl --unix-socket` (a new process and connection per call), interleaved so that both see the
// same machine load; and how many connections 100 client calls open.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include "support/engine_fixture.hpp"

extern char** environ;

using namespace fleet;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// One curl process making one request; returns its wall time in ms.
double curl_call(const std::string& socket, const std::string& url) {
  std::vector<std::string> args = {"curl",          "-s",   "-o", "/dev/null", "-f", "-X", "POST",
                                   "--unix-socket", socket, url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid;
  if (posix_spawnp(&pid, "curl", nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot run curl");
  int status = 0;
  waitpid(pid, &status, 0);
  double ms = ms_since(start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("curl failed: " + url);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 25;
  test::TestScope scope;
  engine::Client& client = scope.client();
  if (client.endpoint().kind != engine::Endpoint::Kind::Unix) {
    std::cerr << "fleet-bench compares against curl --unix-socket: DOCKER_HOST must be a unix socket\n";
    return 2;
  }
  test::ensure_test_image(client);
  std::string id = scope.run("bench", scope.container_body());
  const std::string socket = client.endpoint().socket_path;
  const std::string base = "http://localhost/v" + client.api_version().str() + "/containers/" + id;

  std::vector<double> client_pause, client_unpause, curl_pause, curl_unpause;
  for (int i = 0; i < rounds; ++i) {
    // Alternate which goes first so neither always follows the other.
    auto by_client = [&] {
      auto t = Clock::now();
      client.pause_container(id);
      client_pause.push_back(ms_since(t));
      t = Clock::now();
      client.unpause_container(id);
      client_unpause.push_back(ms_since(t));
    };
    auto by_curl = [&] {
      curl_pause.push_back(curl_call(socket, base + "/pause"));
      curl_unpause.push_back(curl_call(socket, base + "/unpause"));
    };
    if (i % 2) {
      by_client();
      by_curl();
    } else {
      by_curl();
      by_client();
    }
  }

  engine::Client fresh = test::make_client();
  for (int i = 0; i < 100; ++i) fresh.inspect_container(id);

  std::printf("pause/unpause, %d interleaved rounds, medians in ms\n", rounds);
  std::printf("  %-8s %10s %22s %8s\n", "call", "client", "curl --unix-socket", "ratio");
  std::printf("  %-8s %10.2f %22.2f %8.2f\n", "pause", median(client_pause), median(curl_pause),
              median(curl_pause) / median(client_pause));
  std::printf("  %-8s %10.2f %22.2f %8.2f\n", "unpause", median(client_unpause), median(curl_unpause),
              median(curl_unpause) / median(client_unpause));
  std::printf("connections opened by 100 inspect calls (plus the version ping): %ld\n",
              fresh.connections_opened());
  return 0;
}
