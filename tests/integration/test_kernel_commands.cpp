// The seed's kernel commands, as a user runs them, on spawned kernels and on kernels of a compose
// project side by side, against the real engine. Each test has its own fleet home and project name;
// everything it creates carries its session labels and is removed at the end, whatever happened.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "fleet/labels.hpp"
#include "fleet/reaper.hpp"
#include "support/engine_fixture.hpp"

using namespace fleet;
using namespace std::chrono_literals;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fleet home and a compose project of the test's own; the CLI runs with them.
class KernelScope {
 public:
  KernelScope() : dir_(std::filesystem::temp_directory_path() / ("kernels-" + scope_.id())) {
    std::filesystem::create_directories(dir_);
  }
  ~KernelScope() {
    try {
      remove_labelled(scope_.client(), scope_.label_filter());
      remove_labelled(scope_.client(), {{"label", {std::string(labels::kComposeProject) + "=" + project()}}});
    } catch (const std::exception&) {
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path home() const { return dir_ / "home"; }
  std::string project() const { return scope_.id(); }
  engine::Client& client() { return scope_.client(); }

  // The CLI with this scope's home (and `env`, "NAME=value ...").
  Run cli(const std::string& args, const std::string& env = "") {
    static std::atomic<int> n{0};
    int i = ++n;
    auto out = dir_ / ("out" + std::to_string(i)), err = dir_ / ("err" + std::to_string(i));
    std::string cmd = env + " LLMSPELL_FLEET_HOME=" + home().string() + " " + FLEET_CLI + " " + args + " >" +
                      out.string() + " 2>" + err.string() + " </dev/null";
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }
  std::string test_labels() const {
    std::string out;
    for (const auto& [k, v] : scope_.labels()) out += " --label " + k + "=" + v;
    return out;
  }
  nlohmann::json spawn(const std::string& args = "") {
    Run r = cli("spawn " + args + " --json" + test_labels());
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r.json();
  }
  // The shipped compose file under this test's project name: the user's real kernels, in a
  // project of their own.
  std::string compose(const std::string& args) {
    return "-f " FLEET_SOURCE_DIR "/compose/docker-compose.yml -p " + project() + " " + args;
  }
  std::vector<engine::ContainerSummary> project_containers() {
    return client().list_containers(
        {.all = true, .filters = {{"label", {std::string(labels::kComposeProject) + "=" + project()}}}});
  }
  bool exists(const std::string& id) {
    try {
      client().inspect_container(id);
      return true;
    } catch (const engine::NotFoundError&) {
      return false;
    }
  }

 private:
  test::TestScope scope_;
  std::filesystem::path dir_;
};

// A TCP port nothing listens on right now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// GET http://127.0.0.1:port/path: the status and the body.
std::pair<int, std::string> http_get(int port, const std::string& path) {
  std::string cmd = "curl -s -m 5 -w '\\n%{http_code}' http://127.0.0.1:" + std::to_string(port) + path;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  auto nl = out.rfind('\n');
  if (nl == std::string::npos) return {0, out};
  return {std::atoi(out.c_str() + nl + 1), out.substr(0, nl)};
}

nlohmann::json row_of(const nlohmann::json& rows, const std::string& kernel_id) {
  for (const auto& r : rows)
    if (r["kernel_id"] == kernel_id) return r;
  return nullptr;
}

}  // namespace

TEST_CASE("kernel commands: spawn, list, health, logs, shell, metrics, stop by id, name and port",
          "[kernel-cli]") {
  KernelScope s;
  nlohmann::json a = s.spawn("openai.toml lua --owner alice --memory 256m --cpus 0.25");
  nlohmann::json b = s.spawn("default.toml javascript --name pair-session");
  CHECK(a["origin"] == "spawned");
  CHECK(a["owner"] == "alice");
  CHECK(b["kernel_id"] == "pair-session");
  CHECK(b["container"] == "llmspell-pair-session");
  // The kernel id names its connection file, which holds the key: only its owner reads it.
  const std::string file = a["connection_file"];
  CHECK(std::filesystem::path(file) == s.home() / (a["kernel_id"].get<std::string>() + ".json"));
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Blocks of five host ports, never shared.
  std::set<int> ports;
  for (const auto* k : {&a, &b})
    for (const auto& [name, port] : (*k)["ports"].items()) ports.insert(port.get<int>());
  CHECK(ports.size() == 10);
  CHECK(a["ports"]["hb"].get<int>() == a["shell_port"].get<int>() + 4);

  Run list = s.cli("list --json --owner alice");
  REQUIRE(list.code == 0);
  CHECK(row_of(list.json(), a["kernel_id"]) != nullptr);
  CHECK(row_of(list.json(), "pair-session") == nullptr);  // someone else's

  Run verbose = s.cli("list --verbose --json");
  REQUIRE(verbose.code == 0);
  auto av = row_of(verbose.json(), a["kernel_id"]);
  REQUIRE(av != nullptr);
  CHECK(av["memory_limit"] == 256 * 1024 * 1024);
  CHECK(av["memory_used"].get<std::int64_t>() > 0);
  CHECK(av["uptime_seconds"].get<std::int64_t>() >= 0);
  CHECK(av.contains("cpu_percent"));

  // health by id and by port: engine health plus a heartbeat round trip.
  Run health = s.cli("health --json " + a["kernel_id"].get<std::string>() + " " +
                     std::to_string(b["shell_port"].get<int>()));
  INFO(health.out << health.err);
  auto rows = health.json();
  REQUIRE(rows.size() == 2);
  for (const auto& r : rows) CHECK(r["heartbeat"]["ok"] == true);

  Run logs = s.cli("logs " + std::to_string(a["shell_port"].get<int>()));
  CHECK(logs.code == 0);
  CHECK_THAT(logs.out, Catch::Contains(a["kernel_id"].get<std::string>() + " (lua) ready"));
  Run shell = s.cli("shell pair-session id -u");
  CHECK(shell.code == 0);
  CHECK(shell.out == "1000\n");

  Run metrics = s.cli("metrics --json");
  REQUIRE(metrics.code == 0);
  auto m = metrics.json();
  CHECK(m["kernels_by_state"]["running"].get<int>() >= 2);
  auto sampled = row_of(m["kernels"], a["kernel_id"]);
  REQUIRE(sampled != nullptr);
  CHECK(sampled["memory_limit"] == 256 * 1024 * 1024);

  // stop by host port, then by container name: exactly what was stopped is printed.
  Run by_port = s.cli("stop -t 5 " + std::to_string(a["shell_port"].get<int>()));
  CHECK(by_port.code == 0);
  // A stop drains: the kernel was idle, and its user state is kept in a checkpoint (the default).
  const std::string a_id = a["kernel_id"];
  CHECK_THAT(by_port.out, Catch::StartsWith("stopped " + a_id + ", checkpoint " + a_id + "-"));
  CHECK(std::count(by_port.out.begin(), by_port.out.end(), '\n') == 1);
  CHECK_FALSE(s.exists(a["container_id"]));
  CHECK_FALSE(std::filesystem::exists(file));
  Run by_name = s.cli("stop -t 5 llmspell-pair-session");
  CHECK_THAT(by_name.out, Catch::StartsWith("stopped pair-session, checkpoint pair-session-"));
  CHECK_FALSE(s.exists(b["container_id"]));
  auto registry = nlohmann::json::parse(slurp(s.home() / "registry" / "registry.json"));
  CHECK(row_of(registry["kernels"], "pair-session") == nullptr);
}

TEST_CASE("stop checks every name before it stops anything", "[kernel-cli]") {
  KernelScope s;
  nlohmann::json k = s.spawn();
  const std::string id = k["kernel_id"];
  for (const std::string& args :
       std::vector<std::string>{"stop nosuch " + id, "stop " + id + " 0", "stop 65000", "stop kernel-"}) {
    INFO(args);
    Run r = s.cli(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("llmspell-fleet: no such kernel: "));
    CHECK(s.client().inspect_container(k["container_id"]).state.running);
  }
  Run twice =
      s.cli("stop " + id + " " + id + " -t 1 --no-checkpoint");  // the same kernel twice is stopped once
  CHECK(twice.out == "stopped " + id + "\n");
}

TEST_CASE("a spawned kernel next to a compose project: up, scale and down leave each other alone",
          "[kernel-cli][kernel-compose]") {
  KernelScope s;
  Run up = s.cli(s.compose("up kernel-lua-openai --wait --timeout 60"));
  INFO(up.err);
  REQUIRE(up.code == 0);
  nlohmann::json spawned = s.spawn("openai.toml");
  Run again = s.cli(s.compose("up kernel-lua-openai"));
  INFO(again.err);
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Catch::Contains("up to date"));
  Run scale = s.cli(s.compose("scale kernel-lua-openai 2"));
  INFO(scale.err);
  CHECK(scale.code == 0);
  CHECK(s.project_containers().size() == 2);

