// Multi-step kernel flows through the door (fleet::Fleet) on the fake engine: which engine calls a
// flow makes (the fake's call log), what it leaves in the engine, and what it writes in the fleet
// home. The fleet home, configs and kernel context are temp folders named through the environment.
//
// Two things stay real: spawn probes host ports itself (so each test takes a range whose first
// blocks are free on this machine: 9555 when nothing else runs), and find's heartbeat is a real
// ZeroMQ round trip (answered here by an echo bound on the kernel's published hb port).
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <fstream>
#include <thread>

#include <zmq.hpp>

#include "compose/model.hpp"
#include "fleet/fleet.hpp"
#include "fleet/labels.hpp"
#include "fleet/ports.hpp"
#include "fleet/templates.hpp"
#include "support/fake_engine.hpp"

using namespace fleet;
using fleet::test::FakeContainer;
using fleet::test::FakeEngine;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kEnvironment[] = {"LLMSPELL_FLEET_HOME", "LLMSPELL_FLEET_CONFIGS",
                                        "LLMSPELL_KERNEL_CONTEXT", "LLMSPELL_FLEET_PORTS"};

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

bool has_key(const json& j, const std::string& key) {
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() == key || has_key(it.value(), key)) return true;
  if (j.is_array())
    for (const auto& item : j)
      if (has_key(item, key)) return true;
  return false;
}

std::vector<std::string> registry_ids(const fs::path& home) {
  const json registry = read_json(home / "registry" / "registry.json");
  std::vector<std::string> ids;
  for (const auto& k : registry.at("kernels")) ids.push_back(k.at("kernel_id"));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The first port from `from` up of a range whose first three blocks of five are free on this host.
int free_port_base(int from) {
  for (int base = from; base + 15 <= 65000; base += 5) {
    bool free = true;
    for (int port = base; free && port < base + 15; ++port) free = port_free("127.0.0.1", port);
    if (free) return base;
  }
  throw std::runtime_error("no three free blocks of host ports from " + std::to_string(from) + " up");
}

template <typename Fn>
Error fleet_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no fleet::Error was thrown");
  throw std::logic_error("unreachable");
}

// A fleet home, configs folder and kernel context of its own, named through the environment for
// the fleet this test makes, and a fake engine whose kernels serve as soon as they start. A test
// that binds a real port (the heartbeat echo) takes its range elsewhere, so tests running in
// parallel (ctest -j) never meet each other's sockets when they probe the host.
struct Flow {
  fs::path root, home, configs, context;
  int base = 0;  // first host port of this test's range
  FakeEngine engine;
  std::map<std::string, std::optional<std::string>> saved;

  explicit Flow(bool kernels_serve = true, int ports_from = 9555) {
    char pattern[] = "/tmp/fleet-flows-XXXXXX";
    REQUIRE(::mkdtemp(pattern));
    root = pattern;
    home = root / "home";
    configs = root / "configs";
    context = root / "kernel-context";
    fs::create_directories(configs);
    fs::create_directories(context);
    write(configs / "default.toml", "[provider]\nname = \"none\"\n");
    write(configs / "openai.toml", "[provider]\nname = \"openai\"\n");
    write(context / "Dockerfile", "FROM scratch\nCOPY llmspell-kernel /usr/local/bin/llmspell-kernel\n");
    base = free_port_base(ports_from);
    for (const char* name : kEnvironment) {
      const char* value = std::getenv(name);
      saved[name] = value ? std::optional<std::string>(value) : std::nullopt;
    }
    ::setenv("LLMSPELL_FLEET_HOME", home.c_str(), 1);
    ::setenv("LLMSPELL_FLEET_CONFIGS", configs.c_str(), 1);
    ::setenv("LLMSPELL_KERNEL_CONTEXT", context.c_str(), 1);
    ::setenv("LLMSPELL_FLEET_PORTS", (std::to_string(base) + "-" + std::to_string(base + 99)).c_str(), 1);
    if (kernels_serve) engine.on_start(FakeEngine::kernel_behaviour());
  }
  ~Flow() {
    for (const auto& [name, value] : saved)
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  fs::path connection_file(const std::string& kernel_id) const { return home / (kernel_id + ".json"); }
  // The engine calls that changed something, in order.
  std::vector<std::string> changes() const {
    static const std::set<std::string> kChanging = {"create", "start",        "stop",       "kill",
                                                    "remove", "pause",        "unpause",    "rename",
                                                    "build",  "remove_image", "put_archive"};
    std::vector<std::string> out;
    for (const auto& call : engine.calls())
      if (kChanging.count(call.substr(0, call.find(' ')))) out.push_back(call);
    return out;
  }
};

// The template hash a default spawn carries (what find and the pool match on).
std::string template_hash(const std::string& config = "default.toml") {
  Template t{.language = "lua",
             .config = config,
             .image = "llmspell:latest",
             .memory = 512ll * 1024 * 1024,
             .cpus = 0.5,
             .pids_limit = 128};
  return template_identity(t, FleetHome::from_environment());
}

// A kernel's heartbeat socket: a ZeroMQ REP that echoes, bound where the fake published hb.
class HeartbeatEcho {
 public:
  explicit HeartbeatEcho(int port) : socket_(context_, zmq::socket_type::rep) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:" + std::to_string(port));
    thread_ = std::thread([this] { serve(); });
  }
  ~HeartbeatEcho() {
    stop_ = true;
    thread_.join();
  }
  HeartbeatEcho(const HeartbeatEcho&) = delete;
  HeartbeatEcho& operator=(const HeartbeatEcho&) = delete;
  int answered() const { return answered_; }

