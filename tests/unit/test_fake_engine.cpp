// The fake engine against what the real one does (Engine 20.10.24, API 1.41, measured): a test
// double the flow tests trust has to be right itself.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>

#include "support/fake_engine.hpp"
#include "util/tar.hpp"

using namespace fleet;
using fleet::test::FakeContainer;
using fleet::test::FakeEngine;
using nlohmann::json;

namespace {

json body(const std::string& image, json labels = json::object()) {
  return {{"Image", image}, {"Labels", std::move(labels)}};
}

json published(const std::vector<std::pair<std::string, std::string>>& ports,
               const std::string& ip = "127.0.0.1") {
  json bindings = json::object(), exposed = json::object();
  for (const auto& [key, host] : ports) {
    bindings[key].push_back({{"HostIp", ip}, {"HostPort", host}});
    exposed[key] = json::object();
  }
  return {{"Image", "app:1"}, {"ExposedPorts", exposed}, {"HostConfig", {{"PortBindings", bindings}}}};
}

// Runs `fn` and returns the engine error it threw (fails the test when it throws nothing).
template <typename Fn>
engine::EngineError engine_error(Fn&& fn) {
  try {
    fn();
  } catch (const engine::EngineError& e) {
    return e;
  }
  FAIL("no engine error was thrown");
  throw std::logic_error("unreachable");
}

std::string file_in(const engine::ArchiveResult& archive) {
  auto entries = util::read_tar(archive.tar);
  REQUIRE(entries.size() == 1);
  return entries.front().content;
}

}  // namespace

TEST_CASE("fake engine: create keeps names unique with the daemon's wording", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string id = fake.create_container("web", body("app:1")).id;
  CHECK(id.size() == 64);

  auto e = engine_error([&] { fake.create_container("web", body("app:1")); });
  CHECK(e.kind() == engine::ErrorKind::Conflict);
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() ==
        "Conflict. The container name \"/web\" is already in use by container \"" + id +
            "\". You have to remove (or rename) that container to be able to reuse that name.");
  CHECK(fake.containers().size() == 1);

  e = engine_error([&] { fake.create_container("x", body("app:1")); });
  CHECK(e.kind() == engine::ErrorKind::BadRequest);
  CHECK(e.daemon_message().find("Invalid container name (x)") == 0);
}

TEST_CASE("fake engine: an unknown image is a 404 naming the image with its tag", "[fake]") {
  FakeEngine fake;
  auto e = engine_error([&] { fake.create_container("web", body("nosuch")); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
  CHECK(e.daemon_message() == "No such image: nosuch:latest");
  CHECK(fake.containers().empty());
}

TEST_CASE("fake engine: the image's labels and env are merged under the container's", "[fake]") {
  FakeEngine fake;
  std::string image_id = fake.add_image("app:1", {{"a", "image"}, {"b", "image"}}, {"X=image", "Y=image"});
  fake.create_container(
      "web", {{"Image", "app:1"}, {"Labels", {{"b", "mine"}, {"c", "mine"}}}, {"Env", {"X=mine"}}});

  engine::ContainerInspect i = fake.inspect_container("web");
  CHECK(i.labels == engine::Labels{{"a", "image"}, {"b", "mine"}, {"c", "mine"}});
  CHECK(i.env == std::vector<std::string>{"X=mine", "Y=image"});
  CHECK(i.image == image_id);
  CHECK(i.config_image == "app:1");
  auto listed = fake.list_containers();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].labels == i.labels);
  CHECK(listed[0].image_id == image_id);
}

