// Kernels as replicas of templates, without an engine: the template's create body against the
// shipped compose file's kernel service, the kernel plans as golden text, port blocks, settings.
#include <catch2/catch.hpp>

#include <fstream>

#include "compose/loader.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/plan.hpp"
#include "fleet/ports.hpp"
#include "fleet/settings.hpp"
#include "fleet/templates.hpp"

using namespace fleet;

namespace {

FleetHome source_home() {
  return {.root = "/tmp/fleet-unit-home",
          .configs_dir = FLEET_SOURCE_DIR "/configs",
          .kernel_context = "/nowhere"};
}

// A lua kernel with the shipped defaults' limits.
Template lua_template(const std::string& config) {
  return {.language = "lua",
          .config = config,
          .image = "llmspell:latest",
          .memory = 512ll * 1024 * 1024,
          .cpus = 0.5,
          .pids_limit = 128};
}

ObservedContainer kernel(const std::string& id, const std::string& state, const std::string& project = "") {
  ObservedContainer c;
  c.id = "id-" + id;
  c.name = project.empty() ? "llmspell-" + id : id;
  c.kernel_id = id;
  c.state = state;
  c.project = project;
  c.service = project.empty() ? "lua-default" : "kernel-lua-openai";
  c.number = project.empty() ? 0 : 1;
  return c;
}

}  // namespace

TEST_CASE("a spawned kernel is created as the compose file's kernel of the same settings", "[templates]") {
  auto project = compose::load_project({.file = FLEET_SOURCE_DIR "/compose/docker-compose.yml"});
  const compose::Service& compose_kernel = project.services.at("kernel-lua-openai");
  nlohmann::json from_compose =
      create_body(project, compose_kernel, {.number = 1, .owner = "alice"}, "sha256:i");

  FleetHome home = source_home();
  Template t = lua_template("openai.toml");
  compose::Service s = template_service(t, home, "127.0.0.1");
  auto templates = templates_project(home, {s});
  nlohmann::json spawned =
      create_body(templates, s, {.kernel_id = "kernel-0000abcd", .owner = "alice", .host_port = 9560}, "");

  CHECK(spawned["User"] == from_compose["User"]);
  CHECK(spawned["Image"] == from_compose["Image"]);
  CHECK(spawned["Cmd"] == from_compose["Cmd"]);
  CHECK(spawned["Healthcheck"] == from_compose["Healthcheck"]);
  CHECK(spawned["ExposedPorts"] == from_compose["ExposedPorts"]);
  CHECK(spawned["StopTimeout"] == from_compose["StopTimeout"]);
  for (const char* key : {"Memory", "NanoCpus", "PidsLimit", "CapDrop", "SecurityOpt"}) {
    INFO(key);
    CHECK(spawned["HostConfig"][key] == from_compose["HostConfig"][key]);
  }
  const std::string config_bind = FLEET_SOURCE_DIR "/configs/openai.toml:/etc/llmspell/config.toml:ro";
  CHECK(spawned["HostConfig"]["Binds"] == nlohmann::json::array({config_bind}));
  CHECK(std::find(from_compose["HostConfig"]["Binds"].begin(), from_compose["HostConfig"]["Binds"].end(),
                  config_bind) != from_compose["HostConfig"]["Binds"].end());
  // The block of host ports chosen for it, in order, on loopback.
  for (int i = 0; i < 5; ++i) {
    auto binding = spawned["HostConfig"]["PortBindings"][std::to_string(9555 + i) + "/tcp"][0];
    CHECK(binding == nlohmann::json({{"HostIp", "127.0.0.1"}, {"HostPort", std::to_string(9560 + i)}}));
  }
  CHECK(spawned["Env"] == nlohmann::json::array({"KERNEL_ID=kernel-0000abcd"}));

  const auto& l = spawned["Labels"];
  CHECK(l[labels::kManaged] == from_compose["Labels"][labels::kManaged]);
  CHECK(l[labels::kOrigin] == "spawned");
  CHECK(l[labels::kKernel] == "true");
  CHECK(l[labels::kKernelId] == "kernel-0000abcd");
  CHECK(l[labels::kLanguage] == "lua");
  CHECK(l[labels::kConfig] == "openai.toml");
  CHECK(l[labels::kOwner] == "alice");
  CHECK(l[labels::kTemplate] == template_identity(t, home));
  CHECK_FALSE(l.contains(labels::kComposeProject));  // no compose command ever counts it as a project's
  CHECK(container_name(templates, s, ReplicaIdentity{.kernel_id = "kernel-0000abcd"}) ==
        "llmspell-kernel-0000abcd");
}

