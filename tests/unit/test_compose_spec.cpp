// The rest of the Compose Specification: each service key read into the model, top-level secrets
// and configs, include and extends across files, !reset/!override, swarm-only keys noted.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "compose/error.hpp"
#include "compose/loader.hpp"
#include "compose/suggest.hpp"

using namespace fleet::compose;
namespace fs = std::filesystem;

namespace {

Project load(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
  return load_project_text(yaml, "/tmp/fleet-compose-spec/docker-compose.yml",
                           Environment::of(std::move(vars)), std::string("spec"));
}

// A folder of files for one test, removed after it.
struct Folder {
  fs::path root = fs::temp_directory_path() / ("fleet-compose-spec-" + std::to_string(::getpid()));
  Folder() { fs::create_directories(root); }
  ~Folder() { fs::remove_all(root); }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = root / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
};

}  // namespace

TEST_CASE("container settings of the specification are read into the model", "[compose][spec]") {
  Project p = load(R"(
services:
  db:
    image: postgres
  app:
    image: llmspell:latest
    init: true
    tty: true
    stdin_open: true
    hostname: app1
    domainname: example.internal
    dns: 10.0.0.2
    dns_search: [example.internal]
    dns_opt: ["ndots:2"]
    extra_hosts: ["somehost:162.242.195.82", "other=10.0.0.9"]
    ulimits:
      nproc: 65535
      nofile: {soft: 20000, hard: 40000}
    sysctls: ["net.core.somaxconn=1024"]
    shm_size: 64m
    group_add: [mail, "1234"]
    oom_score_adj: 500
    mem_swappiness: 10
    runtime: runc
    cgroup_parent: fleet.slice
    cgroup: private
    storage_opt: {size: 1G}
    mac_address: "02:42:ac:11:00:02"
    platform: linux/amd64
    pull_policy: never
    cpu_period: 100000
    cpu_quota: 50000
    cpu_rt_runtime: 400ms
    cpuset: "0"
    links: ["db:database"]
    external_links: ["redis-1:cache"]
    volumes_from: ["db:ro"]
    blkio_config:
      weight: 300
      device_read_bps: [{path: /dev/sda, rate: 12mb}]
    post_start: [{command: "touch /tmp/started", user: "1000"}]
    pre_stop: [{command: ["sh", "-c", "true"]}]
    attach: false
    tmpfs: ["/run:size=1m"]
)");
  const Service& s = p.services.at("app");
  CHECK(s.init);
  CHECK(s.tty);
  CHECK(s.stdin_open);
  CHECK(s.hostname == "app1");
  CHECK(s.domainname == "example.internal");
  CHECK(s.dns == std::vector<std::string>{"10.0.0.2"});
  CHECK(s.dns_search == std::vector<std::string>{"example.internal"});
  CHECK(s.dns_opt == std::vector<std::string>{"ndots:2"});
  CHECK(s.extra_hosts == std::vector<std::string>{"somehost:162.242.195.82", "other:10.0.0.9"});
  REQUIRE(s.ulimits.size() == 2);
  CHECK((s.ulimits[0].name == "nproc" && s.ulimits[0].soft == 65535 && s.ulimits[0].hard == 65535));
  CHECK((s.ulimits[1].name == "nofile" && s.ulimits[1].soft == 20000 && s.ulimits[1].hard == 40000));
  CHECK(s.sysctls.at("net.core.somaxconn") == "1024");
  CHECK(s.shm_size == 64 * 1024 * 1024);
  CHECK(s.group_add == std::vector<std::string>{"mail", "1234"});
  CHECK(s.oom_score_adj == 500);
  CHECK(s.mem_swappiness == 10);
  CHECK(s.runtime == "runc");
  CHECK(s.cgroup_parent == "fleet.slice");
  CHECK(s.cgroup == "private");
  CHECK(s.storage_opt.at("size") == "1G");
  CHECK(s.mac_address == "02:42:ac:11:00:02");
  CHECK(s.platform == "linux/amd64");
  CHECK(s.pull_policy == "never");
  CHECK(s.cpu_period == 100000);
  CHECK(s.cpu_quota == 50000);
  CHECK(s.cpu_rt_runtime == 400000);  // microseconds
  CHECK(s.cpuset == "0");
  CHECK(s.links == std::vector<std::string>{"db:database"});
  CHECK(s.external_links == std::vector<std::string>{"redis-1:cache"});
  CHECK(s.volumes_from == std::vector<std::string>{"db:ro"});
  CHECK(s.blkio.weight == 300);
  REQUIRE(s.blkio.read_bps.size() == 1);
  CHECK(s.blkio.read_bps[0] == std::pair<std::string, std::int64_t>{"/dev/sda", 12 * 1024 * 1024});
  REQUIRE(s.post_start.size() == 1);
  CHECK(s.post_start[0].command == std::vector<std::string>{"touch", "/tmp/started"});
  CHECK(s.post_start[0].user == "1000");
  REQUIRE(s.pre_stop.size() == 1);
  CHECK(s.pre_stop[0].command == std::vector<std::string>{"sh", "-c", "true"});
  CHECK_FALSE(s.attach);
  CHECK(s.tmpfs == std::vector<std::string>{"/run:size=1m"});
}

