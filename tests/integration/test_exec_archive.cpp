#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"
#include "util/tar.hpp"

using namespace fleet;
using namespace std::chrono_literals;

TEST_CASE("exec without a TTY keeps stdout, stderr and the exit code apart", "[exec]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("exec", scope.container_body());
  engine::ExecRunResult r =
      client.exec_run(id, {.cmd = {"/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 7"}});
  CHECK(r.exit_code == 7);
  CHECK(r.stdout_text == "to-out\n");
  CHECK(r.stderr_text == "to-err\n");
}

TEST_CASE("exec create, start and inspect one by one, with a TTY", "[exec]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("tty", scope.container_body());
  std::string exec_id =
      client.exec_create(id, {.cmd = {"/bin/sh", "-c", "echo on-tty; echo err-on-tty >&2"}, .tty = true});
  engine::ExecInspect before = client.exec_inspect(exec_id);
  CHECK_FALSE(before.running);
  CHECK(before.container_id == id);
  std::string out;
  client.exec_start(exec_id, true, [&](const engine::OutputChunk& c) {
    CHECK(c.stream == engine::StreamId::Stdout);  // a TTY merges the streams
    out.append(c.data);
    return true;
  });
  CHECK_THAT(out, Catch::Contains("on-tty\r\n") && Catch::Contains("err-on-tty"));
  CHECK(test::wait_until([&] { return client.exec_inspect(exec_id).exit_code == 0; }, 5s));
}

TEST_CASE("exec runs as the given user, with env and working dir", "[exec]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("env", scope.container_body());
  auto r = client.exec_run(id, {.cmd = {"/bin/sh", "-c", "echo $FLEET_X; pwd; id -u"},
                                .env = {"FLEET_X=42"},
                                .user = "1234",
                                .working_dir = "/www"});
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_text == "42\n/www\n1234\n");
}

TEST_CASE("exec in a paused container is a conflict naming the pause", "[exec]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("paused", scope.container_body());
  client.pause_container(id);
  try {
    client.exec_create(id, {.cmd = {"true"}});
    FAIL("exec in a paused container was accepted");
  } catch (const engine::ConflictError& e) {
    CHECK_THAT(e.daemon_message(), Catch::Contains("paused"));
  }
}

TEST_CASE("archives put into and read back from a container", "[archive]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("archive", scope.container_body());
  util::TarWriter w;
  w.add_file("checkpoint/state.json", R"({"count": 3})");
  client.put_archive(id, "/tmp", w.finish());

  auto r = client.exec_run(id, {.cmd = {"cat", "/tmp/checkpoint/state.json"}});
  CHECK(r.stdout_text == R"({"count": 3})");

  engine::ArchiveResult got = client.get_archive(id, "/tmp/checkpoint");
  CHECK(got.stat.at("name") == "checkpoint");
  auto entries = util::read_tar(got.tar);
  auto file = std::find_if(entries.begin(), entries.end(),
                           [](const util::TarEntry& e) { return e.path == "checkpoint/state.json"; });
  REQUIRE(file != entries.end());
  CHECK(file->content == R"({"count": 3})");

  CHECK_THROWS_AS(client.get_archive(id, "/no/such/path"), engine::NotFoundError);
  CHECK_THROWS_AS(client.put_archive(id, "/no/such/dir", w.finish()), engine::NotFoundError);
}