 private:
  void serve() {
    while (!stop_) {
      zmq::pollitem_t items[] = {{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(20));
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      zmq::message_t message;
      if (!socket_.recv(message, zmq::recv_flags::dontwait)) continue;
      socket_.send(message, zmq::send_flags::none);
      ++answered_;
    }
  }

  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("flow: spawn makes one kernel container with its labels, ports and files", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow row = fleet.spawn({.name = "k1", .owner = "alice"});

  CHECK(row.kernel_id == "k1");
  CHECK(row.container == "llmspell-k1");
  CHECK(row.origin == "spawned");
  CHECK(row.state == "running");
  CHECK(row.owner == "alice");
  // The missing image was built from the kernel context, then exactly one container made and started.
  CHECK(f.changes() ==
        std::vector<std::string>{"build llmspell:latest", "create llmspell-k1", "start " + row.container_id});
  auto image = f.engine.image("llmspell:latest");
  REQUIRE(image);
  CHECK(image->labels.at(labels::kBuiltBy) == "llmspell-fleet");
  REQUIRE(f.engine.containers().size() == 1);

  engine::ContainerInspect c = f.engine.inspect_container(row.container_id);
  CHECK(c.labels.at(labels::kManaged) == "true");
  CHECK(c.labels.at(labels::kOrigin) == "spawned");
  CHECK(c.labels.at(labels::kKernel) == "true");
  CHECK(c.labels.at(labels::kKernelId) == "k1");
  CHECK(c.labels.at(labels::kTemplate) == template_hash());
  CHECK(c.labels.at(labels::kOwner) == "alice");
  CHECK(c.labels.at(labels::kLanguage) == "lua");
  CHECK(c.labels.at(labels::kConfig) == "default.toml");
  CHECK_FALSE(c.labels.count(labels::kComposeProject));
  CHECK(c.image == image->id);
  CHECK(c.memory == 512ll * 1024 * 1024);
  CHECK(c.nano_cpus == 500'000'000);
  CHECK(c.pids_limit == 128);
  CHECK(c.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(c.security_opt == std::vector<std::string>{"no-new-privileges:true"});
  CHECK(c.user == "1000:1000");

  // The five Jupyter ports as one block of host ports, on the loopback address.
  for (int p = 0; p < 5; ++p) {
    auto& bindings = c.ports[std::to_string(9555 + p) + "/tcp"];
    REQUIRE(bindings.size() == 1);
    CHECK(bindings[0].host_ip == "127.0.0.1");
    CHECK(bindings[0].host_port == std::to_string(f.base + p));
  }
  CHECK(row.shell_port == f.base);
  CHECK(row.ports == std::map<std::string, int>{{"shell", f.base},
                                                {"iopub", f.base + 1},
                                                {"stdin", f.base + 2},
                                                {"control", f.base + 3},
                                                {"hb", f.base + 4}});

  // The host connection file: the kernel's own with host ports, readable by its owner alone.
  const fs::path file = f.connection_file("k1");
  CHECK(row.connection_file == file.string());
  REQUIRE(fs::exists(file));
  CHECK((fs::status(file).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  json connection = read_json(file);
  CHECK(connection["shell_port"] == f.base);
  CHECK(connection["iopub_port"] == f.base + 1);
  CHECK(connection["hb_port"] == f.base + 4);
  CHECK(connection["ip"] == "127.0.0.1");
  CHECK(connection["key"] == "k");
  CHECK(connection["transport"] == "tcp");

  // The registry lists it, and never a key.
  json registry = read_json(f.home / "registry" / "registry.json");
  REQUIRE(registry["kernels"].size() == 1);
  CHECK(registry["kernels"][0]["kernel_id"] == "k1");
  CHECK(registry["kernels"][0]["shell_port"] == f.base);
  CHECK(registry["kernels"][0]["owner"] == "alice");
  CHECK_FALSE(has_key(registry, "key"));
  CHECK_FALSE(has_key(registry, "container_id"));
}

TEST_CASE("flow: a second spawn takes the next block of ports and builds nothing", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow k1 = fleet.spawn({.name = "k1"});
  KernelRow k2 = fleet.spawn({.name = "k2"});
  CHECK(k1.shell_port == f.base);
  CHECK(k2.shell_port == f.base + 5);
  CHECK(k2.ports.at("hb") == f.base + 9);
  CHECK(f.engine.container(k2.container_id)->host_port(9559) == f.base + 9);
  CHECK(f.engine.calls_named("build").size() == 1);
  CHECK(f.engine.calls_named("create").size() == 2);
  CHECK(registry_ids(f.home) == std::vector<std::string>{"k1", "k2"});
}

TEST_CASE("flow: spawn skips a block whose port another container publishes", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  f.engine.add_image("someone/else:1");
  json bindings = {
      {"8080/tcp", json::array({{{"HostIp", "127.0.0.1"}, {"HostPort", std::to_string(f.base + 5)}}})}};
  std::string other = f.engine
                          .create_container("someone-else", {{"Image", "someone/else:1"},
                                                             {"HostConfig", {{"PortBindings", bindings}}}})
                          .id;
  f.engine.start_container(other);
  f.engine.clear_calls();

  KernelRow k1 = fleet.spawn({.name = "k1"});
  KernelRow k2 = fleet.spawn({.name = "k2"});
  CHECK(k1.shell_port == f.base);
  CHECK(k2.shell_port == f.base + 10);  // base+5..9 hold the other container's port
  for (const auto& call : f.engine.calls()) CHECK(call.find(other) == std::string::npos);
  CHECK(f.engine.container(other)->state == "running");

  // Once it stops it publishes nothing, and its block is free again.
  f.engine.stop_container(other);
  KernelRow k3 = fleet.spawn({.name = "k3"});
  CHECK(k3.shell_port == f.base + 5);
}

TEST_CASE("flow: stop a kernel by its id, container name, container id or host port", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow k1 = fleet.spawn({.name = "k1"});
  KernelRow k2 = fleet.spawn({.name = "k2"});
  f.engine.clear_calls();

  std::string name;
  SECTION("kernel id") {
    name = "k1";
  }
  SECTION("container name") {
    name = "llmspell-k1";
  }
  SECTION("container id prefix") {
    name = k1.container_id.substr(0, 12);
  }
  SECTION("shell host port") {
    name = std::to_string(k1.shell_port);
  }
  SECTION("hb host port") {
    name = std::to_string(k1.ports.at("hb"));
  }

  auto rows = fleet.stop({.names = {name}});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].kernel_id == "k1");
  CHECK(rows[0].state == "removed");
  CHECK(f.changes() ==
        std::vector<std::string>{"stop " + k1.container_id + " t=30", "remove " + k1.container_id});
  CHECK_FALSE(f.engine.container(k1.container_id));
  CHECK(f.engine.container(k2.container_id)->state == "running");
  CHECK_FALSE(fs::exists(f.connection_file("k1")));
  CHECK(fs::exists(f.connection_file("k2")));
  CHECK(registry_ids(f.home) == std::vector<std::string>{"k2"});
}

TEST_CASE("flow: stop with one unknown name stops nothing", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow k1 = fleet.spawn({.name = "k1"});
  f.engine.clear_calls();

  Error e = fleet_error([&] { fleet.stop({.names = {"nosuch", k1.container_id}}); });
  CHECK(e.kind() == ErrorKind::NotFound);
  CHECK(std::string(e.what()).find("no such kernel: nosuch") != std::string::npos);
  CHECK(f.changes().empty());
  CHECK(f.engine.container(k1.container_id)->state == "running");
  CHECK(fs::exists(f.connection_file("k1")));
}

TEST_CASE("flow: stopping a paused kernel thaws it first", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow k1 = fleet.spawn({.name = "k1"});
  f.engine.pause_container(k1.container_id);
  f.engine.clear_calls();

  std::string timeout;
  SECTION("stop --timeout 5") {
    fleet.stop({.names = {"k1"}, .timeout = 5});
    timeout = "5";
  }
  SECTION("stop-all --force") {
    fleet.stop_all({.force = true});
    timeout = "0";
  }
  CHECK(f.changes() == std::vector<std::string>{"unpause " + k1.container_id,
                                                "stop " + k1.container_id + " t=" + timeout,
                                                "remove " + k1.container_id});
  CHECK(f.engine.containers().empty());
}

TEST_CASE("flow: containers whose fleet labels come from their image are not kernels", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow mine = fleet.spawn({.name = "mine"});
  // Someone else's images carry the fleet's labels; their containers add kernel-looking labels of
  // their own. Read as a whole, one would be an exited compose kernel, the other a spawned one.
  f.engine.add_image("thirdparty/compose-tool:1",
                     {{labels::kComposeProject, "llmspell"}, {labels::kManaged, "true"}});
  f.engine.add_image("thirdparty/tool:2", {{labels::kManaged, "true"}});
  std::string exited = f.engine
                           .create_container("impostor-a", {{"Image", "thirdparty/compose-tool:1"},
                                                            {"Labels",
                                                             {{labels::kKernel, "true"},
                                                              {labels::kKernelId, "impostor-a"},
                                                              {labels::kComposeService, "kernel"},
                                                              {labels::kComposeNumber, "1"}}}})
                           .id;
  f.engine.start_container(exited);
  f.engine.exit_container(exited, 0);
  std::string running = f.engine
                            .create_container("impostor-b", {{"Image", "thirdparty/tool:2"},
                                                             {"Labels",
                                                              {{labels::kKernel, "true"},
                                                               {labels::kKernelId, "impostor-b"},
                                                               {labels::kOrigin, "spawned"}}}})
                            .id;
  f.engine.start_container(running);
  REQUIRE(f.engine.inspect_container(exited).labels.at(labels::kComposeProject) == "llmspell");
  f.engine.clear_calls();

  auto listed = fleet.list({});
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].kernel_id == "mine");
  CHECK(fleet_error([&] { fleet.stop({.names = {"impostor-b"}}); }).kind() == ErrorKind::NotFound);

  auto stopped = fleet.stop_all({});
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0].kernel_id == "mine");
  CleanupReport report = fleet.cleanup();
  CHECK(report.removed.empty());

  CHECK(f.changes() ==
        std::vector<std::string>{"stop " + mine.container_id + " t=30", "remove " + mine.container_id});
  CHECK(f.engine.container(exited)->state == "exited");
  CHECK(f.engine.container(running)->state == "running");
  CHECK(registry_ids(f.home).empty());
}