TEST_CASE("fake engine: start, stop and kill follow the engine's states and 304s", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string id = fake.create_container("web", body("app:1")).id;
  CHECK(fake.inspect_container(id).state.status == "created");

  CHECK(fake.start_container(id));
  CHECK_FALSE(fake.start_container("web"));  // 304: already running
  auto i = fake.inspect_container(id);
  CHECK(i.state.running);
  CHECK(i.state.status == "running");

  CHECK(fake.stop_container(id, 5));
  i = fake.inspect_container(id);
  CHECK(i.state.status == "exited");
  CHECK(i.state.exit_code == 0);
  CHECK_FALSE(fake.stop_container(id));  // 304: not running

  auto e = engine_error([&] { fake.kill_container(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() == "Cannot kill container: " + id + ": Container " + id + " is not running");

  CHECK(fake.start_container(id));  // an exited container starts again
  fake.kill_container(id);
  i = fake.inspect_container(id);
  CHECK(i.state.status == "exited");
  CHECK(i.state.exit_code == 137);
  CHECK(fake.container(id)->starts == 2);

  e = engine_error([&] { fake.start_container("nosuch"); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
  CHECK(e.daemon_message() == "No such container: nosuch");
}

TEST_CASE("fake engine: pause and unpause answer 409 and 500 as the engine does, never 304", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string id = fake.create_container("web", body("app:1")).id;

  auto e = engine_error([&] { fake.pause_container(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() == "Container " + id + " is not running");

  fake.start_container(id);
  e = engine_error([&] { fake.unpause_container(id); });
  CHECK(e.status() == 500);
  CHECK(e.kind() == engine::ErrorKind::ServerError);
  CHECK(e.daemon_message() == "Container " + id + " is not paused");

  CHECK(fake.pause_container(id));
  auto i = fake.inspect_container(id);
  CHECK(i.state.status == "paused");
  CHECK(i.state.paused);
  CHECK(i.state.running);
  e = engine_error([&] { fake.pause_container(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() == "Container " + id + " is already paused");
  e = engine_error([&] { fake.start_container(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() == "cannot start a paused container, try unpause instead");

  CHECK(fake.unpause_container(id));
  CHECK(fake.inspect_container(id).state.status == "running");

  // A paused container can be stopped: the engine thaws it for the signal.
  fake.pause_container(id);
  CHECK(fake.stop_container(id));
  CHECK(fake.inspect_container(id).state.status == "exited");
}

TEST_CASE("fake engine: remove refuses a running or paused container unless forced", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string id = fake.create_container("web", body("app:1")).id;
  fake.start_container(id);

  auto e = engine_error([&] { fake.remove_container(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() == "You cannot remove a running container " + id +
                                  ". Stop the container before attempting removal or force remove");
  fake.pause_container(id);
  e = engine_error([&] { fake.remove_container(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message().find("You cannot remove a paused container " + id) == 0);
  CHECK(fake.container(id));

  fake.remove_container(id, {.force = true});
  CHECK_FALSE(fake.container(id));
  e = engine_error([&] { fake.remove_container(id); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);

  // A stopped one goes without force.
  std::string other = fake.create_container("other", body("app:1")).id;
  fake.remove_container("other");
  CHECK_FALSE(fake.container(other));
}

TEST_CASE("fake engine: rename moves the name and refuses a taken one", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string a = fake.create_container("a1", body("app:1")).id;
  std::string b = fake.create_container("b1", body("app:1")).id;

  auto e = engine_error([&] { fake.rename_container(a, "b1"); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message().find("The container name \"/b1\" is already in use by container \"" + b + "\"") !=
        std::string::npos);
  e = engine_error([&] { fake.rename_container(a, "a1"); });
  CHECK(e.status() == 400);
  CHECK(e.daemon_message() == "Renaming a container with the same name as its current name");

  fake.rename_container(a, "a2");
  CHECK(fake.inspect_container("a2").id == a);
  CHECK(fake.inspect_container(a).name == "a2");
  CHECK_FALSE(fake.container("a1"));
  CHECK(fake.list_containers()[1].names == std::vector<std::string>{"/a2"});
}

TEST_CASE("fake engine: published ports: ephemeral ones from 32768, explicit ones as given", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string a = fake.create_container("a1", published({{"9555/tcp", ""}, {"9556/tcp", ""}})).id;
  std::string b = fake.create_container("b1", published({{"9555/tcp", ""}})).id;
  std::string c = fake.create_container("c1", published({{"9555/tcp", "9600"}, {"9556/tcp", "9601"}})).id;
  fake.start_container(a);
  fake.start_container(b);
  fake.start_container(c);

  CHECK(fake.container(a)->host_port(9555) == 32768);
  CHECK(fake.container(a)->host_port(9556) == 32769);
  CHECK(fake.container(b)->host_port(9555) == 32770);

  engine::ContainerInspect i = fake.inspect_container(c);
  REQUIRE(i.ports.count("9555/tcp"));
  REQUIRE(i.ports["9555/tcp"].size() == 1);
  CHECK(i.ports["9555/tcp"][0].host_ip == "127.0.0.1");
  CHECK(i.ports["9555/tcp"][0].host_port == "9600");
  CHECK(i.ports["9556/tcp"][0].host_port == "9601");

  auto listed = fake.list_containers({.filters = {{"name", {"c1"}}}});
  REQUIRE(listed.size() == 1);
  std::set<std::pair<int, int>> ports;
  for (const auto& p : listed[0].ports) {
    CHECK(p.type == "tcp");
    CHECK(p.ip == "127.0.0.1");
    ports.insert({p.private_port, p.public_port});
  }
  CHECK(ports == std::set<std::pair<int, int>>{{9555, 9600}, {9556, 9601}});

  // A stopped container publishes nothing, and its ports are free again.
  fake.stop_container(c);
  CHECK(fake.inspect_container(c).ports.empty());
  CHECK(fake.list_containers({.all = true, .filters = {{"name", {"c1"}}}})[0].ports.empty());
  std::string d = fake.create_container("d1", published({{"9555/tcp", "9600"}})).id;
  CHECK(fake.start_container(d));
}

TEST_CASE("fake engine: an explicit port another container holds is the engine's 500", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  fake.start_container(fake.create_container("a1", published({{"9555/tcp", "9600"}})).id);
  std::string b = fake.create_container("b1", published({{"9555/tcp", "9600"}})).id;

  auto e = engine_error([&] { fake.start_container(b); });
  CHECK(e.kind() == engine::ErrorKind::ServerError);
  CHECK(e.status() == 500);
  CHECK(e.daemon_message().find("driver failed programming external connectivity on endpoint b1 (") == 0);
  CHECK(e.daemon_message().find("Bind for 127.0.0.1:9600 failed: port is already allocated") !=
        std::string::npos);
  auto i = fake.inspect_container(b);
  CHECK(i.state.status == "created");
  CHECK(i.state.error == e.daemon_message());

  // Another address is another socket; the wildcard address clashes with every address.
  std::string c = fake.create_container("c1", published({{"9555/tcp", "9600"}}, "127.0.0.2")).id;
  CHECK(fake.start_container(c));
  std::string d = fake.create_container("d1", published({{"9555/tcp", "9600"}}, "")).id;
  e = engine_error([&] { fake.start_container(d); });
  CHECK(e.status() == 500);
  CHECK(e.daemon_message().find("address already in use") != std::string::npos);
}

TEST_CASE("fake engine: inspect maps HostConfig and keeps the engine's raw shape", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  fake.create_container("web", {{"Image", "app:1"},
                                {"User", "1000:1000"},
                                {"Cmd", {"start", "--port", "9555"}},
                                {"Healthcheck", {{"Test", {"CMD", "probe"}}}},
                                {"HostConfig",
                                 {{"Memory", 536870912},
                                  {"NanoCpus", 500000000},
                                  {"PidsLimit", 128},
                                  {"CapDrop", {"ALL"}},
                                  {"SecurityOpt", {"no-new-privileges:true"}},
                                  {"RestartPolicy", {{"Name", "no"}}}}}});
  engine::ContainerInspect i = fake.inspect_container("web");
  CHECK(i.name == "web");
  CHECK(i.user == "1000:1000");
  CHECK(i.cmd == std::vector<std::string>{"start", "--port", "9555"});
  CHECK(i.memory == 536870912);
  CHECK(i.nano_cpus == 500000000);
  CHECK(i.pids_limit == 128);
  CHECK(i.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(i.security_opt == std::vector<std::string>{"no-new-privileges:true"});
  CHECK(i.restart_policy == "no");
  CHECK_FALSE(i.state.health);  // not started: no health yet
  CHECK(i.raw["Name"] == "/web");
  CHECK(i.raw["State"]["StartedAt"] == "0001-01-01T00:00:00Z");
  CHECK(i.raw["Config"]["Image"] == "app:1");

  fake.start_container("web");
  i = fake.inspect_container("web");
  REQUIRE(i.state.health);
  CHECK(i.state.health->status == "starting");
  CHECK(fake.list_containers()[0].status.find("(health: starting)") != std::string::npos);
  fake.set_health("web", "healthy");
  CHECK(fake.list_containers()[0].status.find("(healthy)") != std::string::npos);
  CHECK(i.raw["State"]["StartedAt"].get<std::string>().rfind("20", 0) == 0);
}

TEST_CASE("fake engine: list: all, label and status filters, newest first", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string a = fake.create_container("a1", body("app:1", {{"role", "kernel"}, {"team", "x"}})).id;
  std::string b = fake.create_container("b1", body("app:1", {{"role", "kernel"}, {"team", "y"}})).id;
  std::string c = fake.create_container("c1", body("app:1", {{"role", "db"}})).id;
  fake.start_container(b);
  fake.start_container(c);
  fake.pause_container(c);

  auto ids = [](const std::vector<engine::ContainerSummary>& list) {
    std::vector<std::string> out;
    for (const auto& s : list) out.push_back(s.id);
    return out;
  };
  CHECK(ids(fake.list_containers()) == std::vector<std::string>{c, b, a});
  CHECK(fake.list_containers()[0].created > fake.list_containers()[1].created);
  // Without `all`: running and paused ones.
  CHECK(ids(fake.list_containers({.all = false})) == std::vector<std::string>{c, b});
  CHECK(ids(fake.list_containers({.filters = {{"label", {"role"}}}})) == std::vector<std::string>{c, b, a});
  CHECK(ids(fake.list_containers({.filters = {{"label", {"role=kernel"}}}})) ==
        std::vector<std::string>{b, a});
  CHECK(ids(fake.list_containers({.filters = {{"label", {"role=kernel", "team=x"}}}})) ==
        std::vector<std::string>{a});
  CHECK(ids(fake.list_containers({.filters = {{"label", {"role=kernel", "nokey"}}}})).empty());
  CHECK(ids(fake.list_containers({.filters = {{"status", {"created", "paused"}}}})) ==
        std::vector<std::string>{c, a});
  // A status filter shows stopped containers without `all` (docker ps -f status=created).
  CHECK(ids(fake.list_containers({.all = false, .filters = {{"status", {"created"}}}})) ==
        std::vector<std::string>{a});
  CHECK(fake.list_containers({.filters = {{"name", {"b1"}}}})[0].state == "running");
  CHECK(fake.list_containers({.filters = {{"name", {"c1"}}}})[0].status.find("(Paused)") !=
        std::string::npos);

  auto e = engine_error([&] { fake.list_containers({.filters = {{"colour", {"red"}}}}); });
  CHECK(e.status() == 400);
  CHECK(e.daemon_message() == "Invalid filter 'colour'");
  CHECK_THROWS_AS(fake.list_containers({.filters = {{"ancestor", {"app:1"}}}}), std::logic_error);
}

TEST_CASE("fake engine: images: by tag or id, a rebuild leaves the old one dangling", "[fake]") {
  FakeEngine fake;
  std::string old_id = fake.add_image("app", {{"v", "1"}});
  CHECK(old_id.rfind("sha256:", 0) == 0);
  CHECK(fake.inspect_image("app:latest").id == old_id);
  CHECK(fake.inspect_image("app").labels == engine::Labels{{"v", "1"}});
  CHECK(fake.inspect_image(old_id).repo_tags == std::vector<std::string>{"app:latest"});
  CHECK(fake.inspect_image(old_id.substr(7, 12)).id == old_id);
  auto e = engine_error([&] { fake.inspect_image("nosuch:1"); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
  CHECK(e.daemon_message() == "no such image: nosuch:1: No such image: nosuch:1");

  util::TarWriter context;
  context.add_file("Dockerfile", "FROM scratch\nCOPY x /x\n");
  std::vector<std::string> progress;
  std::string new_id = fake.build_image(context.finish(), {.tag = "app:latest", .labels = {{"v", "2"}}},
                                        [&](std::string_view line) { progress.emplace_back(line); });
  CHECK(new_id != old_id);
  CHECK(fake.inspect_image("app").id == new_id);
  CHECK(fake.inspect_image(old_id).repo_tags.empty());
  CHECK(progress.front() == "Step 1/2 : FROM scratch");
  CHECK(progress.back() == "Successfully tagged app:latest");

  auto dangling = fake.list_images({{"dangling", {"true"}}});
  REQUIRE(dangling.size() == 1);
  CHECK(dangling[0].id == old_id);
  CHECK(dangling[0].repo_tags == std::vector<std::string>{"<none>:<none>"});
  CHECK(fake.list_images({{"label", {"v=2"}}}).size() == 1);
  CHECK(fake.list_images({{"label", {"v"}}}).size() == 2);
  CHECK(fake.list_images({{"dangling", {"false"}}, {"label", {"v=1"}}}).empty());
  CHECK(fake.list_images()[0].id == new_id);  // newest first

  util::TarWriter no_dockerfile;
  no_dockerfile.add_file("README", "x");
  e = engine_error([&] { fake.build_image(no_dockerfile.finish(), {.tag = "app:2"}); });
  CHECK(e.daemon_message() == "Cannot locate specified Dockerfile: Dockerfile");
}

TEST_CASE("fake engine: an image in use is removed only as the engine allows", "[fake]") {
  FakeEngine fake;
  std::string id = fake.add_image("app:1");
  std::string c = fake.create_container("web", body("app:1")).id;
  const std::string short_image = id.substr(7, 12), short_container = c.substr(0, 12);

  auto e = engine_error([&] { fake.remove_image(id); });
  CHECK(e.status() == 409);
  CHECK(e.daemon_message() == "conflict: unable to delete " + short_image +
                                  " (must be forced) - image is being used by stopped container " +
                                  short_container);
  fake.start_container(c);
  e = engine_error([&] { fake.remove_image(id, true); });
  CHECK(e.daemon_message() == "conflict: unable to delete " + short_image +
                                  " (cannot be forced) - image is being used by running container " +
                                  short_container);
  e = engine_error([&] { fake.remove_image("app:1"); });
  CHECK(e.daemon_message() ==
        "conflict: unable to remove repository reference \"app:1\" (must force) - container " +
            short_container + " is using its referenced image " + short_image);

  // Forced by tag: only the tag goes; the container keeps its image, listed by id now.
  fake.remove_image("app:1", true);
  REQUIRE(fake.image(id));
  CHECK(fake.image(id)->tags.empty());
  CHECK(fake.list_containers()[0].image == id);

  fake.stop_container(c);
  fake.remove_image(id, true);
  CHECK_FALSE(fake.image(id));
  e = engine_error([&] { fake.remove_image(id); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
  // A container whose image is gone still inspects.
  CHECK(fake.inspect_container(c).image == id);

  std::string unused = fake.add_image("tool:1");
  fake.remove_image("tool:1");
  CHECK_FALSE(fake.image(unused));
}

TEST_CASE("fake engine: archives of files, of folders, and of files that are not there", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  fake.on_start(FakeEngine::kernel_behaviour());
  std::string id = fake.create_container("k1", body("app:1")).id;

  auto e = engine_error([&] { fake.get_archive(id, "/var/lib/llmspell/state/status.json"); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
  CHECK(e.daemon_message() == "Could not find the file /var/lib/llmspell/state/status.json in container k1");

  fake.start_container(id);
  engine::ArchiveResult status = fake.get_archive(id, "/var/lib/llmspell/state/status.json");
  CHECK(json::parse(file_in(status)) == json{{"execution_state", "idle"}});
  CHECK(util::read_tar(status.tar).front().path == "status.json");
  CHECK(status.stat["name"] == "status.json");

  json connection = json::parse(file_in(fake.get_archive(id, "/var/lib/llmspell/state/connection.json")));
  CHECK(connection["shell_port"] == 9555);
  CHECK(connection["hb_port"] == 9559);
  CHECK(connection["key"] == "k");
  CHECK(connection["signature_scheme"] == "hmac-sha256");

  auto folder = util::read_tar(fake.get_archive(id, "/var/lib/llmspell/state/").tar);
  std::set<std::string> paths;
  for (const auto& entry : folder) paths.insert(entry.path);
  CHECK(paths.count("state/status.json"));
  CHECK(paths.count("state/connection.json"));

  util::TarWriter upload;
  upload.add_file("notes.txt", "hello");
  fake.put_archive(id, "/tmp", upload.finish());
  CHECK(file_in(fake.get_archive(id, "/tmp/notes.txt")) == "hello");
  // Files stay with the container when it stops (its writable layer).
  fake.stop_container(id);
  CHECK(file_in(fake.get_archive(id, "/tmp/notes.txt")) == "hello");
}

TEST_CASE("fake engine: the kernel behaviour writes where the container's environment says", "[fake]") {
  FakeEngine fake;
  fake.add_image("llmspell:latest", {},
                 {"LLMSPELL_STATE_DIR=/state", "LLMSPELL_CONNECTION_FILE=/state/conn.json"});
  fake.on_start(FakeEngine::kernel_behaviour());
  std::string id = fake.create_container("k1", body("llmspell:latest")).id;
  fake.start_container(id);
  CHECK(json::parse(file_in(fake.get_archive(id, "/state/status.json")))["execution_state"] == "idle");
  CHECK(json::parse(file_in(fake.get_archive(id, "/state/conn.json")))["iopub_port"] == 9556);
  CHECK(fake.container(id)->files.at("/state/conn.json").mode == 0600u);
}

TEST_CASE("fake engine: a behaviour can end a container as it starts", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  fake.on_start([](FakeContainer& c) {
    c.state = "exited";
    c.exit_code = 3;
  });
  std::string id = fake.create_container("a1", published({{"9555/tcp", ""}})).id;
  CHECK(fake.start_container(id));
  auto i = fake.inspect_container(id);
  CHECK(i.state.status == "exited");
  CHECK(i.state.exit_code == 3);
  CHECK(i.ports.empty());
  CHECK(fake.list_containers()[0].status.rfind("Exited (3)", 0) == 0);
}

TEST_CASE("fake engine: exit_container ends a running container as a crash would", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string id = fake.create_container("a1", published({{"9555/tcp", "9600"}})).id;
  CHECK_THROWS_AS(fake.exit_container(id, 1), std::logic_error);  // not running
  fake.start_container(id);
  fake.exit_container(id, 1);
  auto i = fake.inspect_container(id);
  CHECK(i.state.status == "exited");
  CHECK(i.state.exit_code == 1);
  CHECK(fake.list_containers()[0].ports.empty());
}

TEST_CASE("fake engine: the call log names each call, and fail_next makes the next one throw", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");  // set-up, not an engine call
  CHECK(fake.calls().empty());
  std::string id = fake.create_container("web", body("app:1")).id;
  fake.fail_next("start", engine::ServerError("start container " + id + ": boom", 500, "boom"));

  auto e = engine_error([&] { fake.start_container(id); });
  CHECK(e.daemon_message() == "boom");
  CHECK(fake.inspect_container(id).state.status == "created");  // the failed call changed nothing
  CHECK(fake.start_container(id));                              // only the next one failed
  fake.pause_container(id);
  fake.stop_container(id, 30);
  fake.remove_container(id);

  CHECK(fake.calls() == std::vector<std::string>{"create web", "start " + id, "inspect " + id, "start " + id,
                                                 "pause " + id, "stop " + id + " t=30", "remove " + id});
  CHECK(fake.calls_named("start").size() == 2);
  fake.clear_calls();
  CHECK(fake.calls().empty());

  fake.fail_next("list_containers", engine::ConnectionError("no engine"));
  fake.fail_next("list_containers", engine::TimeoutError("slow"));
  CHECK_THROWS_AS(fake.list_containers(), engine::ConnectionError);
  CHECK_THROWS_AS(fake.list_containers(), engine::TimeoutError);
  CHECK(fake.list_containers().empty());
}

TEST_CASE("fake engine: system calls, networks and volumes", "[fake]") {
  FakeEngine fake;
  nlohmann::json info = fake.info();
  CHECK(info["NCPU"] == 2);
  CHECK(info["MemTotal"] == 24ll * 1024 * 1024 * 1024);
  CHECK(fake.ping().api_version == "1.41");
  CHECK(fake.version().api_version == "1.41");

  std::string net =
      fake.create_network({.name = "proj_default", .labels = {{"com.docker.compose.project", "proj"}}});
  auto e = engine_error([&] { fake.create_network({.name = "proj_default"}); });
  CHECK(e.status() == 409);
  CHECK(fake.list_networks({{"label", {"com.docker.compose.project=proj"}}}).size() == 1);
  CHECK(fake.list_networks({{"label", {"com.docker.compose.project=other"}}}).empty());
  CHECK(fake.inspect_network("proj_default").id == net);

  fake.add_image("app:1");
  std::string id =
      fake.create_container("web", {{"Image", "app:1"}, {"HostConfig", {{"NetworkMode", "proj_default"}}}})
          .id;
  CHECK(fake.inspect_network(net).containers.at(id) == "web");
  CHECK(fake.inspect_container(id).networks == std::vector<std::string>{"proj_default"});
  e = engine_error([&] { fake.remove_network(net); });
  CHECK(e.daemon_message().find("has active endpoints") != std::string::npos);
  e = engine_error([&] {
    fake.create_container("web2", {{"Image", "app:1"}, {"HostConfig", {{"NetworkMode", "nonet"}}}});
  });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
  fake.remove_container(id);
  fake.remove_network(net);
  CHECK(fake.list_networks().empty());

  fake.create_volume("proj_data", {{"com.docker.compose.project", "proj"}});
  CHECK(fake.create_volume("proj_data").labels.at("com.docker.compose.project") ==
        "proj");  // the existing one
  CHECK(fake.list_volumes({{"label", {"com.docker.compose.project=proj"}}}).size() == 1);
  fake.create_container("db", {{"Image", "app:1"}, {"HostConfig", {{"Binds", {"proj_data:/data:rw"}}}}});
  e = engine_error([&] { fake.remove_volume("proj_data"); });
  CHECK(e.status() == 409);
  fake.remove_container("db");
  fake.remove_volume("proj_data");
  CHECK(fake.volumes().empty());
  e = engine_error([&] { fake.remove_volume("proj_data"); });
  CHECK(e.kind() == engine::ErrorKind::NotFound);
}

TEST_CASE("fake engine: logs, stats and exec are minimal; what it lacks says so", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::string id =
      fake.create_container("web", {{"Image", "app:1"}, {"HostConfig", {{"Memory", 512 * 1024 * 1024}}}}).id;

  engine::StatsSample idle = fake.container_stats(id);
  CHECK(idle.memory_usage == 0);
  auto e = engine_error([&] { fake.exec_run(id, {.cmd = {"true"}}); });
  CHECK(e.status() == 409);

  fake.start_container(id);
  engine::StatsSample s = fake.container_stats(id);
  CHECK(engine::cpu_percent(s) == Approx(2.0));
  CHECK(engine::memory_used(s) == 60u * 1024 * 1024);
  CHECK(s.memory_limit == 512u * 1024 * 1024);
  CHECK(fake.exec_run(id, {.cmd = {"true"}}).exit_code == 0);
  CHECK(fake.calls().back() == "exec_run " + id + " true");

  std::string logs;
  fake.container_logs(id, {}, [&](const engine::OutputChunk& c) {
    CHECK(c.stream == engine::StreamId::Stdout);
    logs.append(c.data);
    return true;
  });
  CHECK(logs == "log of web\n");

  CHECK_THROWS_WITH(fake.events({}, [](const engine::Event&) { return false; }), "not in the fake: events");
  CHECK_THROWS_AS(fake.exec_create(id, {}), std::logic_error);
  CHECK_THROWS_AS(fake.stream_container_stats(id, [](const engine::StatsSample&) { return false; }),
                  std::logic_error);
  CHECK_THROWS_AS(fake.kill_container(id, "SIGHUP"), std::logic_error);
  CHECK_THROWS_AS(fake.wait_container(id), std::logic_error);  // running: it would block
  fake.stop_container(id);
  CHECK(fake.wait_container(id).status_code == 0);
}

TEST_CASE("fake engine: concurrent starts never publish the same ephemeral port twice", "[fake]") {
  FakeEngine fake;
  fake.add_image("app:1");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&fake, t] {
      for (int i = 0; i < 10; ++i) {
        std::string id = fake.create_container("c" + std::to_string(t) + "-" + std::to_string(i),
                                               published({{"9555/tcp", ""}}))
                             .id;
        fake.start_container(id);
      }
    });
  for (auto& t : threads) t.join();
  std::set<int> ports;
  for (const auto& c : fake.containers()) ports.insert(c.host_port(9555));
  CHECK(fake.containers().size() == 40);
  CHECK(ports.size() == 40);
  CHECK(fake.calls_named("create").size() == 40);
}