TEST_CASE("networks with ipam, long-form mounts and attachments are read", "[compose][spec]") {
  Project p = load(R"(
services:
  app:
    image: llmspell:latest
    networks:
      lab:
        aliases: [api]
        ipv4_address: 172.28.5.10
        priority: 100
        link_local_ips: [169.254.8.8]
    volumes:
      - type: bind
        source: ./data
        target: /data
        bind: {propagation: rshared, create_host_path: false, selinux: z}
      - type: volume
        source: cache
        target: /cache
        volume: {nocopy: true}
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 1m, mode: 01777}
      - "./conf:/etc/conf:ro,z"
    healthcheck:
      interval: 2s
      start_interval: 1s
networks:
  lab:
    driver: bridge
    enable_ipv6: false
    driver_opts: {com.docker.network.bridge.name: fleetlab0}
    ipam:
      driver: default
      config:
        - subnet: 172.28.0.0/16
          ip_range: 172.28.5.0/24
          gateway: 172.28.5.254
          aux_addresses: {host1: 172.28.1.5}
volumes:
  cache:
    driver_opts: {type: tmpfs, device: tmpfs}
  old:
    external: {name: legacy-volume}
)");
  const Service& s = p.services.at("app");
  const NetworkAttachment& a = s.networks.at("lab");
  CHECK(a.aliases == std::vector<std::string>{"api"});
  CHECK(a.ipv4_address == "172.28.5.10");
  CHECK(a.priority == 100);
  CHECK(a.link_local_ips == std::vector<std::string>{"169.254.8.8"});
  REQUIRE(s.volumes.size() == 4);
  CHECK(s.volumes[0].source == "/tmp/fleet-compose-spec/data");
  CHECK(s.volumes[0].propagation == "rshared");
  CHECK_FALSE(s.volumes[0].create_host_path);
  CHECK(s.volumes[0].selinux == "z");
  CHECK(s.volumes[1].nocopy);
  CHECK(s.volumes[2].tmpfs_size == 1024 * 1024);
  CHECK(s.volumes[2].tmpfs_mode == 01777);
  CHECK(s.volumes[3].read_only);
  CHECK(s.volumes[3].selinux == "z");
  // A healthcheck without a test keeps the image's test with these timings.
  REQUIRE(s.healthcheck);
  CHECK(s.healthcheck->test.empty());
  CHECK(s.healthcheck->start_interval_ns == 1'000'000'000);

  const NetworkDef& n = p.networks.at("lab");
  CHECK(n.name == "spec_lab");
  CHECK(n.driver_opts.at("com.docker.network.bridge.name") == "fleetlab0");
  REQUIRE(n.ipam);
  CHECK(n.ipam->driver == "default");
  REQUIRE(n.ipam->config.size() == 1);
  CHECK(n.ipam->config[0].subnet == "172.28.0.0/16");
  CHECK(n.ipam->config[0].ip_range == "172.28.5.0/24");
  CHECK(n.ipam->config[0].gateway == "172.28.5.254");
  CHECK(n.ipam->config[0].aux_addresses.at("host1") == "172.28.1.5");
  CHECK(p.volumes.at("cache").driver_opts.at("type") == "tmpfs");
  CHECK(p.volumes.at("old").external);
  CHECK(p.volumes.at("old").name == "legacy-volume");
}