  // Every kernel command works on a compose kernel too, by its id (the container name).
  const std::string compose_kernel = s.project() + "-kernel-lua-openai-1";
  Run list = s.cli("list --json");
  auto row = row_of(list.json(), compose_kernel);
  REQUIRE(row != nullptr);
  CHECK(row["origin"] == "compose");
  CHECK(row["project"] == s.project());
  CHECK(row["connection_file"] == (s.home() / (compose_kernel + ".json")).string());
  CHECK(s.cli("health " + compose_kernel).code == 0);
  CHECK(s.cli("shell " + compose_kernel + " true").code == 0);
  CHECK(s.cli("logs --tail 1 " + compose_kernel).code == 0);

  // The same settings make the same container, whichever way it came.
  auto a = s.client().inspect_container(spawned["container_id"]);
  auto c = s.client().inspect_container(compose_kernel);
  CHECK(a.user == c.user);
  CHECK(a.cap_drop == c.cap_drop);
  CHECK(a.security_opt == c.security_opt);
  CHECK(a.memory == c.memory);
  CHECK(a.nano_cpus == c.nano_cpus);
  CHECK(a.pids_limit == c.pids_limit);
  CHECK(a.labels.at(labels::kManaged) == c.labels.at(labels::kManaged));
  auto config_mount = [](const engine::ContainerInspect& i) {
    for (const auto& m : i.raw["Mounts"])
      if (m["Destination"] == "/etc/llmspell/config.toml")
        return m["Source"].get<std::string>() + (m["RW"] ? ":rw" : ":ro");
    return std::string();
  };
  CHECK(config_mount(a) == FLEET_SOURCE_DIR "/configs/openai.toml:ro");
  CHECK(config_mount(a) == config_mount(c));