TEST_CASE("flow: stop-all stops spawned kernels and leaves compose kernels alone", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow k1 = fleet.spawn({.name = "k1"});
  KernelRow k2 = fleet.spawn({.name = "k2"});
  // A replica of a compose kernel service, as `up` makes it.
  std::string compose_kernel =
      f.engine
          .create_container("llmspell-kernel-1", {{"Image", "llmspell:latest"},
                                                  {"Labels",
                                                   {{labels::kManaged, "true"},
                                                    {labels::kOrigin, "compose"},
                                                    {labels::kComposeProject, "llmspell"},
                                                    {labels::kComposeService, "kernel"},
                                                    {labels::kComposeNumber, "1"},
                                                    {labels::kComposeOneoff, "False"},
                                                    {labels::kKernel, "true"},
                                                    {labels::kKernelId, "llmspell-kernel-1"},
                                                    {labels::kLanguage, "lua"},
                                                    {labels::kConfig, "default.toml"}}}})
          .id;
  f.engine.start_container(compose_kernel);
  auto listed = fleet.list({});
  REQUIRE(listed.size() == 3);
  CHECK(std::count_if(listed.begin(), listed.end(),
                      [](const KernelRow& r) { return r.origin == "compose"; }) == 1);
  f.engine.clear_calls();

  auto rows = fleet.stop_all({});
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.kernel_id);
  CHECK(sorted(ids) == std::vector<std::string>{"k1", "k2"});
  CHECK(sorted(f.engine.calls_named("stop")) ==
        sorted({"stop " + k1.container_id + " t=30", "stop " + k2.container_id + " t=30"}));
  CHECK(f.engine.calls_named("remove").size() == 2);
  for (const auto& call : f.engine.calls()) CHECK(call.find(compose_kernel) == std::string::npos);
  CHECK(f.engine.container(compose_kernel)->state == "running");
  CHECK(f.engine.containers().size() == 1);
  CHECK(registry_ids(f.home) == std::vector<std::string>{"llmspell-kernel-1"});

  // --force: no grace period.
  KernelRow k3 = fleet.spawn({.name = "k3"});
  f.engine.clear_calls();
  fleet.stop_all({.force = true});
  CHECK(f.engine.calls_named("stop") == std::vector<std::string>{"stop " + k3.container_id + " t=0"});
}

