// Plans and create bodies without an engine: observed state is written by hand, plans compare as text.
#include <catch2/catch.hpp>

#include "compose/loader.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/labels.hpp"
#include "fleet/plan.hpp"

using namespace fleet;

namespace {
const char* kFile = R"(
services:
  db:
    image: db:1
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
      timeout: 3s
      start_period: 5s
      retries: 3
  kernel:
    image: llmspell:latest
    depends_on:
      db: {condition: service_healthy}
    mem_limit: 512m
    cpus: 0.5
    pids_limit: 128
    user: "1000:1000"
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    restart: on-failure:3
    stop_grace_period: 30s
    ports: ["127.0.0.1::9555", "8080:80"]
    volumes: ["./configs/openai.toml:/etc/llmspell/config.toml:ro", "data:/data", "/scratch"]
    environment: {A: "1"}
    networks: [front, back]
    x-fleet: {kernel: true}
networks:
  front: {}
  back: {}
volumes:
  data: {}
)";

compose::Project project() {
  return compose::load_project_text(kFile, "/srv/fleet/docker-compose.yml", compose::Environment::of({}),
                                    std::string("proj"));
}

ObservedContainer container(const compose::Project& p, const std::string& service, int number,
                            const std::string& state = "running", std::string hash = "") {
  const auto& s = p.services.at(service);
  return {"id-" + service + "-" + std::to_string(number),
          container_name(p, s, number),
          service,
          number,
          state,
          hash.empty() ? compose::config_hash(s) : hash,
          "",
          100 + number};
}

Plan plan(const compose::Project& p, const Observed& o, UpRequest r = {}) {
  return plan_up(p, compose::select_services(p, {}), o, r);
}
}  // namespace