  // stop-all is for spawned kernels; down is for the project.
  Run down = s.cli(s.compose("down -t 5"));
  CHECK(down.code == 0);
  CHECK(s.project_containers().empty());
  CHECK(s.client().inspect_container(spawned["container_id"]).state.running);
  CHECK(std::filesystem::exists(spawned["connection_file"].get<std::string>()));
  CHECK_FALSE(std::filesystem::exists(s.home() / (compose_kernel + ".json")));
}

TEST_CASE("cleanup removes dead kernels, their connection files and their registry entries", "[kernel-cli]") {
  KernelScope s;
  nlohmann::json k = s.spawn();
  nlohmann::json alive = s.spawn();
  s.client().kill_container(k["container_id"]);
  REQUIRE(
      test::wait_until([&] { return !s.client().inspect_container(k["container_id"]).state.running; }, 10s));
  Run list = s.cli("list --json");
  auto row = row_of(list.json(), k["kernel_id"]);
  REQUIRE(row != nullptr);
  CHECK(row["state"] == "exited");
  CHECK(row["state_reason"] == "exit code 137");
  CHECK(row["shell_port"] == 0);
  CHECK_THAT(s.cli("list").out, Catch::Contains("exited (exit code 137)"));

  Run cleanup = s.cli("cleanup --json");
  REQUIRE(cleanup.code == 0);
  auto report = cleanup.json();
  CHECK(report["removed"] == nlohmann::json::array({k["kernel_id"]}));
  CHECK(report["registry_entries_dropped"] == 1);
  CHECK_FALSE(s.exists(k["container_id"]));
  CHECK_FALSE(std::filesystem::exists(k["connection_file"].get<std::string>()));
  CHECK(s.exists(alive["container_id"]));
  CHECK(std::filesystem::exists(alive["connection_file"].get<std::string>()));
}