TEST_CASE("flow: cleanup removes exited kernels, their files and stale ones", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow k1 = fleet.spawn({.name = "k1"});
  KernelRow k2 = fleet.spawn({.name = "k2"});
  f.engine.exit_container(k1.container_id, 1);  // k1 crashed
  write(f.home / "ghost.json", "{}\n");         // a connection file of a kernel long gone

  auto listed = fleet.list({});
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].kernel_id == "k1");
  CHECK(listed[0].state_text() == "exited (exit code 1)");
  f.engine.clear_calls();

  CleanupReport report = fleet.cleanup();
  CHECK(report.removed == std::vector<std::string>{"k1"});
  CHECK(report.registry_entries_dropped == 1);
  CHECK(report.connection_files == std::vector<std::string>{(f.home / "ghost.json").string()});
  CHECK(f.changes() == std::vector<std::string>{"remove " + k1.container_id});  // exited: no stop
  CHECK_FALSE(f.engine.container(k1.container_id));
  CHECK(f.engine.container(k2.container_id)->state == "running");
  CHECK_FALSE(fs::exists(f.connection_file("k1")));
  CHECK_FALSE(fs::exists(f.home / "ghost.json"));
  CHECK(fs::exists(f.connection_file("k2")));
  CHECK(registry_ids(f.home) == std::vector<std::string>{"k2"});

  // Nothing left to clean: a second cleanup changes nothing.
  f.engine.clear_calls();
  CleanupReport again = fleet.cleanup();
  CHECK(again.removed.empty());
  CHECK(again.registry_entries_dropped == 0);
  CHECK(f.changes().empty());
}