TEST_CASE("create body: limits, health in nanoseconds, ports, mounts, security, networks, labels",
          "[plan][spec]") {
  auto p = project();
  nlohmann::json b = create_body(p, p.services.at("kernel"), {.number = 2, .owner = "alice"}, "sha256:abc");
  const auto& h = b["HostConfig"];
  CHECK(h["Memory"] == 536870912);
  CHECK(h["NanoCpus"] == 500000000);
  CHECK(h["PidsLimit"] == 128);
  CHECK(h["CapDrop"] == nlohmann::json::array({"ALL"}));
  CHECK(h["SecurityOpt"] == nlohmann::json::array({"no-new-privileges:true"}));
  CHECK(h["RestartPolicy"] == nlohmann::json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  CHECK(h["PortBindings"]["9555/tcp"][0] == nlohmann::json({{"HostIp", "127.0.0.1"}, {"HostPort", ""}}));
  CHECK(h["PortBindings"]["80/tcp"][0]["HostPort"] == "8080");
  CHECK(h["Binds"] == nlohmann::json::array({"/srv/fleet/configs/openai.toml:/etc/llmspell/config.toml:ro",
                                             "proj_data:/data:rw"}));
  CHECK(b["Volumes"].contains("/scratch"));
  CHECK(h["NetworkMode"] == "proj_back");
  CHECK(extra_networks(p, p.services.at("kernel")) == std::vector<std::string>{"proj_front"});
  CHECK(b["NetworkingConfig"]["EndpointsConfig"]["proj_back"]["Aliases"] ==
        nlohmann::json::array({"kernel"}));
  CHECK(b["User"] == "1000:1000");
  CHECK(b["StopTimeout"] == 30);
  CHECK(b["Env"] == nlohmann::json::array({"A=1", "KERNEL_ID=proj-kernel-2"}));
  const auto& l = b["Labels"];
  CHECK(l[labels::kComposeProject] == "proj");
  CHECK(l[labels::kComposeService] == "kernel");
  CHECK(l[labels::kComposeNumber] == "2");
  CHECK(l[labels::kComposeOneoff] == "False");
  CHECK(l[labels::kComposeConfigHash] == compose::config_hash(p.services.at("kernel")));
  CHECK(l[labels::kComposeWorkingDir] == "/srv/fleet");
  CHECK(l[labels::kComposeConfigFiles] == "/srv/fleet/docker-compose.yml");
  CHECK(l[labels::kKernel] == "true");
  CHECK(l[labels::kLanguage] == "lua");
  CHECK(l[labels::kConfig] == "openai.toml");
  CHECK(l[labels::kManaged] == "true");
  CHECK(l[labels::kOrigin] == "compose");
  CHECK(l[labels::kKernelId] == "proj-kernel-2");
  CHECK(l[labels::kOwner] == "alice");
  CHECK(!l.contains(labels::kTemplate));
  nlohmann::json db = create_body(p, p.services.at("db"), {.number = 1}, "");
  CHECK(db["Healthcheck"] == nlohmann::json({{"Test", {"CMD", "true"}},
                                             {"Interval", 30000000000},
                                             {"Timeout", 3000000000},
                                             {"StartPeriod", 5000000000},
                                             {"Retries", 3}}));
  CHECK(container_name(p, p.services.at("db"), 1) == "proj-db-1");
}

TEST_CASE("plan from nothing: networks and volumes, then services in dependency order", "[plan]") {
  auto p = project();
  CHECK(plan(p, {}).str() ==
        "create network proj_default (used by db)\n"  // db names no network: the default one
        "create network proj_back (used by kernel)\n"
        "create network proj_front (used by kernel)\n"
        "create volume proj_data (used by kernel)\n"
        "create container proj-db-1 (db has 0 of 1)\n"
        "create container proj-kernel-1 (kernel has 0 of 1)\n");
}

TEST_CASE("a converged project plans nothing; stopped ones start", "[plan]") {
  auto p = project();
  Observed o{{container(p, "db", 1), container(p, "kernel", 1)},
             {"proj_back", "proj_front", "proj_default"},
             {"proj_data"}};
  CHECK(plan(p, o).empty());
  o.containers[1].state = "exited";
  CHECK(plan(p, o).str() == "start container proj-kernel-1 (was exited)\n");
}

TEST_CASE("scale: up adds from the highest number, down removes obsolete then highest", "[plan]") {
  auto p = project();
  Observed o{{container(p, "db", 1), container(p, "kernel", 1), container(p, "kernel", 3)},
             {"proj_back", "proj_front", "proj_default"},
             {"proj_data"}};
  CHECK(plan(p, o, {.replicas = {{"kernel", 4}}}).str() ==
        "create container proj-kernel-4 (kernel has 2 of 4)\n"
        "create container proj-kernel-5 (kernel has 3 of 4)\n");
  o.containers.push_back(container(p, "kernel", 2, "running", "stale-hash"));
  CHECK(plan(p, o, {.replicas = {{"kernel", 1}}}).str() ==
        "remove container proj-kernel-2 (scale kernel to 1)\n"
        "remove container proj-kernel-3 (scale kernel to 1)\n");
  // up without a count keeps replicas that scale added.
  CHECK(plan(p, o).str() == "recreate container proj-kernel-2 (configuration changed)\n");
}

TEST_CASE("an interrupted recreate converges: the current one stays, is renamed and started", "[plan]") {
  auto p = project();
  auto old = container(p, "kernel", 1, "running", "old-hash");
  auto fresh = container(p, "kernel", 1, "created");
  fresh.id = "id-new";
  fresh.name = "abc123_proj-kernel-1";
  Observed o{{container(p, "db", 1), old, fresh}, {"proj_back", "proj_front", "proj_default"}, {"proj_data"}};
  CHECK(plan(p, o).str() ==
        "remove container proj-kernel-1 (duplicate of replica 1)\n"
        "rename container proj-kernel-1 (was abc123_proj-kernel-1)\n"
        "start container proj-kernel-1 (was created)\n");
}

TEST_CASE("a changed image recreates", "[plan]") {
  auto p = project();
  auto k = container(p, "kernel", 1);
  k.image_id = "sha256:old";
  Observed o{{container(p, "db", 1), k}, {"proj_back", "proj_front", "proj_default"}, {"proj_data"}};
  CHECK(plan(p, o, {.image_ids = {{"kernel", "sha256:new"}}}).str() ==
        "recreate container proj-kernel-1 (image changed)\n");
  CHECK(plan(p, o, {.image_ids = {{"kernel", "sha256:old"}}}).empty());
}