TEST_CASE("find: ten at once from separate processes end with one kernel; --shared finds anyone's",
          "[kernel-cli][find]") {
  KernelScope s;
  std::vector<std::future<Run>> finds;
  for (int i = 0; i < 10; ++i)
    finds.push_back(std::async(std::launch::async, [&] {
      return s.cli("find --language lua --config local.toml --json" + s.test_labels());
    }));
  std::set<std::string> ids;
  int created = 0;
  for (auto& f : finds) {
    Run r = f.get();
    INFO(r.err);
    REQUIRE(r.code == 0);
    ids.insert(r.json()["kernel_id"].get<std::string>());
    created += r.json()["created"].get<bool>() ? 1 : 0;
  }
  CHECK(ids.size() == 1);
  CHECK(created == 1);
}

TEST_CASE("find reuses the caller's kernel, and another owner's only with --shared", "[kernel-cli][find]") {
  KernelScope s;
  nlohmann::json mine = s.spawn("anthropic.toml lua --owner alice");
  Run again = s.cli("find --language lua --config anthropic.toml --owner alice --json");
  REQUIRE(again.code == 0);
  CHECK(again.json()["kernel_id"] == mine["kernel_id"]);
  CHECK(again.json()["created"] == false);
  Run shared = s.cli("find --language lua --config anthropic.toml --owner bob --shared --json");
  CHECK(shared.json()["kernel_id"] == mine["kernel_id"]);
  Run own = s.cli("find --language lua --config anthropic.toml --owner bob --json" + s.test_labels());
  REQUIRE(own.code == 0);
  CHECK(own.json()["kernel_id"] != mine["kernel_id"]);
  CHECK(own.json()["created"] == true);
  CHECK(own.json()["owner"] == "bob");
}