TEST_CASE("flow: find returns the kernel whose heartbeat answers", "[flow]") {
  Flow f(true, 29555);
  Fleet fleet(FleetOptions{}, f.engine);
  FindReport first = fleet.find({});
  CHECK(first.created);
  CHECK(first.kernel.owner == current_user());
  HeartbeatEcho echo(first.kernel.ports.at("hb"));
  f.engine.clear_calls();

  FindReport second = fleet.find({});
  CHECK_FALSE(second.created);
  CHECK(second.kernel.kernel_id == first.kernel.kernel_id);
  CHECK(echo.answered() >= 1);
  CHECK(f.changes().empty());
  CHECK(f.engine.containers().size() == 1);

  // Another owner's kernel is not theirs to find, unless shared; another config is another template.
  FindReport bobs = fleet.find({.owner = "bob"});
  CHECK(bobs.created);
  CHECK(bobs.kernel.owner == "bob");
  FindReport shared = fleet.find({.shared = true, .owner = "carol"});
  CHECK_FALSE(shared.created);
  CHECK(shared.kernel.kernel_id == first.kernel.kernel_id);  // the oldest that answers
  FindReport openai = fleet.find({.config = "openai.toml"});
  CHECK(openai.created);
  CHECK(f.engine.inspect_container(openai.kernel.container_id).labels.at(labels::kTemplate) ==
        template_hash("openai.toml"));
  CHECK(f.engine.containers().size() == 3);
}

