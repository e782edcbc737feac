// Compose operations against the real engine: up, converge, scale, recreate, profiles, ps, logs,
// health, shell, down; interop with Debian's docker-compose; kill -9 in the middle; bad files.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "fleet/fleet.hpp"
#include "fleet/labels.hpp"
#include "fleet/reaper.hpp"
#include "support/engine_fixture.hpp"

extern char** environ;

using namespace fleet;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kTestFile = FLEET_SOURCE_DIR "/tests/compose/good/fleet-test.yml";

// A project of its own per test: a temp folder holding the test compose file and a fleet home, the
// test run's labels in the environment, and everything removed at the end whatever happened. The
// operations are called through the fleet's door, as the CLI calls them.
class ComposeScope {
 public:
  ComposeScope() : dir_(std::filesystem::temp_directory_path() / scope_.id()) {
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(kTestFile, file());
    auto labels = scope_.labels();
    ::setenv("FLEET_TEST_SESSION", labels.at(test::kSessionLabel).c_str(), 1);
    ::setenv("FLEET_TEST_PID", labels.at(test::kPidLabel).c_str(), 1);
    ::setenv("FLEET_TEST_EXPIRES", labels.at(test::kExpiresLabel).c_str(), 1);
    ::setenv("LLMSPELL_FLEET_HOME", (dir_ / "home").c_str(), 1);
  }
  ~ComposeScope() {
    try {
      remove_labelled(scope_.client(), {{"label", {std::string(labels::kComposeProject) + "=" + name()}}});
    } catch (const std::exception&) {
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string name() const { return scope_.id(); }
  std::filesystem::path file() const { return dir_ / "docker-compose.yml"; }
  engine::Client& client() { return scope_.client(); }
  // A fresh door each time: it reads the compose file (and the environment) when first asked.
  std::unique_ptr<Fleet> fleet() {
    return std::make_unique<Fleet>(FleetOptions{.compose_file = file().string(), .project_name = name()});
  }
  std::vector<engine::ContainerSummary> containers(const std::string& service = "") {
    std::vector<engine::ContainerSummary> out;
    auto all = client().list_containers(
        {.all = true, .filters = {{"label", {std::string(labels::kComposeProject) + "=" + name()}}}});
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
    for (const auto& c : all)
      if (service.empty() || c.labels.at(labels::kComposeService) == service) out.push_back(c);
    return out;
  }
  std::set<int> numbers(const std::string& service) {
    std::set<int> n;
    for (const auto& c : containers(service)) n.insert(std::stoi(c.labels.at(labels::kComposeNumber)));
    return n;
  }

 private:
  test::TestScope scope_;
  std::filesystem::path dir_;
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

struct Run {
  int code;
  std::string out;
};

Run run_cli(const std::string& args) {
  std::string cmd = std::string(FLEET_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

pid_t start_cli(const std::vector<std::string>& args) {
  std::vector<std::string> all = {FLEET_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  posix_spawn(&pid, FLEET_CLI, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace

TEST_CASE("compose up: limits, health, labels and names as compose sets them, then nothing to do",
          "[compose-up]") {
  ComposeScope s;
  UpReport first = s.fleet()->up({.wait = true, .wait_timeout = 60s});
  CHECK(first.services == std::vector<std::string>{"web", "worker"});
  auto web = s.containers("web");
  REQUIRE(web.size() == 1);
  REQUIRE(s.containers("worker").size() == 1);
  CHECK(s.containers("extra").empty());  // profile off
  engine::ContainerInspect i = s.client().inspect_container(web[0].id);
  CHECK(i.name == s.name() + "-web-1");
  CHECK(i.memory == 67108864);
  CHECK(i.nano_cpus == 500000000);
  CHECK(i.pids_limit == 64);
  CHECK(i.raw["Config"]["Healthcheck"]["Interval"] == 1000000000);
  CHECK(i.raw["Config"]["Healthcheck"]["Timeout"] == 2000000000);
  CHECK(i.state.health.value().status == "healthy");
  CHECK(i.labels.at(labels::kComposeProject) == s.name());
  CHECK(i.labels.at(labels::kComposeService) == "web");
  CHECK(i.labels.at(labels::kComposeNumber) == "1");
  CHECK(i.labels.at(labels::kComposeOneoff) == "False");
  CHECK(i.labels.at(labels::kComposeConfigFiles) == s.file().string());
  CHECK(i.labels.at(labels::kComposeConfigHash).size() == 64);
  CHECK(i.cap_drop == std::vector<std::string>{"ALL"});
  auto networks =
      s.client().list_networks({{"label", {std::string(labels::kComposeProject) + "=" + s.name()}}});
  REQUIRE(networks.size() == 1);
  CHECK(networks[0].name == s.name() + "_default");
  CHECK(networks[0].labels.at(labels::kComposeNetwork) == "default");

  UpReport second = s.fleet()->up({});
  CHECK(second.steps.empty());
  CHECK(s.containers("web")[0].id == web[0].id);
}

TEST_CASE("compose scale: up to 3 and back to 1 keeps the lowest number", "[compose-scale]") {
  ComposeScope s;
  s.fleet()->up({.names = {"web"}});
  s.fleet()->scale({.replicas = {{"web", 3}}});
  CHECK(s.numbers("web") == std::set<int>{1, 2, 3});
  std::string first_id;
  for (const auto& c : s.containers("web"))
    if (c.labels.at(labels::kComposeNumber) == "1") first_id = c.id;
  s.fleet()->scale({.replicas = {{"web", 1}}});
  auto left = s.containers("web");
  REQUIRE(left.size() == 1);
  CHECK(left[0].id == first_id);
  CHECK(s.containers("worker").empty());  // scale web does not bring up what does not depend on it
}

TEST_CASE("compose recreate: a changed setting replaces the container under the same name", "[compose-up]") {
  ComposeScope s;
  s.fleet()->up({.names = {"web"}});
  std::string before = s.containers("web").at(0).id;
  ::setenv("TEST_MEMORY", "96m", 1);
  UpReport r = s.fleet()->up({.names = {"web"}});
  ::unsetenv("TEST_MEMORY");
  CHECK(joined(r.steps) == "recreate container " + s.name() + "-web-1 (configuration changed)\n");
  auto after = s.containers("web");
  REQUIRE(after.size() == 1);
  CHECK(after[0].id != before);
  CHECK(after[0].name() == s.name() + "-web-1");
  CHECK(s.client().inspect_container(after[0].id).memory == 96 * 1024 * 1024);
}

TEST_CASE("compose profiles: up NAME adds a profile's services, and down removes every profile's",
          "[compose-up]") {
  ComposeScope s;
  s.fleet()->up({});
  s.fleet()->up({.names = {"extras"}});
  CHECK(s.containers("extra").size() == 1);
  CHECK(s.containers("web").size() == 1);
  s.client().pause_container(s.containers("extra").at(0).id);
  DownReport d = s.fleet()->down({.timeout = 5});
  CHECK(d.containers == 3);
  CHECK(d.networks == 1);
  CHECK(s.containers().empty());
}

TEST_CASE("compose ps, logs, health and shell see the running project", "[compose-ops]") {
  ComposeScope s;
  auto fleet = s.fleet();
  fleet->up({.names = {"web"}, .wait = true, .wait_timeout = 60s});
  auto rows = fleet->ps(false);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].service == "web");
  CHECK(rows[0].state == "running");
  CHECK(rows[0].health == "healthy");
  CHECK(rows[0].memory == 67108864);
  CHECK(rows[0].cpus == Approx(0.5));
  CHECK(rows[0].uptime_seconds >= 0);
  CHECK_THAT(rows[0].ports, Catch::Contains("->8080/tcp"));

  std::vector<std::string> lines;
  fleet->logs({.names = {"web"}}, [&](const std::string& container, Stream, std::string_view line) {
    CHECK(container == s.name() + "-web-1");
    lines.emplace_back(line);
  });
  CHECK(std::find(lines.begin(), lines.end(), "test workload ready") != lines.end());

  auto h = fleet->health({"web"});
  REQUIRE(h.size() == 1);
  CHECK(h[0].ok);
  REQUIRE(h[0].probes.size() == 1);
  CHECK(h[0].probes[0].ok);
  CHECK(h[0].probes[0].container_port == 8080);

  std::string out;
  int code = fleet->shell({.target = "web", .command = {"/bin/sh", "-c", "id -u; exit 5"}},
                          [&](Stream, std::string_view data) {
                            out.append(data);
                            return true;
                          });
  CHECK(code == 5);
  CHECK(out == "1000\n");

  // stdin attached (as an interactive shell without a terminal)
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  std::string script = "echo from-stdin; exit 3\n";
  REQUIRE(::write(pipe_fds[1], script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  ::close(pipe_fds[1]);
  std::string interactive;
  code = fleet->shell({.target = "web", .stdin_fd = pipe_fds[0]}, [&](Stream, std::string_view data) {
    interactive.append(data);
    return true;
  });
  ::close(pipe_fds[0]);
  CHECK(code == 3);
  CHECK(interactive == "from-stdin\n");
}

TEST_CASE("cli shell runs a command with its options and returns its exit code", "[compose-cli]") {
  ComposeScope s;
  s.fleet()->up({.names = {"web"}});
  const std::string base = "-p " + s.name() + " -f " + s.file().string() + " ";
  Run r = run_cli(base + "shell web ls -d /www");
  CHECK(r.code == 0);
  CHECK(r.out == "/www\n");
  Run code = run_cli(base + "shell --index 1 web sh -c 'exit 6'");
  CHECK(code.code == 6);
  Run missing = run_cli(base + "shell --index 2 web true");
  CHECK(missing.code == 2);
  CHECK_THAT(missing.out, Catch::Contains("has no container number 2"));
}

TEST_CASE("compose follow: logs -f picks up a replica that starts later", "[compose-ops]") {
  ComposeScope s;
  s.fleet()->up({.names = {"web"}});
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::set<std::string> seen;
  std::thread follower([&] {
    s.fleet()->logs({.names = {"web"}, .follow = true, .cancel = &cancel},
                    [&](const std::string& container, Stream, std::string_view) {
                      std::lock_guard lock(mu);
                      seen.insert(container);
                    });
  });
  std::this_thread::sleep_for(500ms);
  s.fleet()->scale({.replicas = {{"web", 2}}});
  bool both = test::wait_until(
      [&] {
        std::lock_guard lock(mu);
        return seen.count(s.name() + "-web-2") > 0;
      },
      20s);
  cancel = true;
  follower.join();
  CHECK(both);
}

TEST_CASE("compose interop: Debian's docker-compose ps lists the fleet's containers", "[compose-interop]") {
  ComposeScope s;
  s.fleet()->up({.names = {"web"}});
  std::string cmd = "docker-compose -p " + s.name() + " -f " + s.file().string() + " ps 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  CHECK(::pclose(p) == 0);
  CHECK_THAT(out, Catch::Contains(s.name() + "-web-1") && Catch::Contains("Up"));
}

TEST_CASE("kill -9 in the middle of up or scale, then the same command: exactly what was asked",
          "[compose-crash]") {
  ComposeScope s;
  for (const auto& args : std::vector<std::vector<std::string>>{{"up", "load"}, {"scale", "busy", "12"}}) {
    const int want = args[0] == "up" ? 6 : 12;
    INFO(args[0]);
    std::vector<std::string> full = {"-f", s.file().string(), "-p", s.name()};
    full.insert(full.end(), args.begin(), args.end());
    std::size_t before = s.containers("busy").size();
    pid_t child = start_cli(full);
    REQUIRE(child > 0);
    // Kill as soon as the first new busy container exists.
    // A tight poll: the kill must land while the command is still working.
    std::size_t running_at_kill = 0;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (true) {
      auto busy = s.containers("busy");
      running_at_kill = static_cast<std::size_t>(
          std::count_if(busy.begin(), busy.end(), [](const auto& c) { return c.state == "running"; }));
      if (busy.size() > before) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(5ms);
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    INFO("busy containers running when killed: " << running_at_kill);
    CHECK(running_at_kill < static_cast<std::size_t>(want));  // the kill did land in the middle

    std::string again;
    for (const auto& a : full) again += " '" + a + "'";
    Run rerun = run_cli(again);
    INFO(rerun.out);
    REQUIRE(rerun.code == 0);
    auto busy = s.containers("busy");
    CHECK(busy.size() == static_cast<std::size_t>(want));
    std::set<int> expected;
    for (int n = 1; n <= want; ++n) expected.insert(n);
    CHECK(s.numbers("busy") == expected);
    for (const auto& c : busy) CHECK(c.state == "running");
    CHECK(s.containers("web").size() == 1);
  }
}

TEST_CASE("cli: bad compose files and unknown names exit 2 and create nothing", "[compose-cli]") {
  engine::Client client = test::make_client();
  // Other tests run meanwhile: count only what these projects could have created.
  auto count = [&] {
    std::size_t n = 0;
    for (const char* project : {"badcli", "nosuchproject"}) {
      engine::Filters mine{{"label", {std::string(labels::kComposeProject) + "=" + project}}};
      n += client.list_containers({.all = true, .filters = mine}).size() + client.list_networks(mine).size() +
           client.list_volumes(mine).size();
    }
    return n;
  };
  REQUIRE(count() == 0);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(FLEET_SOURCE_DIR "/tests/compose/bad")) {
    INFO(e.path().filename().string());
    Run r = run_cli("-p badcli -f '" + e.path().string() + "' up");
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::StartsWith("llmspell-fleet: " + e.path().string()));
    ++files;
  }
  CHECK(files >= 25);
  ComposeScope s;
  Run unknown = run_cli("-p " + s.name() + " -f " + s.file().string() + " up nosuch");
  CHECK(unknown.code == 2);
  CHECK(unknown.out == "llmspell-fleet: no such service or profile: nosuch\n");
  Run scale_unknown = run_cli("-p " + s.name() + " -f " + s.file().string() + " scale nosuch 2");
  CHECK(scale_unknown.code == 2);
  // A read-only bind of a file that is not there: refused before anything is created.
  std::ofstream(s.file().parent_path() / "typo.yml")
      << "services:\n  web:\n    image: llmspell-fleet-test:latest\n    volumes:\n"
         "      - ./configs/opnai.toml:/etc/llmspell/config.toml:ro\n";
  Run typo = run_cli("-p badcli -f " + (s.file().parent_path() / "typo.yml").string() + " up");
  CHECK(typo.code == 2);
  CHECK_THAT(typo.out,
             Catch::Contains(":4: services.web.volumes: ") && Catch::Contains("opnai.toml does not exist"));
  CHECK_FALSE(std::filesystem::exists(s.file().parent_path() / "configs"));
  // The fleet's own settings under x-fleet (autoscaling, warm pool, drain) are checked as strictly.
  for (const auto& [setting, message] : std::vector<std::pair<std::string, std::string>>{
           {"{autoscaling: true, min_replicas: 3, max_replicas: 2}", "services.web.x-fleet.min_replicas"},
           {"{target_cpu_utilization: 150}",
            "services.web.x-fleet.target_cpu_utilization: must be a percentage"},
           {"{autoscale: true}", "services.web.x-fleet.autoscale"},
           {"{kernel: true, warm_pool: {size: -1}}", "services.web.x-fleet.warm_pool.size"},
           {"{warm_pool: {size: 2}}", "services.web.x-fleet.warm_pool: only a kernel service"},
           {"{autoscaling: true}", "services.web.x-fleet.autoscaling: only a kernel service"},
           {"{graceful_drain: {timeout_seconds: \"soon\"}}",
            "services.web.x-fleet.graceful_drain.timeout_seconds"}}) {
    INFO(setting);
    std::ofstream(s.file().parent_path() / "xfleet.yml")
        << "services:\n  web:\n    image: llmspell-fleet-test:latest\n    x-fleet: " << setting << "\n";
    Run bad = run_cli("-p badcli -f " + (s.file().parent_path() / "xfleet.yml").string() + " up");
    CHECK(bad.code == 2);
    CHECK_THAT(bad.out,
               Catch::StartsWith("llmspell-fleet: " + (s.file().parent_path() / "xfleet.yml").string()) &&
                   Catch::Contains(message));
  }
  // Two replicas of a service with a fixed container name, asked for on the command line.
  std::ofstream(s.file().parent_path() / "named.yml")
      << "services:\n  web:\n    image: llmspell-fleet-test:latest\n    container_name: badcli-named\n";
  Run named =
      run_cli("-p badcli -f " + (s.file().parent_path() / "named.yml").string() + " up --scale web=2");
  CHECK(named.code == 2);
  CHECK_THAT(named.out, Catch::Contains("fixed container_name: it cannot have 2 replicas"));
  Run missing = run_cli("-p nosuchproject -f /nonexistent/compose.yml up");
  CHECK(missing.code == 2);
  CHECK(count() == 0);
  CHECK(s.containers().empty());
}

TEST_CASE("cli config --services on the shipped file follows the profile rules", "[compose-cli]") {
  const std::string f = "-f " FLEET_SOURCE_DIR "/compose/docker-compose.yml ";
  auto run_env = [&](const std::string& env, const std::string& args) {
    std::string cmd = env + " " + FLEET_CLI + " " + f + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    return out;
  };
  CHECK(run_env("", "config --services") == "kernel-lua-anthropic\nkernel-lua-openai\n");
  CHECK(run_env("", "--profile dev config --services") ==
        "kernel-dev\nkernel-lua-anthropic\nkernel-lua-openai\n");
  CHECK(run_env("COMPOSE_PROFILES=dev", "config --services") ==
        run_env("", "config --services --profile dev"));
  CHECK(run_env("COMPOSE_PROFILES=dev", "--profile javascript config --services") ==
        "kernel-javascript\nkernel-lua-anthropic\nkernel-lua-openai\n");
  CHECK(run_env("", "--profile '*' config --services").size() ==
        std::string("fleet-manager\nfleet-registry\nkernel-dev\nkernel-javascript\nkernel-lua-anthropic\n"
                    "kernel-lua-openai\n")
            .size());
  CHECK(run_env("", "config --profiles") == "dev\njavascript\nmanager\nregistry\n");
  auto json = nlohmann::json::parse(run_env("", "config --json"));
  CHECK(json["name"] == "llmspell");
  CHECK(json["services"]["kernel-lua-openai"]["mem_limit"] ==
        "536870912");  // compose prints bytes as strings
  // YAML by default, name first as `docker compose config` prints it.
  std::string yaml = run_env("", "config");
  CHECK(yaml.rfind("name: llmspell\nservices:\n", 0) == 0);
  CHECK_THAT(yaml, Catch::Contains("mem_limit: \"536870912\""));
}

TEST_CASE("clean removes the project's containers, networks and volumes", "[compose-ops]") {
  ComposeScope s;
  s.fleet()->up({.names = {"web"}});
  REQUIRE(s.containers().size() == 1);
  CleanReport r = s.fleet()->clean();
  CHECK(r.down.containers == 1);
  CHECK(r.down.networks == 1);
  CHECK(s.containers().empty());
}
