// The loader on well-formed input: the shipped file, every syntax form, interpolation, merge keys,
// project names, the config hash.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <fstream>

#include "compose/error.hpp"
#include "compose/loader.hpp"

using namespace fleet::compose;

namespace {
Project load(const std::string& yaml, std::map<std::string, std::string> vars = {},
             std::optional<std::string> name = std::string("test")) {
  return load_project_text(yaml, "/tmp/fleet-compose-test/docker-compose.yml",
                           Environment::of(std::move(vars)), name);
}
}  // namespace

TEST_CASE("the shipped compose file loads with its limits, healthchecks and profiles", "[compose]") {
  Project p = load_project({.file = FLEET_SOURCE_DIR "/compose/docker-compose.yml"});
  CHECK(p.name == "llmspell");  // from compose/.env
  REQUIRE(p.services.size() == 6);
  const Service& k = p.services.at("kernel-lua-openai");
  CHECK(k.mem_limit == 536870912);
  CHECK(k.cpus == 0.5);
  CHECK(k.pids_limit == 128);
  CHECK(k.user == "1000:1000");
  CHECK(k.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(k.security_opt == std::vector<std::string>{"no-new-privileges:true"});
  CHECK(k.restart == "unless-stopped");
  REQUIRE(k.healthcheck);
  CHECK(k.healthcheck->interval_ns == 5'000'000'000);
  CHECK(k.healthcheck->timeout_ns == 3'000'000'000);
  CHECK(k.healthcheck->test == std::vector<std::string>{"CMD", "/usr/local/bin/llmspell-kernel", "probe"});
  REQUIRE(k.ports.size() == 5);
  CHECK(k.ports[0].host_ip == "127.0.0.1");
  CHECK(k.ports[0].host_port == 0);
  CHECK(k.ports[0].container_port == 9555);
  REQUIRE(k.volumes.size() == 2);
  CHECK(k.volumes[0].type == "bind");
  CHECK(k.volumes[0].source == FLEET_SOURCE_DIR "/configs/openai.toml");
  CHECK(k.volumes[0].read_only);
  CHECK(k.networks.count("llmspell-network"));
  CHECK(p.networks.at("llmspell-network").name == "llmspell_llmspell-network");
  CHECK(k.extensions["x-fleet"]["kernel"] == true);
  CHECK(p.services.at("kernel-dev").mem_limit == 2147483648);
  CHECK(p.services.at("kernel-dev").cpus == 1.0);
  CHECK(p.services.at("kernel-dev").profiles == std::vector<std::string>{"dev"});
  CHECK(p.all_profiles() == std::vector<std::string>{"dev", "javascript", "manager", "registry"});
  const Service& m = p.services.at("fleet-manager");
  CHECK(m.profiles == std::vector<std::string>{"manager"});
  CHECK(m.network_mode == "host");
  CHECK(m.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(m.extensions["x-fleet"]["allow_unsafe"] == true);
}

TEST_CASE("merge keys: written keys win, and among merged mappings the earlier one", "[compose][yaml]") {
  Project p = load(R"(
x-a: &a {image: a:1, user: "1", working_dir: /a}
x-b: &b {image: b:1, user: "2", stop_signal: SIGINT}
services:
  s:
    <<: [*a, *b]
    user: "3"
)");
  const Service& s = p.services.at("s");
  CHECK(s.image == "a:1");
  CHECK(s.user == "3");
  CHECK(s.working_dir == "/a");
  CHECK(s.stop_signal == "SIGINT");
}

TEST_CASE("interpolation: defaults, required, $$, environment over .env", "[compose][interpolation]") {
  Environment env = Environment::of({{"TAG", "v2"}, {"EMPTY", ""}});
  CHECK(interpolate("llmspell:${TAG}", env) == "llmspell:v2");
  CHECK(interpolate("$TAG-x", env) == "v2-x");
  CHECK(interpolate("${MISSING:-fallback}", env) == "fallback");
  CHECK(interpolate("${EMPTY:-fallback}", env) == "fallback");
  CHECK(interpolate("${EMPTY-fallback}", env) == "");
  CHECK(interpolate("${MISSING-fallback}", env) == "fallback");
  CHECK(interpolate("${TAG:+set}", env) == "set");
  CHECK(interpolate("${MISSING:-${TAG}}", env) == "v2");
  CHECK(interpolate("cost $$5", env) == "cost $5");
  CHECK_THROWS_WITH(interpolate("${MISSING:?give it}", env),
                    Catch::Contains("MISSING") && Catch::Contains("give it"));
  CHECK(interpolate("${EMPTY?x}", env) == "");  // set, though empty: ? without a colon accepts it
  CHECK_THROWS(interpolate("${TAG", env));
  CHECK_THROWS(interpolate("${1BAD}", env));
  CHECK_THROWS(interpolate("${TAG/x/y}", env));
  CHECK_THROWS(interpolate("a $ b", env));

  auto vars = parse_dotenv("# comment\nexport A=1\nB = \"two words\"\nC='x'\nD=plain # note\n\n");
  CHECK(vars ==
        std::map<std::string, std::string>{{"A", "1"}, {"B", "two words"}, {"C", "x"}, {"D", "plain"}});
  CHECK_THROWS_WITH(parse_dotenv("GOOD=1\nnot a line\n"), Catch::Contains("line 2"));
}

TEST_CASE("every syntax form of ports, volumes, environment, command and depends_on", "[compose]") {
  Project p = load(R"(
services:
  s:
    image: "llmspell:${TAG:-latest}"
    command: start --port "9555" --name 'a b'
    entrypoint: ["/bin/k"]
    ports:
      - 9000
      - "8080:80"
      - "127.0.0.1:9555-9556:9555-9556/tcp"
      - "[::1]:7000:70/udp"
      - {target: 81, published: 8081, host_ip: 127.0.0.1}
    expose: [5000, "6000-6001/udp"]
    volumes:
      - ./data:/data:ro
      - cache:/cache
      - /anon
      - {type: tmpfs, target: /scratch}
    environment: [A=1, "B=two=2"]
    labels: {team: kernels}
    depends_on: [t]
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.25", memory: 256m, pids: 50}
        reservations: {memory: 128m}
      restart_policy: {condition: on-failure, max_attempts: 3}
    stop_grace_period: 1m30s
    tmpfs: /run
  t:
    image: t:1
    depends_on:
      u: {condition: service_healthy, required: false}
  u:
    image: u:1
volumes:
  cache: {}
)",
                   {{"TAG", "v3"}});
  const Service& s = p.services.at("s");
  CHECK(s.image == "llmspell:v3");
  CHECK(*s.command == std::vector<std::string>{"start", "--port", "9555", "--name", "a b"});
  REQUIRE(s.ports.size() == 6);
  CHECK(s.ports[0].host_port == 0);
  CHECK(s.ports[0].container_port == 9000);
  CHECK(s.ports[1].host_port == 8080);
  CHECK(s.ports[3].host_port == 9556);
  CHECK(s.ports[3].host_ip == "127.0.0.1");
  CHECK(s.ports[4].host_ip == "::1");
  CHECK(s.ports[4].protocol == "udp");
  CHECK(s.ports[5].host_port == 8081);
  CHECK(s.expose == std::vector<std::string>{"5000/tcp", "6000/udp", "6001/udp"});
  REQUIRE(s.volumes.size() == 4);
  CHECK(s.volumes[0].source == "/tmp/fleet-compose-test/data");
  CHECK(s.volumes[0].read_only);
  CHECK(s.volumes[1].type == "volume");
  CHECK(s.volumes[1].source == "cache");
  CHECK(s.volumes[2].source.empty());
  CHECK(s.volumes[3].type == "tmpfs");
  CHECK(s.environment == std::map<std::string, std::string>{{"A", "1"}, {"B", "two=2"}});
  CHECK(s.replica_count() == 2);
  CHECK(s.cpus == 0.25);
  CHECK(s.mem_limit == 268435456);
  CHECK(s.mem_reservation == 134217728);
  CHECK(s.pids_limit == 50);
  CHECK(s.restart == "on-failure:3");
  CHECK(s.stop_grace_period_ns == 90'000'000'000);
  CHECK(p.services.at("t").depends_on.at("u").condition == "service_healthy");
  CHECK_FALSE(p.services.at("t").depends_on.at("u").required);
  CHECK(p.volumes.at("cache").name == "test_cache");
  CHECK(p.networks.at("default").name == "test_default");
}

TEST_CASE("the project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the folder", "[compose]") {
  const std::string yaml = "name: from-file\nservices:\n  s:\n    image: x\n";
  CHECK(load(yaml, {{"COMPOSE_PROJECT_NAME", "from-env"}}, "from-flag").name == "from-flag");
  CHECK(load(yaml, {{"COMPOSE_PROJECT_NAME", "from-env"}}, std::nullopt).name == "from-env");
  CHECK(load(yaml, {}, std::nullopt).name == "from-file");
  CHECK(load("services:\n  s:\n    image: x\n", {}, std::nullopt).name == "fleet-compose-test");
  CHECK_THROWS_WITH(load(yaml, {}, "Bad Name"), Catch::Contains("project name \"Bad Name\" (from -p)"));
  CHECK(normalize_project_name("My_Project.v2") == "my_projectv2");
}

TEST_CASE("the config hash ignores scale, profiles and depends_on but not settings", "[compose]") {
  auto hash_of = [](const std::string& extra) {
    return config_hash(
        load("services:\n  s:\n    image: x\n" + extra + "  d:\n    image: d\n").services.at("s"));
  };
  std::string base = hash_of("");
  CHECK(base.size() == 64);
  CHECK(hash_of("    scale: 3\n") == base);
  CHECK(hash_of("    profiles: [dev]\n") == base);
  CHECK(hash_of("    depends_on: [d]\n") == base);
  CHECK(hash_of("    build: .\n") == base);
  CHECK(hash_of("    mem_limit: 1g\n") != base);
  CHECK(hash_of("    environment: {A: '1'}\n") != base);
}

TEST_CASE("shell_split splits like a shell without expanding", "[compose]") {
  CHECK(shell_split("a 'b c' \"d \\\"e\\\"\" f\\ g") ==
        std::vector<std::string>{"a", "b c", "d \"e\"", "f g"});
  CHECK(shell_split("  ").empty());
  CHECK_THROWS(shell_split("'open"));
}

TEST_CASE("unsafe settings pass with x-fleet.allow_unsafe", "[compose]") {
  Project p =
      load("services:\n  s:\n    image: x\n    privileged: true\n    x-fleet: {allow_unsafe: true}\n");
  CHECK(p.services.at("s").privileged);
}