TEST_CASE("bad kernel input: exit 2, a message naming it, nothing created", "[kernel-cli]") {
  KernelScope s;
  // Whatever these commands could have created would be owned by this test's own owner name.
  const std::string owner = "bad-" + s.project();
  auto created = [&] {
    return s.client()
        .list_containers({.all = true, .filters = {{"label", {std::string(labels::kOwner) + "=" + owner}}}})
        .size();
  };
  struct Case {
    std::string args, message;
  } cases[] = {
      {"spawn default.toml python", "language \"python\" is not supported"},
      {"spawn no-such.toml", "valid: anthropic.toml, default.toml, local.toml, openai.toml"},
      {"spawn --memory 100000g", "is more than the host's"},
      {"spawn --memory 512q", "--memory \"512q\" is not a size"},
      {"spawn --cpus 64", "is more than the host's"},
      {"spawn --name '../x'", "kernel name \"../x\""},
      {"spawn --label dev.llmspell.fleet.kernel=false", "reserved prefix"},
      {"find --language cobol", "language \"cobol\""},
      {"find --config ../../etc/passwd", "must be a plain file name"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    Run r = s.cli("-f /nonexistent.yml " + c.args + " --owner " + owner);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
  }
  for (const char* args : {"logs nosuch", "health nosuch", "shell nosuch true"}) {
    INFO(args);
    Run r = s.cli(std::string("-f /nonexistent.yml ") + args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("no such kernel, service or container: nosuch"));
  }
  CHECK(created() == 0);
}

TEST_CASE("the registry serves registry.json and nothing secret, and stops at SIGTERM",
          "[kernel-cli][registry]") {
  KernelScope s;
  nlohmann::json k = s.spawn();
  const int port = free_port();
  const std::string env = "LLMSPELL_REGISTRY_PORT=" + std::to_string(port);
  Run up = s.cli(s.compose("--profile registry up fleet-registry --wait --timeout 60"), env);
  INFO(up.err);
  REQUIRE(up.code == 0);
  auto [status, body] = http_get(port, "/registry.json");
  CHECK(status == 200);
  auto registry = nlohmann::json::parse(body, nullptr, false);
  REQUIRE(registry.is_object());
  auto row = row_of(registry["kernels"], k["kernel_id"]);
  REQUIRE(row != nullptr);
  CHECK(row["shell_port"] == k["shell_port"]);
  CHECK(row["owner"] == k["owner"]);
  CHECK(body.find("\"key\"") == std::string::npos);
  // The kernel's connection file (it holds the key) is not within the registry's reach.
  CHECK(http_get(port, "/" + k["kernel_id"].get<std::string>() + ".json").first == 404);
  CHECK(http_get(port, "/../" + k["kernel_id"].get<std::string>() + ".json").first != 200);

  // SIGTERM ends it at once (exit 0), rather than a grace period waited out and SIGKILL (137).
  auto registry_containers = s.project_containers();
  REQUIRE(registry_containers.size() == 1);
  s.client().stop_container(registry_containers[0].id, 20);
  CHECK(s.client().inspect_container(registry_containers[0].id).state.exit_code == 0);
  CHECK(s.cli(s.compose("down"), env).code == 0);
}

TEST_CASE("one image identity: every way of building a tag builds the same image, kept when unchanged",
          "[kernel-cli][images]") {
  KernelScope s;
  auto dir = s.home().parent_path() / "context";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "Dockerfile") << "FROM scratch\nCOPY hello /hello\n";
  std::ofstream(dir / "hello") << "one\n";
  const std::string tag = "llmspell-identity-" + s.project() + ":latest";
  std::ofstream(dir / "compose.yml") << "services:\n  x:\n    image: " << tag
                                     << "\n    build:\n      context: " << dir.string() << "\n";
  struct RemoveTag {
    engine::Client& client;
    std::string tag;
    ~RemoveTag() {
      try {
        client.remove_image(tag, true);
      } catch (const std::exception&) {
      }
    }
  } remove{s.client(), tag};

  Run first = s.cli("build --context " + dir.string() + " --tag " + tag);
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK_THAT(first.out, Catch::StartsWith("built " + tag));
  const std::string id = s.client().inspect_image(tag).id;
  // The compose build of the same context, and the same command again: nothing to rebuild.
  Run compose = s.cli("-f " + (dir / "compose.yml").string() + " -p " + s.project() + " build");
  CHECK(compose.code == 0);
  CHECK_THAT(compose.out, Catch::StartsWith("up to date " + tag + " (" + id + ")"));
  CHECK_THAT(s.cli("build --context " + dir.string() + " --tag " + tag).out, Catch::StartsWith("up to date"));
  CHECK(s.client().inspect_image(tag).id == id);

  // Changed content: a new image, and the one it replaced does not linger as a dangling image.
  std::ofstream(dir / "hello") << "two\n";
  Run changed = s.cli("build --context " + dir.string() + " --tag " + tag);
  CHECK_THAT(changed.out, Catch::StartsWith("built " + tag));
  CHECK(s.client().inspect_image(tag).id != id);
  CHECK_THROWS_AS(s.client().inspect_image(id), engine::NotFoundError);
}