TEST_CASE("flow: find spawns a new kernel when the running one does not answer its heartbeat", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  FindReport first = fleet.find({});
  REQUIRE(first.created);
  // Nothing listens on its hb port (the fake runs no kernel): after the heartbeat's second, a new one.
  FindReport second = fleet.find({});
  CHECK(second.created);
  CHECK(second.kernel.kernel_id != first.kernel.kernel_id);
  CHECK(f.engine.container(first.kernel.container_id)->state == "running");  // left for health to judge
  CHECK(f.engine.calls_named("create").size() == 2);
}

TEST_CASE("flow: a spawn whose start fails leaves no container behind", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  f.engine.fail_next("start", engine::ServerError("start container llmspell-k1: OCI runtime create failed",
                                                  500, "OCI runtime create failed"));
  Error e = fleet_error([&] { fleet.spawn({.name = "k1"}); });
  CHECK(e.kind() == ErrorKind::OperationFailed);
  CHECK(std::string(e.what()).find("OCI runtime create failed") != std::string::npos);
  auto changes = f.changes();
  REQUIRE(changes.size() == 4);
  CHECK(changes[1] == "create llmspell-k1");
  CHECK(changes[2].rfind("start ", 0) == 0);
  CHECK(changes[3] == "remove " + changes[2].substr(6));
  CHECK(f.engine.containers().empty());
  CHECK_FALSE(fs::exists(f.connection_file("k1")));

  // The name and the ports are free again.
  KernelRow k1 = fleet.spawn({.name = "k1"});
  CHECK(k1.shell_port == f.base);
}

TEST_CASE("flow: a spawn retries a start that lost a port race", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  const std::string race =
      "driver failed programming external connectivity on endpoint llmspell-k1 (x): Bind for "
      "127.0.0.1:" +
      std::to_string(f.base) + " failed: port is already allocated";
  f.engine.fail_next("start", engine::ServerError("start container: " + race, 500, race));
  KernelRow k1 = fleet.spawn({.name = "k1"});
  CHECK(k1.state == "running");
  CHECK(f.engine.calls_named("start").size() == 2);
  CHECK(f.engine.calls_named("remove").empty());
}

TEST_CASE("flow: a kernel that exits before it serves is removed and its output reported", "[flow]") {
  Flow f(false);
  f.engine.on_start([](FakeContainer& c) {
    c.state = "exited";
    c.exit_code = 1;
  });
  Fleet fleet(FleetOptions{}, f.engine);
  Error e = fleet_error([&] { fleet.spawn({.name = "k1"}); });
  CHECK(e.kind() == ErrorKind::OperationFailed);
  CHECK(std::string(e.what()).find("exited (exit code 1) before serving: log of llmspell-k1") !=
        std::string::npos);
  CHECK(f.engine.containers().empty());
  CHECK(f.engine.calls_named("remove").size() == 1);
}

TEST_CASE("flow: spawn refuses a kernel name that is taken, before creating anything", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  fleet.spawn({.name = "k1"});
  f.engine.clear_calls();
  Error e = fleet_error([&] { fleet.spawn({.name = "k1"}); });
  CHECK(e.kind() == ErrorKind::Conflict);
  CHECK(f.changes().empty());
  CHECK(f.engine.containers().size() == 1);
}

