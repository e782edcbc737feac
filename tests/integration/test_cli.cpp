// The binary as a user runs it: exit codes and one-line messages.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/engine_fixture.hpp"

namespace {
struct CliResult {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CliResult run_cli(const std::string& env, const std::string& args) {
  auto dir = std::filesystem::temp_directory_path();
  auto out = dir / ("fleet-cli-" + std::to_string(::getpid()) + ".out");
  auto err = dir / ("fleet-cli-" + std::to_string(::getpid()) + ".err");
  std::string cmd =
      env + " " + FLEET_CLI + " " + args + " >" + out.string() + " 2>" + err.string() + " </dev/null";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}
}  // namespace

TEST_CASE("cli: an engine that does not answer gives one line and exit 1", "[cli]") {
  CliResult r = run_cli("DOCKER_HOST=unix:///tmp/fleet-no-such-docker.sock", "version");
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "llmspell-fleet: cannot reach the Docker engine at unix:///tmp/fleet-no-such-docker.sock: is dockerd "
        "running?\n");
  CliResult tcp = run_cli("DOCKER_HOST=tcp://127.0.0.1:1", "ping");
  CHECK(tcp.code == 1);
  CHECK(tcp.err ==
        "llmspell-fleet: cannot reach the Docker engine at tcp://127.0.0.1:1: is dockerd running?\n");
}

TEST_CASE("cli: a malformed DOCKER_HOST is bad input, named in the message", "[cli]") {
  CliResult r = run_cli("DOCKER_HOST=docker.example:2375", "ping");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("llmspell-fleet: DOCKER_HOST=\"docker.example:2375\" is not valid"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CliResult h = run_cli("", "-H tcp://host:notaport ping");
  CHECK(h.code == 2);
  CHECK_THAT(h.err, Catch::Contains("tcp://host:notaport"));
}

TEST_CASE("cli: version and ping against the real engine", "[cli]") {
  CliResult v = run_cli("", "version");
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Catch::Contains("API in use:"));
  CliResult p = run_cli("", "ping");
  CHECK(p.code == 0);
  CHECK_THAT(p.out, Catch::StartsWith("OK "));
}

TEST_CASE("cli: unknown commands and options are usage errors", "[cli]") {
  CHECK(run_cli("", "no-such-command").code == 2);
  CHECK(run_cli("", "version --no-such-flag").code == 2);
  CHECK(run_cli("", "").code == 2);
}

namespace {
// Kernel containers a bad command could have made: tests running meanwhile label theirs.
std::size_t kernel_containers() {
  fleet::engine::Client client = fleet::test::make_client();
  auto all = client.list_containers({.filters = {{"label", {"dev.llmspell.fleet.kernel=true"}}}});
  return static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [](const auto& c) { return c.labels.count(fleet::test::kSessionLabel) == 0; }));
}
}  // namespace

TEST_CASE("cli: spawn and stop refuse bad input with exit 2 and create nothing", "[cli][kernels]") {
  std::size_t before = kernel_containers();
  struct Case {
    const char* args;
    const char* message;
  } cases[] = {
      {"spawn default.toml python", "language \"python\" is not supported"},
      {"spawn no-such.toml lua", "config no-such.toml not found"},
      {"spawn ../etc/passwd lua", "must be a plain file name"},
      {"spawn default.toml lua --memory 512q", "--memory \"512q\" is not a size"},
      {"spawn default.toml lua --memory 1m", "memory must be at least 6 MiB"},
      {"spawn default.toml lua --cpus 0", "cpus must be more than 0"},
      {"spawn default.toml lua --label dev.llmspell.fleet.kernel=false", "reserved prefix"},
      {"spawn default.toml lua --label novalue", "is not KEY=VALUE"},
      {"stop kernel-doesnotexist", "no such kernel: kernel-doesnotexist"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    CliResult r = run_cli("", c.args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
  }
  CHECK(kernel_containers() == before);
}

TEST_CASE("cli: a misspelled command is named, with the nearest one", "[cli]") {
  CliResult r = run_cli("", "spwan");
  CHECK(r.code == 2);
  CHECK(r.err ==
        "llmspell-fleet: unknown command \"spwan\"; did you mean \"spawn\"? (llmspell-fleet --help lists "
        "them)\n");
  CliResult after_options = run_cli("", "-p demo --profile dev stopall");
  CHECK(after_options.code == 2);
  CHECK_THAT(after_options.err, Catch::Contains("did you mean \"stop-all\"?"));
  CliResult far = run_cli("", "deploy");
  CHECK(far.code == 2);
  CHECK_THAT(far.err, Catch::Contains("unknown command \"deploy\"") && !Catch::Contains("did you mean"));
}

TEST_CASE("cli: a profile no service uses is a warning naming the known ones", "[cli]") {
  CliResult r =
      run_cli("", "-f " FLEET_SOURCE_DIR "/compose/docker-compose.yml --profile devv config --services");
  CHECK(r.code == 0);
  CHECK(r.out == "kernel-lua-anthropic\nkernel-lua-openai\n");
  CHECK_THAT(r.err,
             Catch::Contains("warning: Profile devv: no service uses it (known profiles: dev, javascript, "
                             "manager, registry)"));
}