TEST_CASE("a template's identity: language, config content, image and limits; not where the config lives",
          "[templates]") {
  auto dir = std::filesystem::temp_directory_path() / ("fleet-identity-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  std::ofstream(dir / "a" / "default.toml") << "provider = \"openai\"\n";
  std::ofstream(dir / "b" / "default.toml") << "provider = \"openai\"\n";
  FleetHome a{.root = dir / "home", .configs_dir = dir / "a", .kernel_context = dir};
  FleetHome b{.root = dir / "home", .configs_dir = dir / "b", .kernel_context = dir};
  Template t = lua_template("default.toml");
  const std::string id = template_identity(t, a);
  CHECK(template_name(t) == "lua-default");
  CHECK(template_identity(t, b) == id);  // the same config in another folder: the same template
  CHECK(template_service(t, a, "127.0.0.1").extensions["x-fleet"]["template"] == id);
  Template bigger = t;
  bigger.memory *= 2;
  CHECK(template_identity(bigger, a) != id);
  Template js = t;
  js.language = "javascript";
  CHECK(template_identity(js, a) != id);
  std::ofstream(dir / "b" / "default.toml") << "provider = \"anthropic\"\n";  // an edited config
  CHECK(template_identity(t, b) != id);
  // Owners, ports and extra labels are the replica's, not the template's.
  auto s = template_service(t, a, "127.0.0.1");
  auto p = templates_project(a, {s});
  auto one = create_body(p, s, {.kernel_id = "k1", .owner = "alice", .host_port = 9555}, "")["Labels"];
  auto two = create_body(p, s, {.kernel_id = "k2", .owner = "bob", .host_port = 9560, .labels = {{"x", "y"}}},
                         "")["Labels"];
  CHECK(one[labels::kTemplate] == two[labels::kTemplate]);
  CHECK(one[labels::kOwner] != two[labels::kOwner]);
  std::filesystem::remove_all(dir);
}

TEST_CASE("templates are checked with the valid choices named", "[templates]") {
  FleetHome home = source_home();
  Template t = lua_template("default.toml");
  CHECK_NOTHROW(check_template(t, home));
  auto refused = [&](Template bad, const std::string& message) {
    INFO(message);
    try {
      check_template(bad, home);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::BadInput);
      CHECK_THAT(e.what(), Catch::Contains(message));
    }
  };
  Template bad = t;
  bad.config = "nosuch.toml";
  refused(bad, "valid: anthropic.toml, default.toml, local.toml, openai.toml)");
  bad.config = "fleet.toml";  // the fleet's own settings, not a kernel config
  refused(bad, "config fleet.toml not found");
  bad.config = "../configs/default.toml";
  refused(bad, "must be a plain file name");
  {
    auto dir = std::filesystem::temp_directory_path() / ("fleet-badtoml-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "broken.toml") << "provider = \"openai\nmodel = 3\n";
    FleetHome broken_home{.root = dir, .configs_dir = dir, .kernel_context = dir};
    Template broken = t;
    broken.config = "broken.toml";
    try {
      check_template(broken, broken_home);
      FAIL("a broken config was accepted");
    } catch (const Error& e) {
      CHECK_THAT(e.what(),
                 Catch::StartsWith((dir / "broken.toml").string() + ":1: not a valid kernel config"));
    }
    std::filesystem::remove_all(dir);
  }
  bad = t;
  bad.language = "python";
  refused(bad, "language \"python\" is not supported");
  bad = t;
  bad.memory = 1024;
  refused(bad, "at least 6 MiB");
  bad = t;
  bad.cpus = 0;
  refused(bad, "cpus must be more than 0");
}

TEST_CASE("kernel plans: spawn, stop, pause print as golden text", "[plan][kernels]") {
  Plan spawn = plan_spawn({.service = "lua-openai",
                           .kernel_id = "kernel-1",
                           .owner = "bob",
                           .host_port = 9560,
                           .cause = "spawn lua-openai for bob"});
  CHECK(spawn.str() == "create container llmspell-kernel-1 (spawn lua-openai for bob)\n");
  CHECK(spawn.steps.at("lua-openai").front().host_port == 9560);

  std::vector<ObservedContainer> kernels = {kernel("kernel-1", "running"), kernel("kernel-2", "paused"),
                                            kernel("llmspell-kernel-lua-openai-1", "exited", "llmspell")};
  Plan stop = plan_retire(kernels, "stop", 5);
  CHECK(stop.str() ==
        "remove container llmspell-kernel-1 (stop)\n"
        "remove container llmspell-kernel-2 (stop)\n"
        "remove container llmspell-kernel-lua-openai-1 (stop)\n");
  std::vector<std::string> ids;
  for (const auto& [service, steps] : stop.steps)
    for (const auto& step : steps) {
      CHECK(step.stop_timeout == 5);
      ids.push_back(step.kernel_id);  // whose connection file goes with it
    }
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"kernel-1", "kernel-2", "llmspell-kernel-lua-openai-1"});
  CHECK(stop.steps.at("lua-default")[1].container_state == "paused");  // the executor thaws it first

  CHECK(plan_pause(kernels, true, "pool").str() == "pause container llmspell-kernel-1 (pool)\n");
  CHECK(plan_pause(kernels, false, "acquire").str() == "unpause container llmspell-kernel-2 (acquire)\n");
  CHECK(plan_retire({}, "stop", std::nullopt).empty());
}