TEST_CASE("secrets and configs: definitions and where each service gets them", "[compose][spec]") {
  Project p = load(R"(
services:
  app:
    image: llmspell:latest
    user: "1000:1000"
    secrets:
      - token
      - source: api_key
        target: key.txt
        uid: "1000"
        mode: 0400
    configs:
      - settings
      - source: inline
        target: /etc/inline.conf
secrets:
  token: {file: ./token.txt}
  api_key: {environment: API_KEY}
configs:
  settings: {file: ./settings.toml}
  inline:
    content: |
      level = "debug"
)",
                   {{"API_KEY", "s3cr3t"}});
  const Service& s = p.services.at("app");
  REQUIRE(s.secrets.size() == 2);
  CHECK(s.secrets[0].source == "token");
  CHECK(s.secrets[0].target == "/run/secrets/token");
  CHECK(s.secrets[1].target == "/run/secrets/key.txt");
  CHECK(s.secrets[1].uid == "1000");
  CHECK(s.secrets[1].mode == 0400);
  REQUIRE(s.configs.size() == 2);
  CHECK(s.configs[0].target == "/settings");
  CHECK(s.configs[1].target == "/etc/inline.conf");
  CHECK(p.secrets.at("token").file == "/tmp/fleet-compose-spec/token.txt");
  CHECK(p.secrets.at("api_key").environment == "API_KEY");
  CHECK(p.secrets.at("api_key").environment_value == "s3cr3t");
  CHECK(p.configs.at("inline").content == "level = \"debug\"\n");
  // The secret's value is never part of what `config` prints.
  CHECK(to_json(p).dump().find("s3cr3t") == std::string::npos);

  // An unset variable is an error only where the secret is placed (`up`): config, ps and down still work.
  Project unset =
      load("services:\n  a:\n    image: x\n    secrets: [k]\nsecrets:\n  k: {environment: UNSET_VAR}\n");
  CHECK_FALSE(unset.secrets.at("k").environment_value);
}

TEST_CASE("build keys the classic builder honours are read; the others are marked for build to refuse",
          "[compose][spec]") {
  Project p = load(R"(
services:
  app:
    image: app:dev
    build:
      context: ./app
      dockerfile_inline: |
        FROM scratch
      args: [VERSION=1]
      labels: {team: kernels}
      target: runtime
      network: none
      shm_size: 128m
      cache_from: [app:cache]
      extra_hosts: ["mirror=10.0.0.1"]
      tags: ["app:extra"]
      no_cache: true
      pull: false
      platforms: [linux/amd64, linux/arm64]
      ssh: [default]
)");
  const BuildSpec& b = *p.services.at("app").build;
  CHECK(b.context == "/tmp/fleet-compose-spec/app");
  CHECK(b.dockerfile_inline == "FROM scratch\n");
  CHECK(b.args.at("VERSION") == "1");
  CHECK(b.labels.at("team") == "kernels");
  CHECK(b.target == "runtime");
  CHECK(b.network == "none");
  CHECK(b.shm_size == 128 * 1024 * 1024);
  CHECK(b.cache_from == std::vector<std::string>{"app:cache"});
  CHECK(b.extra_hosts == std::vector<std::string>{"mirror:10.0.0.1"});
  CHECK(b.tags == std::vector<std::string>{"app:extra"});
  CHECK(b.no_cache);
  CHECK(b.unsupported == std::vector<std::string>{"services.app.build.platforms", "services.app.build.ssh"});
}