// `docker commit` of a kernel copies its labels into the image: a kernel from such an image could not
// be told from the one it was committed from, so the image is refused before anything is created.
TEST_CASE("flow: an image carrying the fleet's container labels is refused", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  f.engine.add_image("llmspell:latest", {{labels::kManaged, "true"}, {labels::kOrigin, "spawned"}});
  f.engine.clear_calls();
  Error e = fleet_error([&] { fleet.spawn({.name = "k1"}); });
  CHECK(e.kind() == ErrorKind::BadInput);
  CHECK_THAT(e.what(), Catch::Contains("carries the fleet's container label dev.llmspell.fleet.managed"));
  CHECK(f.changes().empty());
  CHECK(f.engine.containers().empty());
}

// An image compose built carries compose's project label; a spawned kernel from it inherits the
// label, and is still a spawned kernel, never a replica of that project.
TEST_CASE("flow: a spawned kernel's compose labels inherited from its image do not make it a project's",
          "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  f.engine.add_image("llmspell:latest",
                     {{labels::kComposeProject, "llmspell"}, {labels::kComposeService, "x"}});
  KernelRow k = fleet.spawn({.name = "k1"});
  CHECK(k.origin == "spawned");
  CHECK(k.project.empty());
  auto rows = fleet.list({});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].origin == "spawned");
  CHECK(fs::exists(f.connection_file("k1")));
}

TEST_CASE("flow: a broken fleet.toml stops spawn and find, never stop, list or cleanup", "[flow]") {
  Flow f;
  KernelRow k;
  {
    Fleet fleet(FleetOptions{}, f.engine);
    k = fleet.spawn({.name = "k1"});
  }
  write(f.configs / "fleet.toml", "[kernels]\nmemroy = \"1g\"\n");
  Fleet fleet(FleetOptions{}, f.engine);
  CHECK(fleet.list({}).size() == 1);
  Error spawn = fleet_error([&] { fleet.spawn({.name = "k2"}); });
  CHECK(spawn.kind() == ErrorKind::BadInput);
  CHECK_THAT(spawn.what(), Catch::Contains("fleet.toml:2: kernels.memroy: unknown key"));
  CHECK(fleet_error([&] { fleet.find({}); }).kind() == ErrorKind::BadInput);
  CHECK(fleet.stop({.names = {"k1"}}).size() == 1);
  CHECK(f.engine.containers().empty());
  CHECK(fleet.cleanup().removed.empty());
}

TEST_CASE("flow: a missing image other than the kernel image is refused, never built", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  f.engine.clear_calls();
  Error e = fleet_error([&] { fleet.spawn({.image = "pyhton:3.12"}); });
  CHECK(e.kind() == ErrorKind::BadInput);
  CHECK_THAT(e.what(), Catch::Contains("image pyhton:3.12 is not on this engine"));
  CHECK(f.changes().empty());
  CHECK(f.engine.images().empty());
}

TEST_CASE("flow: stop-all and cleanup act on one owner's kernels unless told --all", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  KernelRow a = fleet.spawn({.name = "a1", .owner = "alice"});
  KernelRow b = fleet.spawn({.name = "b1", .owner = "bob"});
  KernelRow b2 = fleet.spawn({.name = "b2", .owner = "bob"});
  CHECK(fleet.stop_all({}).empty());  // the caller (the OS user) owns none of them
  auto alice = fleet.stop_all({.scope = {.owner = "alice"}});
  REQUIRE(alice.size() == 1);
  CHECK(alice[0].kernel_id == "a1");
  CHECK(f.engine.container(b.container_id));
  f.engine.exit_container(b.container_id, 137);
  CHECK(fleet.cleanup({.owner = "carol"}).removed.empty());
  CHECK(fleet.cleanup({.all_owners = true}).removed == std::vector<std::string>{"b1"});
  CHECK(fleet.stop_all({.scope = {.all_owners = true}}).size() == 1);  // b2
  CHECK(f.engine.containers().empty());
  CHECK(fleet_error([&] { fleet.stop_all({.scope = {.owner = "x", .all_owners = true}}); }).kind() ==
        ErrorKind::BadInput);
}