TEST_CASE("port blocks: five in a row from the range, skipping what is taken", "[ports]") {
  PortRange range{9555, 9574};  // four blocks
  auto all_free = [](int) { return true; };
  CHECK(pick_port_block(range, {}, all_free) == 9555);
  CHECK(pick_port_block(range, {9557}, all_free) == 9560);
  CHECK(pick_port_block(range, {9557, 9561}, [](int p) { return p != 9570; }) == 9565);
  try {
    pick_port_block(range, {9555, 9560, 9565, 9570}, all_free);
    FAIL("a full range was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Conflict);
    CHECK_THAT(e.what(), Catch::Contains("no free block of 5 host ports left in 9555-9574"));
  }
  CHECK(pick_port_block({9555, 9564}, {}, [](int p) { return p != 9555; }) == 9560);
  // 9556-9561 holds one block (9556-9560); a port of it in use on the host leaves none.
  CHECK_THROWS_AS(pick_port_block({9556, 9561}, {}, [](int p) { return p != 9558; }), Error);
}

TEST_CASE("fleet settings: defaults, the shipped file, and bad values named with file and key",
          "[settings]") {
  auto dir = std::filesystem::temp_directory_path() / ("fleet-settings-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  FleetHome home{.root = dir / "home", .configs_dir = dir, .kernel_context = dir};
  ::unsetenv("LLMSPELL_FLEET_PORTS");
  FleetSettings none = load_settings(home);
  CHECK(none.kernels.ports.first == 9555);
  CHECK(none.kernels.ports.last == 9999);

  FleetSettings shipped = load_settings(source_home());
  CHECK(shipped.kernels.memory == 512ll * 1024 * 1024);
  CHECK(shipped.kernels.config == "default.toml");

  auto refused = [&](const std::string& text, const std::string& message) {
    std::ofstream(dir / "fleet.toml") << text;
    INFO(text);
    try {
      load_settings(home);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::BadInput);
      CHECK_THAT(e.what(), Catch::Contains((dir / "fleet.toml").string()) && Catch::Contains(message));
    }
  };
  refused("[kernels]\nmemory = \"512q\"\n", ":2: kernels.memory: \"512q\" is not a size");
  refused("[kernels]\nport_range = \"9555-9557\"\n", "kernels.port_range");
  refused("[kernels]\nmemroy = \"1g\"\n", "kernels.memroy: unknown key");
  refused("[pool]\nsize = 3\n", "pool: unknown section");
  refused("[kernels]\ncpus = -1\n", "kernels.cpus: must be a number above 0");
  refused("[kernels]\npublish_ip = \"localhost:80\"\n",
          "kernels.publish_ip: \"localhost:80\" is not an IPv4 address");
  std::ofstream(dir / "fleet.toml") << "[kernels]\nport_range = \"9600-9649\"\nmemory = \"1g\"\n";
  FleetSettings custom = load_settings(home);
  CHECK(custom.kernels.ports.first == 9600);
  CHECK(custom.kernels.memory == 1024ll * 1024 * 1024);
  ::setenv("LLMSPELL_FLEET_PORTS", "9700-9704", 1);
  CHECK(load_settings(home).kernels.ports.first == 9700);
  ::setenv("LLMSPELL_FLEET_PORTS", "lots", 1);
  CHECK_THROWS_WITH(load_settings(home), Catch::Contains("LLMSPELL_FLEET_PORTS"));
  ::unsetenv("LLMSPELL_FLEET_PORTS");
  std::filesystem::remove_all(dir);
}

TEST_CASE("fleet settings: templates with their pool, drain and idle settings, bad ones named",
          "[settings]") {
  auto dir = std::filesystem::temp_directory_path() / ("fleet-templates-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  FleetHome home{.root = dir / "home", .configs_dir = dir, .kernel_context = dir};
  ::unsetenv("LLMSPELL_FLEET_SETTINGS");
  FleetSettings shipped = load_settings(source_home());
  REQUIRE(shipped.templates.size() == 1);
  CHECK(shipped.templates[0].name == "lua-default");
  CHECK(shipped.templates[0].warm_pool.enabled);
  CHECK(shipped.templates[0].warm_pool.size == 5);  // the seed's pool, out of the box
  CHECK(shipped.templates[0].graceful_drain.timeout_seconds == 30);
  CHECK(shipped.templates[0].graceful_drain.checkpoint_before_drain);

  std::ofstream(dir / "fleet.toml")
      << "[templates.js]\nlanguage = \"javascript\"\nconfig = \"default.toml\"\n"
         "memory = \"256m\"\nwarm_pool = { size = 2 }\n";
  FleetSettings s = load_settings(home);
  REQUIRE(s.templates.size() == 1);
  CHECK(s.templates[0].memory == 256ll * 1024 * 1024);
  CHECK(s.templates[0].warm_pool.size == 2);
  CHECK(s.templates[0].warm_pool.enabled);  // the seed's default
  CHECK(s.templates[0].warm_pool.refresh_interval_seconds == 3600);
  CHECK(s.templates[0].idle_cull_seconds == 0);

  auto refused = [&](const std::string& text, const std::string& message) {
    std::ofstream(dir / "fleet.toml") << text;
    INFO(text);
    try {
      load_settings(home);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::BadInput);
      CHECK_THAT(e.what(), Catch::Contains((dir / "fleet.toml").string() + ":") && Catch::Contains(message));
    }
  };
  const std::string head = "[templates.t]\nlanguage = \"lua\"\nconfig = \"default.toml\"\n";
  refused(head + "warm_pool = { size = -2 }\n", "templates.t.warm_pool.size: must be a whole number");
  refused(head + "warm_pool = { sise = 2 }\n", "templates.t.warm_pool.sise: unknown key");
  refused(head + "graceful_drain = { timeout_seconds = \"30s\" }\n",
          "templates.t.graceful_drain.timeout_seconds");
  refused(head + "graceful_drain = { checkpoint = true }\n",
          "templates.t.graceful_drain.checkpoint: unknown key");
  refused(head + "idle_cull_seconds = -1\n", "templates.t.idle_cull_seconds");
  refused(head + "min_replicas = 2\n", "autoscaling is for compose services");
  refused("[templates.t]\nlanguage = \"lua\"\n", "templates.t: a template names its language and config");
  ::setenv("LLMSPELL_FLEET_SETTINGS", (dir / "nosuch.toml").c_str(), 1);
  CHECK_THROWS_WITH(load_settings(home), Catch::Contains("LLMSPELL_FLEET_SETTINGS"));
  ::unsetenv("LLMSPELL_FLEET_SETTINGS");
  std::filesystem::remove_all(dir);
}
