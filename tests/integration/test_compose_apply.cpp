// The rest of the Compose Specification applied by the real engine: a project built by hand (the
// loader reads these keys on another branch; tests/compose/good/every-key.yml and
// tests/integration/test_every_key.py check the same through the file), brought up through the fleet's
// up, inspected, and taken down. Everything carries the test run's labels and is removed at the end,
// whatever happened.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "compose/model.hpp"
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/reaper.hpp"
#include "support/engine_fixture.hpp"

using namespace fleet;
using namespace std::chrono_literals;

namespace {

// A project of its own: a temp folder (secret files, a bind folder, the fleet home), the test run's
// labels, and everything with the project's label, or the run's, removed at the end.
class ApplyScope {
 public:
  ApplyScope() : dir_(std::filesystem::temp_directory_path() / ("apply-" + scope_.id())) {
    std::filesystem::create_directories(dir_ / "home");
    ::setenv("LLMSPELL_FLEET_HOME", (dir_ / "home").c_str(), 1);
  }
  ~ApplyScope() {
    try {
      remove_labelled(scope_.client(), {{"label", {std::string(labels::kComposeProject) + "=" + name()}}});
      scope_.remove_all();
    } catch (const std::exception&) {
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string name() const { return scope_.id(); }
  const std::filesystem::path& dir() const { return dir_; }
  engine::Client& client() { return scope_.client(); }
  engine::Labels labels() const { return scope_.labels(); }
  Context context() {
    Context ctx{.client = scope_.client()};
    ctx.progress = [this](const ProgressEvent& e) {
      if (e.kind == ProgressEvent::Kind::Warning) warnings.push_back(e.status);
    };
    return ctx;
  }
  // The offline test image's service with the security baseline and this run's labels.
  compose::Service service(const std::string& name) const {
    compose::Service s;
    s.name = name;
    s.image = test::kTestImage;
    s.labels = labels();
    s.user = "1000:1000";
    s.mem_limit = 64 * 1024 * 1024;
    s.cpus = 0.5;
    s.pids_limit = 64;
    s.cap_drop = {"ALL"};
    s.security_opt = {"no-new-privileges:true"};
    s.stop_grace_period_ns = 2'000'000'000;
    s.networks["default"] = {};
    return s;
  }
  compose::Project project(std::vector<compose::Service> services) const {
    compose::Project p;
    p.name = name();
    p.source_name = "hand-built";
    p.file = dir_ / "compose.yml";
    p.working_dir = dir_;
    p.networks["default"] = {.name = name() + "_default", .labels = labels()};
    for (auto& s : services) p.services[s.name] = std::move(s);
    return p;
  }
  std::vector<engine::ContainerSummary> containers() {
    return client().list_containers(
        {.all = true, .filters = {{"label", {std::string(labels::kComposeProject) + "=" + name()}}}});
  }
  std::string exec(const std::string& container, const std::vector<std::string>& cmd,
                   const std::string& user = "") {
    auto r = client().exec_run(container, {.cmd = cmd, .user = user});
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);
    return r.stdout_text;
  }

  std::vector<std::string> warnings;

 private:
  test::TestScope scope_;
  std::filesystem::path dir_;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A /24 of its own for the test network, unlikely to meet another run's.
std::string test_subnet() {
  std::random_device rd;
  return "172.29." + std::to_string(rd() % 250 + 1) + ".0/24";
}

}  // namespace

TEST_CASE("up applies the Compose Specification's service, network and secret settings", "[compose-apply]") {
  ApplyScope scope;
  const std::string subnet = test_subnet();
  const std::string prefix = subnet.substr(0, subnet.rfind('.') + 1);
  std::ofstream(scope.dir() / "pw.txt") << "file-secret-content\n";
  std::filesystem::create_directories(scope.dir() / "hooks");
  std::filesystem::permissions(scope.dir() / "hooks", std::filesystem::perms::all);

  auto db = scope.service("db");
  db.ipc = "shareable";
  db.hostname = "db-host";
  // The create's platform query: the test image's own (another one would be refused by the engine).
  const auto image = scope.client().inspect_image(test::kTestImage).raw;
  db.platform = image["Os"].get<std::string>() + "/" + image["Architecture"].get<std::string>();

  auto web = scope.service("web");
  web.init = web.tty = web.stdin_open = true;
  web.hostname = "web-host";
  web.domainname = "fleet.test";
  web.dns = {"10.0.0.2"};
  web.dns_search = {"fleet.test"};
  web.dns_opt = {"ndots:2"};
  web.extra_hosts = {"registry.fleet.test:10.1.2.3"};
  web.ulimits = {{"nofile", 1024, 2048}};
  web.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "80"}};
  web.shm_size = 32 * 1024 * 1024;
  web.group_add = {"1234"};
  web.oom_score_adj = 300;
  web.links = {"db:database"};
  web.networks["default"] = {.aliases = {"www"}, .ipv4_address = prefix + "50", .priority = 5};
  web.networks["back"] = {.aliases = {"api"}};  // connected after the create, with its own settings
  web.mac_address = "02:42:ac:11:00:42";
  web.volumes = {{.type = "tmpfs", .target = "/scratch", .tmpfs_size = 8 * 1024 * 1024, .tmpfs_mode = 01777},
                 {.type = "bind", .source = (scope.dir() / "hooks").string(), .target = "/hooks"}};
  web.healthcheck = compose::Healthcheck{.interval_ns = 1'000'000'000};  // the image's test, faster
  web.secrets = {{.source = "pw"}, {.source = "token", .target = "token", .mode = 0400}};
  web.configs = {{.source = "app", .target = "/etc/app.conf"}};
  web.post_start = {{.command = {"/bin/sh", "-c", "echo started > /tmp/post_start"}}};
  web.pre_stop = {{.command = {"/bin/sh", "-c", "echo $HOOK_SAYS > /hooks/pre_stop"},
                   .environment = {{"HOOK_SAYS", "stopping"}}}};

  auto side = scope.service("side");
  side.networks.clear();
  side.network_mode = "service:db";
  side.pid = "service:db";
  side.ipc = "service:db";
  side.volumes_from = {"db:ro"};

  auto p = scope.project({db, web, side});
  p.networks["default"].ipam = compose::NetworkDef::Ipam{.config = {{.subnet = subnet}}};
  p.networks["back"] = {.name = p.name + "_back", .internal = true, .labels = scope.labels()};
  p.secrets["pw"] = {.name = "pw", .file = scope.dir() / "pw.txt"};
  p.secrets["token"] = {.name = "token", .environment = "TOKEN", .environment_value = "env-secret-content"};
  p.configs["app"] = {.name = "app", .content = std::string("answer = 42\n")};

  Context ctx = scope.context();
  ConvergeResult result = up(ctx, p, {});
  CHECK(result.plan.levels.size() == 2);  // db first: web links to it, side shares its namespaces

  const std::string db_name = p.name + "-db-1", web_name = p.name + "-web-1", side_name = p.name + "-side-1";
  engine::ContainerInspect w = scope.client().inspect_container(web_name);
  const auto& host = w.raw["HostConfig"];
  const auto& config = w.raw["Config"];
  CHECK(host["Init"] == true);
  CHECK(config["Tty"] == true);
  CHECK(config["OpenStdin"] == true);
  CHECK(config["Hostname"] == "web-host");
  CHECK(config["Domainname"] == "fleet.test");
  CHECK(host["Dns"] == nlohmann::json::array({"10.0.0.2"}));
  CHECK(host["DnsSearch"] == nlohmann::json::array({"fleet.test"}));
  CHECK(host["DnsOptions"] == nlohmann::json::array({"ndots:2"}));
  CHECK(host["ExtraHosts"] == nlohmann::json::array({"registry.fleet.test:10.1.2.3"}));
  CHECK(host["Ulimits"] == nlohmann::json::parse(R"([{"Name":"nofile","Soft":1024,"Hard":2048}])"));
  CHECK(host["Sysctls"]["net.ipv4.ip_unprivileged_port_start"] == "80");
  CHECK(host["ShmSize"] == 33554432);
  CHECK(host["Tmpfs"]["/scratch"] == "size=8388608,mode=1777");
  CHECK(host["GroupAdd"] == nlohmann::json::array({"1234"}));
  CHECK(host["OomScoreAdj"] == 300);
  CHECK(config["Healthcheck"]["Interval"] == 1000000000);
  // No test in the file: the engine filled in the image's.
  CHECK(config["Healthcheck"]["Test"] == scope.client().inspect_image(test::kTestImage).healthcheck["Test"]);
  const auto& endpoint = w.raw["NetworkSettings"]["Networks"][p.name + "_default"];
  CHECK(endpoint["IPAddress"] == prefix + "50");
  CHECK(endpoint["IPAMConfig"]["IPv4Address"] == prefix + "50");
  CHECK(endpoint["Links"][0] == db_name + ":database");
  bool has_alias = false;
  for (const auto& a : endpoint["Aliases"]) has_alias = has_alias || a == "www";
  CHECK(has_alias);
  CHECK(endpoint["MacAddress"] == "02:42:ac:11:00:42");
  const auto& back = w.raw["NetworkSettings"]["Networks"][p.name + "_back"];
  REQUIRE(back.is_object());
  CHECK(back["Aliases"][0] == "web");
  CHECK(back["Aliases"][1] == "api");
  CHECK(scope.client().inspect_network(p.name + "_back").internal);
  engine::NetworkInfo net = scope.client().inspect_network(p.name + "_default");
  CHECK(net.raw["IPAM"]["Config"][0]["Subnet"] == subnet);

  // Inside: the engine really did it.
  CHECK(trimmed(scope.exec(web_name, {"cat", "/run/secrets/pw"})) == "file-secret-content");
  CHECK(trimmed(scope.exec(web_name, {"cat", "/run/secrets/token"})) == "env-secret-content");
  CHECK(trimmed(scope.exec(web_name, {"stat", "-c", "%u:%g %a", "/run/secrets/token"})) == "1000:1000 400");
  CHECK(trimmed(scope.exec(web_name, {"cat", "/etc/app.conf"})) == "answer = 42");
  CHECK(trimmed(scope.exec(web_name, {"stat", "-c", "%a", "/etc/app.conf"})) == "444");
  CHECK(trimmed(scope.exec(web_name, {"cat", "/tmp/post_start"})) == "started");
  // The container's first process (an exec's own limits are racy on runc 1.1 built with Go >= 1.19:
  // opencontainers/runc#4195, its soft NOFILE sometimes equals the hard one).
  CHECK(trimmed(scope.exec(
            web_name, {"/bin/sh", "-c", "grep 'open files' /proc/1/limits | tr -s ' ' | cut -d' ' -f4,5"})) ==
        "1024 2048");
  CHECK(scope.exec(web_name, {"cat", "/etc/hosts"}).find("10.1.2.3\tregistry.fleet.test") !=
        std::string::npos);
  CHECK(scope.exec(web_name, {"nslookup", "database", "127.0.0.11"})
            .find(trimmed(scope.client()
                              .inspect_container(db_name)
                              .raw["NetworkSettings"]["Networks"][p.name + "_default"]["IPAddress"]
                              .get<std::string>())) != std::string::npos);
  CHECK(trimmed(scope.exec(web_name, {"id", "-G"})).find("1234") != std::string::npos);
  // Secret content is in no label, no env and no create body the engine kept.
  CHECK(w.raw.dump().find("env-secret-content") == std::string::npos);

  engine::ContainerInspect s = scope.client().inspect_container(side_name);
  engine::ContainerInspect d = scope.client().inspect_container(db_name);
  CHECK(s.raw["HostConfig"]["NetworkMode"].get<std::string>().rfind("container:", 0) == 0);
  CHECK(s.raw["HostConfig"]["VolumesFrom"] == nlohmann::json::array({db_name + ":ro"}));
  // The same network namespace: the side container answers to db's hostname.
  CHECK(trimmed(scope.exec(side_name, {"hostname"})) == "db-host");
  CHECK(s.raw["HostConfig"]["PidMode"].get<std::string>().rfind("container:", 0) == 0);

  // A second up changes nothing.
  CHECK(up(ctx, p, {}).plan.empty());

  DownReport down_report = down(ctx, p, {});
  CHECK(down_report.containers == 3);
  std::ifstream said(scope.dir() / "hooks" / "pre_stop");
  std::string line;
  std::getline(said, line);
  CHECK(line == "stopping");
  CHECK(scope.containers().empty());
}

TEST_CASE("up refuses what it cannot apply before it creates anything", "[compose-apply]") {
  ApplyScope scope;
  Context ctx = scope.context();

  auto ro = scope.service("ro");
  ro.read_only = true;
  ro.secrets = {{.source = "token"}};
  auto p = scope.project({ro});
  p.secrets["token"] = {.name = "token", .environment = "TOKEN", .environment_value = "never-shown"};
  try {
    up(ctx, p, {});
    FAIL("up went ahead");
  } catch (const InvalidInput& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot create secrets.token in read-only service ro"));
    CHECK(std::string(e.what()).find("never-shown") == std::string::npos);
  }

  auto annotated = scope.service("annotated");
  annotated.annotations = {{"com.example.note", "x"}};
  CHECK_THROWS_WITH(up(ctx, scope.project({annotated}), {}),
                    Catch::Contains("annotations need Engine API 1.43"));

  auto external = scope.service("external");
  external.configs = {{.source = "shared"}};
  auto pe = scope.project({external});
  pe.configs["shared"] = {.name = "shared", .external = true};
  CHECK_THROWS_WITH(up(ctx, pe, {}),
                    Catch::Contains("external secrets and configs exist only in swarm mode"));

  auto never = scope.service("never");
  never.image = "llmspell-fleet-test:no-such-tag";
  never.pull_policy = "never";
  CHECK_THROWS_WITH(
      up(ctx, scope.project({never}), {}),
      Catch::Contains("services.never.pull_policy never: image llmspell-fleet-test:no-such-tag is "
                      "not on this engine"));

  auto always = scope.service("always");
  always.pull_policy = "always";
  CHECK_THROWS_WITH(up(ctx, scope.project({always}), {}),
                    Catch::Contains("services.always.pull_policy always: cannot pull " +
                                    std::string(test::kTestImage) + ": "));

  auto builder = scope.service("builder");
  builder.image = "llmspell-fleet-test-apply:" + scope.name();
  builder.build = compose::BuildSpec{.context = scope.dir(), .unsupported = {"build.ssh"}};
  CHECK_THROWS_WITH(up(ctx, scope.project({builder}), {}),
                    Catch::Contains("services.builder.build.ssh: the engine's classic builder cannot use ssh "
                                    "(needs BuildKit)"));

  auto bind = scope.service("bind");
  bind.volumes = {{.type = "bind",
                   .source = (scope.dir() / "absent").string(),
                   .target = "/x",
                   .create_host_path = false}};
  CHECK_THROWS_WITH(up(ctx, scope.project({bind}), {}), Catch::Contains("create_host_path is false"));
  CHECK(!std::filesystem::exists(scope.dir() / "absent"));

  CHECK(scope.containers().empty());
  CHECK(scope.client()
            .list_networks({{"label", {std::string(labels::kComposeProject) + "=" + scope.name()}}})
            .empty());
}

TEST_CASE("a failing post_start hook fails up naming the service and the hook", "[compose-apply]") {
  ApplyScope scope;
  Context ctx = scope.context();
  auto web = scope.service("web");
  web.post_start = {{.command = {"/bin/sh", "-c", "exit 3"}}};
  CHECK_THROWS_WITH(up(ctx, scope.project({web}), {}),
                    Catch::Contains("services.web.post_start[0]: the hook exited with 3"));
}

TEST_CASE("build applies args, labels, target, the inline Dockerfile and extra tags", "[compose-apply]") {
  ApplyScope scope;
  Context ctx = scope.context();
  const std::string tag = "llmspell-fleet-test-apply:" + scope.name();
  const std::string extra = "llmspell-fleet-test-apply:" + scope.name() + "-extra";
  std::filesystem::create_directories(scope.dir() / "ctx");
  std::ofstream(scope.dir() / "ctx" / "hello.txt") << "hello\n";
  auto web = scope.service("web");
  web.image = tag;
  compose::BuildSpec spec{.context = scope.dir() / "ctx",
                          .dockerfile_inline = "FROM " + std::string(test::kTestImage) +
                                               " AS base\n"
                                               "ARG GREETING\n"
                                               "LABEL greeting=$GREETING\n"
                                               "COPY hello.txt /hello.txt\n"
                                               "FROM base AS final\n"
                                               "LABEL stage=final\n",
                          .args = {{"GREETING", "hi"}},
                          .labels = scope.labels()};
  spec.labels["org.example.built"] = "yes";
  spec.tags = {extra};
  spec.target = "base";
  web.build = spec;
  auto p = scope.project({web});
  BuildReport report = build(ctx, p, {}, false);
  REQUIRE(report.images.size() == 1);
  engine::ImageInspect image = scope.client().inspect_image(tag);
  CHECK(image.labels.at("greeting") == "hi");
  CHECK(image.labels.at("org.example.built") == "yes");
  CHECK(!image.labels.count("stage"));  // target: base, the final stage was not built
  CHECK(scope.client().inspect_image(extra).id == image.id);
  try {
    scope.client().remove_image(extra);
    scope.client().remove_image(tag);
  } catch (const engine::EngineError&) {
  }
}