TEST_CASE("swarm-only deploy keys and develop are accepted with a note, as compose ignores them",
          "[compose][spec]") {
  Project p = load_project({.file = FLEET_TEST_COMPOSE "/good/swarm-keys.yml", .project_name = "swarm"});
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0] == "services.kernel.deploy.placement is for swarm; ignored");

  Project q = load(R"(
services:
  app:
    image: llmspell:latest
    develop:
      watch: [{path: ./src, action: sync, target: /app}]
    deploy:
      mode: replicated
      update_config: {parallelism: 2}
      resources:
        reservations:
          devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]
)");
  CHECK(q.notes ==
        std::vector<std::string>{"services.app.develop (compose watch) is not run by the fleet; ignored",
                                 "services.app.deploy.update_config is for swarm; ignored"});
  REQUIRE(q.services.at("app").device_requests.size() == 1);
  CHECK(q.services.at("app").device_requests[0].driver == "nvidia");
  CHECK(q.services.at("app").device_requests[0].count == 1);
}

TEST_CASE("extends: same file and another file, merged as compose merges", "[compose][spec]") {
  Folder f;
  f.write("common/base.yml", R"(
services:
  base:
    image: llmspell:latest
    command: ["serve", "--old"]
    environment: [A=1, B=2]
    labels: {team: kernels}
    ports: ["127.0.0.1:8080:80"]
    volumes: ["./data:/data", "./logs:/logs"]
    env_file: ./base.env
    dns: [10.0.0.1]
    healthcheck: {test: ["CMD", "true"], interval: 5s}
)");
  f.write("common/base.env", "FROM_BASE_ENV=yes\n");
  f.write("common/data/.keep", "");
  fs::path main = f.write("docker-compose.yml", R"(
services:
  web:
    extends: {file: common/base.yml, service: base}
    command: ["serve", "--new"]
    environment: {B: "3", C: "4"}
    volumes: ["./mine:/data"]
    dns: [10.0.0.2]
    healthcheck: {interval: 9s}
  worker:
    extends: web
    ports: !reset []
    labels: !override {role: worker}
)");
  Project p = load_project({.file = main, .project_name = "ext"});
  const Service& web = p.services.at("web");
  CHECK(web.image == "llmspell:latest");
  CHECK(*web.command == std::vector<std::string>{"serve", "--new"});  // replaced, not appended
  CHECK(web.environment.at("A") == "1");
  CHECK(web.environment.at("B") == "3");
  CHECK(web.environment.at("C") == "4");
  CHECK(web.environment.at("FROM_BASE_ENV") == "yes");  // the base's env_file, found beside the base
  CHECK(web.labels.at("team") == "kernels");
  REQUIRE(web.volumes.size() == 2);  // /data overridden by target, /logs kept with the base's folder
  CHECK(web.volumes[0].source == (f.root / "common/logs").string());
  CHECK(web.volumes[1].source == (f.root / "mine").string());
  CHECK(web.dns == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  REQUIRE(web.healthcheck);
  CHECK(web.healthcheck->test == std::vector<std::string>{"CMD", "true"});
  CHECK(web.healthcheck->interval_ns == 9'000'000'000);
  const Service& worker = p.services.at("worker");
  CHECK(worker.ports.empty());                                                     // !reset
  CHECK(worker.labels == std::map<std::string, std::string>{{"role", "worker"}});  // !override
  CHECK(worker.environment.at("C") == "4");
}

TEST_CASE("include: another project's services, networks and secrets, its own folder and .env",
          "[compose][spec]") {
  Folder f;
  f.write("db/compose.yml", R"(
services:
  db:
    image: postgres:${PG_VERSION}
    env_file: ./db.env
    secrets: [pw]
    networks: [back]
networks:
  back: {}
secrets:
  pw: {file: ./pw.txt}
)");
  f.write("db/.env", "PG_VERSION=16\n");
  f.write("db/db.env", "POSTGRES_DB=app\n");
  f.write("db/pw.txt", "hunter2\n");
  fs::path main = f.write("docker-compose.yml", R"(
include:
  - db/compose.yml
services:
  app:
    image: llmspell:latest
    depends_on: [db]
)");
  Project p = load_project({.file = main, .project_name = "inc"});
  REQUIRE(p.services.count("db"));
  const Service& db = p.services.at("db");
  CHECK(db.image == "postgres:16");  // interpolated with the included project's .env
  CHECK(db.environment.at("POSTGRES_DB") == "app");
  CHECK(p.secrets.at("pw").file == f.root / "db/pw.txt");
  CHECK(p.networks.at("back").name == "inc_back");
  CHECK(p.included == std::vector<fs::path>{f.root / "db/compose.yml"});

  // Redefining an included service is an error naming both.
  fs::path clash = f.write("clash.yml", "include: [db/compose.yml]\nservices:\n  db:\n    image: other\n");
  CHECK_THROWS_WITH(load_project({.file = clash, .project_name = "inc"}),
                    Catch::Contains("services.db: defined here and in the included"));
  // An error inside the included file names that file.
  f.write("bad/compose.yml", "services:\n  x:\n    image: y\n    mem_limt: 1g\n");
  fs::path bad = f.write("uses-bad.yml", "include: [bad/compose.yml]\nservices:\n  a:\n    image: b\n");
  CHECK_THROWS_WITH(load_project({.file = bad, .project_name = "inc"}),
                    Catch::StartsWith((f.root / "bad/compose.yml").string() + ":4: services.x.mem_limt"));
}

TEST_CASE("env files: optional ones, raw format, names with dots", "[compose][spec]") {
  Folder f;
  f.write("app.env", "ENV.WITH.DOT=ok\nPLAIN=1\n");
  f.write("raw.env", "QUOTED=\"kept\"\n");
  fs::path main = f.write("docker-compose.yml", R"(
services:
  app:
    image: llmspell:latest
    env_file:
      - app.env
      - {path: missing.env, required: false}
      - {path: raw.env, format: raw}
)");
  Project p = load_project({.file = main, .project_name = "envs"});
  const auto& env = p.services.at("app").environment;
  CHECK(env.at("ENV.WITH.DOT") == "ok");
  CHECK(env.at("PLAIN") == "1");
  CHECK(env.at("QUOTED") == "\"kept\"");
}

TEST_CASE("a misspelt key names the nearest known one", "[compose][spec]") {
  CHECK(nearest_key("mem_limt", {"mem_limit", "mem_reservation"}) == "mem_limit");
  CHECK(nearest_key("zzzz", {"mem_limit", "image"}).empty());
  CHECK(unknown_key_message("imgae", {"image", "init"}) == "unknown key; did you mean image?");
  CHECK_THROWS_WITH(load("services:\n  a:\n    image: x\n    stdin_opn: true\n"),
                    Catch::EndsWith("services.a.stdin_opn: unknown key; did you mean stdin_open?"));
  CHECK_THROWS_WITH(load("services:\n  a:\n    image: x\n    healthcheck: {tset: [CMD, 'true']}\n"),
                    Catch::Contains("did you mean test?"));
}

TEST_CASE("extends merges lists of dependencies, a build string with a mapping, and replaces x- keys",
          "[compose][spec]") {
  Project p = load(R"(
services:
  db: {image: postgres}
  cache: {image: redis}
  base:
    build: ./app
    depends_on: [db]
    logging: {driver: syslog, options: {syslog-address: "udp://10.0.0.1:514"}}
    x-fleet: {kernel: true, warm_pool: {size: 2}}
  web:
    extends: base
    build: {args: {V: "1"}}
    depends_on: [cache]
    logging: {driver: json-file}
    x-fleet: {kernel: true}
)");
  const Service& web = p.services.at("web");
  REQUIRE(web.build);
  CHECK(web.build->context == "/tmp/fleet-compose-spec/app");  // the base's context kept
  CHECK(web.build->args.at("V") == "1");
  CHECK(web.depends_on.count("db") == 1);
  CHECK(web.depends_on.count("cache") == 1);
  REQUIRE(web.logging);
  CHECK(web.logging->driver == "json-file");
  CHECK(web.logging->options.empty());  // syslog's options are not json-file's
  CHECK(web.extensions.at("x-fleet") == nlohmann::json{{"kernel", true}});
}

TEST_CASE("an extends chain deeper than 64 is refused, not recursed without end", "[compose][spec]") {
  std::string yaml = "services:\n  s0: {image: x}\n";
  for (int i = 1; i <= 100; ++i)
    yaml += "  s" + std::to_string(i) + ": {extends: s" + std::to_string(i - 1) + "}\n";
  CHECK_THROWS_WITH(load(yaml), Catch::Contains("extends goes deeper than 64 services"));
}