TEST_CASE("flow: kernel-launch publishes a Jupyter connection file's ports with its key, then removes it",
          "[flow]") {
  Flow f;
  const fs::path file = f.root / "kernel-1234.json";
  const int p = f.base + 50;  // any ports: the client chose them, the fleet's range is not asked
  write(file, json({{"shell_port", p},
                    {"iopub_port", p + 1},
                    {"stdin_port", p + 2},
                    {"control_port", p + 3},
                    {"hb_port", p + 4},
                    {"ip", "127.0.0.1"},
                    {"key", "jupyters-key"},
                    {"transport", "tcp"},
                    {"signature_scheme", "hmac-sha256"}})
                  .dump());
  Fleet fleet(FleetOptions{}, f.engine);
  std::atomic<bool> stop{false};
  std::string container_id;
  int code = fleet.launch(
      {.connection_file = file.string(), .owner = "alice", .stop = &stop, .started = [&](const KernelRow& k) {
         container_id = k.container_id;
         engine::ContainerInspect c = f.engine.inspect_container(k.container_id);
         CHECK(k.kernel_id == "jupyter-kernel-1234");
         CHECK(c.labels.at(labels::kLauncher) == file.string());
         CHECK(c.labels.at(labels::kTemplate) == template_hash());
         CHECK(c.labels.at(labels::kOwner) == "alice");
         CHECK(f.engine.container(k.container_id)->env_value("LLMSPELL_KERNEL_KEY") == "jupyters-key");
         for (int i = 0; i < 5; ++i)
           CHECK(c.ports[std::to_string(9555 + i) + "/tcp"].at(0).host_port == std::to_string(p + i));
         stop = true;  // as SIGTERM would
       }});
  CHECK(code == 0);
  REQUIRE_FALSE(container_id.empty());
  CHECK(f.changes() == std::vector<std::string>{"build llmspell:latest",
                                                "create llmspell-jupyter-kernel-1234",
                                                "start " + container_id, "stop " + container_id + " t=10",
                                                "remove " + container_id});
  CHECK(f.engine.containers().empty());
  CHECK_FALSE(fs::exists(f.connection_file("jupyter-kernel-1234")));

  // A kernel that ends on its own (a shutdown request) ends the launcher with its code.
  code = fleet.launch({.connection_file = file.string(),
                       .started = [&](const KernelRow& k) { f.engine.exit_container(k.container_id, 3); }});
  CHECK(code == 3);
  CHECK(f.engine.containers().empty());

  // Bad connection files are refused before anything is made.
  write(file, R"({"shell_port": 1, "signature_scheme": "hmac-md5"})");
  CHECK(std::string(fleet_error([&] { fleet.launch({.connection_file = file.string()}); }).what())
            .find("hmac-sha256") != std::string::npos);
  write(file, R"({"shell_port": 70000, "iopub_port": 1, "stdin_port": 2, "control_port": 3, "hb_port": 4})");
  CHECK(std::string(fleet_error([&] { fleet.launch({.connection_file = file.string()}); }).what())
            .find("70000") != std::string::npos);
}

TEST_CASE("flow: top reads the pools a live serve last wrote, and says when it is gone", "[flow]") {
  Flow f;
  Fleet fleet(FleetOptions{}, f.engine);
  CHECK(fleet.top({}).pools.empty());
  fs::create_directories(f.home);
  const json pool = {{"template", "lua-default"}, {"current_size", 2}, {"filling", 1},
                     {"target_size", 3},          {"hits", 7},         {"misses", 1}};
  write(f.home / "pools.json",
        json({{"pid", ::getpid()}, {"updated_unix", std::time(nullptr)}, {"pools", {pool}}}).dump());
  TopReport live = fleet.top({});
  REQUIRE(live.pools.size() == 1);
  CHECK(live.pools_live);
  CHECK(live.pools[0].name == "lua-default");
  CHECK(live.pools[0].current_size == 2);
  CHECK(live.pools[0].hits == 7);
  // Not updated for an hour: no serve keeps them any more.
  write(f.home / "pools.json",
        json({{"pid", ::getpid()}, {"updated_unix", std::time(nullptr) - 3600}, {"pools", {pool}}}).dump());
  CHECK_FALSE(fleet.top({}).pools_live);
}
