// Compose services as swarm ServiceSpecs (the swarm backend's pure half): names and labels as
// `docker stack deploy` gives them, limits and reservations, health, restart, placement, updates,
// endpoints with and without IPVS, secrets and configs by id, what a swarm cannot apply.
#include <catch2/catch.hpp>

#include "compose/error.hpp"
#include "compose/loader.hpp"
#include "fleet/swarm_spec.hpp"

using namespace fleet;
using nlohmann::json;

namespace {

compose::Project load(const std::string& yaml) {
  return compose::load_project_text(yaml, "/tmp/fleet-swarm-spec/compose.yml", compose::Environment::of({}),
                                    std::string("stk"));
}

StackService spec_of(const compose::Project& p, const std::string& name, int replicas, bool ipvs,
                     std::vector<std::string>& notes) {
  return stack_service(p, p.services.at(name), replicas, {.ipvs = ipvs}, {}, {}, notes);
}

bool mentions(const std::vector<std::string>& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the shipped compose file's kernels as swarm services", "[swarm][spec]") {
  compose::Project p = compose::load_project({.file = FLEET_SOURCE_DIR "/compose/docker-compose.yml"});
  std::vector<std::string> notes;
  StackService s = spec_of(p, "kernel-lua-openai", 2, false, notes);
  const json& spec = s.spec;
  CHECK(s.name == "llmspell_kernel-lua-openai");
  CHECK(s.kernel);
  CHECK(spec["Labels"]["com.docker.stack.namespace"] == "llmspell");
  CHECK(spec["Labels"]["com.docker.stack.image"] == "llmspell:latest");
  CHECK(spec["Mode"]["Replicated"]["Replicas"] == 2);

  const json& c = spec["TaskTemplate"]["ContainerSpec"];
  CHECK(c["Image"] == "llmspell:latest");
  CHECK(c["Args"] == json::array({"start", "--port", "9555", "--language", "lua"}));
  CHECK_FALSE(c.contains("Command"));  // the image's entrypoint stays
  CHECK(c["User"] == "1000:1000");
  CHECK(c["CapabilityDrop"] == json::array({"ALL"}));
  CHECK(c["StopGracePeriod"] == 30'000'000'000LL);
  CHECK(c["Labels"]["com.docker.stack.namespace"] == "llmspell");
  CHECK(c["Labels"]["dev.llmspell.fleet.kernel"] == "true");
  CHECK(c["Labels"]["dev.llmspell.fleet.language"] == "lua");
  CHECK(c["Labels"]["dev.llmspell.fleet.config"] == "openai.toml");
  CHECK(c["HealthCheck"]["Test"] == json::array({"CMD", "/usr/local/bin/llmspell-kernel", "probe"}));
  CHECK(c["HealthCheck"]["Interval"] == 5'000'000'000LL);
  CHECK(c["HealthCheck"]["Retries"] == 3);
  bool config_mount = false;
  for (const auto& m : c["Mounts"])
    if (m["Target"] == "/etc/llmspell/config.toml") {
      config_mount = true;
      CHECK(m["Type"] == "bind");
      CHECK(m["ReadOnly"] == true);
      CHECK(m["Source"].get<std::string>().size() > 0);
      CHECK(m["Source"].get<std::string>().substr(m["Source"].get<std::string>().size() - 11) ==
            "openai.toml");
    }
  CHECK(config_mount);

  const json& resources = spec["TaskTemplate"]["Resources"];
  CHECK(resources["Limits"]["NanoCPUs"] == 500'000'000);
  CHECK(resources["Limits"]["MemoryBytes"] == 512LL * 1024 * 1024);
  CHECK(resources["Limits"]["Pids"] == 128);
  CHECK(spec["TaskTemplate"]["RestartPolicy"]["Condition"] == "any");  // unless-stopped
  CHECK(spec["TaskTemplate"]["Networks"][0]["Target"] == "llmspell_llmspell-network");
  CHECK(spec["TaskTemplate"]["Networks"][0]["Aliases"][0] == "kernel-lua-openai");

  // No IPVS: DNS round robin, the five ports in host mode on each task's node, the engine's choice.
  CHECK(spec["EndpointSpec"]["Mode"] == "dnsrr");
  REQUIRE(spec["EndpointSpec"]["Ports"].size() == 5);
  for (const auto& port : spec["EndpointSpec"]["Ports"]) {
    CHECK(port["PublishMode"] == "host");
    CHECK_FALSE(port.contains("PublishedPort"));
  }
  CHECK(spec["EndpointSpec"]["Ports"][0]["TargetPort"] == 9555);
  // What a swarm cannot keep is said.
  CHECK(mentions(notes, "services.kernel-lua-openai.security_opt is not available on swarm"));
  CHECK(mentions(notes, "services.kernel-lua-openai.ports name a host address"));
}

TEST_CASE("with IPVS a service keeps its virtual IP and the routing mesh", "[swarm][spec]") {
  compose::Project p = load(R"(
services:
  web:
    image: nginx
    ports: ["8080:80"]
)");
  std::vector<std::string> notes;
  json spec = spec_of(p, "web", 1, true, notes).spec;
  CHECK(spec["EndpointSpec"]["Mode"] == "vip");
  CHECK(spec["EndpointSpec"]["Ports"][0] ==
        json({{"Protocol", "tcp"}, {"TargetPort", 80}, {"PublishedPort", 8080}, {"PublishMode", "ingress"}}));
  CHECK(spec["TaskTemplate"]["Networks"][0]["Target"] == "stk_default");
  CHECK_FALSE(spec["TaskTemplate"].contains("RestartPolicy"));  // no restart key: the swarm's default (any)
  CHECK(notes.empty());
}

TEST_CASE("swarm deploy keys become the service's placement, updates and restarts", "[swarm][spec]") {
  compose::Project p = load(R"(
services:
  api:
    image: api:2
    entrypoint: ["/bin/api"]
    command: ["--port", "80"]
    environment: {A: "1"}
    extra_hosts: ["db.local:10.0.0.5"]
    deploy:
      labels: {team: core}
      endpoint_mode: vip
      resources:
        limits: {cpus: "0.25", memory: 64m, pids: 50}
        reservations: {cpus: "0.1", memory: 32m}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 1m}
      placement:
        constraints: ["node.role==worker"]
        preferences: [{spread: node.labels.zone}]
        max_replicas_per_node: 2
      update_config: {parallelism: 2, delay: 10s, order: start-first, failure_action: rollback, monitor: 30s, max_failure_ratio: 0.1}
      rollback_config: {parallelism: 1}
    container_name: fixed
    cpuset: "0"
)");
  std::vector<std::string> notes;
  json spec = spec_of(p, "api", 3, false, notes).spec;
  CHECK(spec["Labels"]["team"] == "core");  // deploy.labels go on the service...
  CHECK_FALSE(spec["TaskTemplate"]["ContainerSpec"]["Labels"].contains("team"));  // ...not its containers
  const json& c = spec["TaskTemplate"]["ContainerSpec"];
  CHECK(c["Command"] == json::array({"/bin/api"}));
  CHECK(c["Args"] == json::array({"--port", "80"}));
  CHECK(c["Env"] == json::array({"A=1"}));
  CHECK(c["Hosts"] == json::array({"10.0.0.5 db.local"}));
  const json& r = spec["TaskTemplate"]["Resources"];
  CHECK(r["Limits"] == json({{"NanoCPUs", 250'000'000}, {"MemoryBytes", 64 << 20}, {"Pids", 50}}));
  CHECK(r["Reservations"] == json({{"NanoCPUs", 100'000'000}, {"MemoryBytes", 32 << 20}}));
  CHECK(spec["TaskTemplate"]["RestartPolicy"] == json({{"Condition", "on-failure"},
                                                       {"Delay", 5'000'000'000LL},
                                                       {"MaxAttempts", 3},
                                                       {"Window", 60'000'000'000LL}}));
  const json& placement = spec["TaskTemplate"]["Placement"];
  CHECK(placement["Constraints"] == json::array({"node.role==worker"}));
  CHECK(placement["Preferences"][0]["Spread"]["SpreadDescriptor"] == "node.labels.zone");
  CHECK(placement["MaxReplicas"] == 2);
  CHECK(spec["UpdateConfig"] == json({{"Parallelism", 2},
                                      {"Delay", 10'000'000'000LL},
                                      {"Monitor", 30'000'000'000LL},
                                      {"FailureAction", "rollback"},
                                      {"MaxFailureRatio", 0.1},
                                      {"Order", "start-first"}}));
  CHECK(spec["RollbackConfig"] == json({{"Parallelism", 1}}));
  compose::Project one_by_one =
      load("services:\n  a:\n    image: i\n    deploy: {update_config: {order: start-first}}\n");
  CHECK(spec_of(one_by_one, "a", 1, false, notes).spec["UpdateConfig"] ==
        json({{"Parallelism", 1}, {"Order", "start-first"}}));  // docker stack's default, not all at once
  // vip asked for without IPVS: dnsrr, said.
  CHECK(spec["EndpointSpec"]["Mode"] == "dnsrr");
  CHECK(mentions(notes, "services.api.deploy.endpoint_mode vip needs IPVS"));
  CHECK(mentions(notes, "services.api.container_name is not available on swarm"));
  CHECK(mentions(notes, "services.api.cpuset is not available on swarm"));
}

TEST_CASE("a kernel service keeps host-mode ports even where the routing mesh works", "[swarm][spec]") {
  // The mesh would balance each of a kernel's five ports on its own, over different replicas.
  compose::Project p =
      load("services:\n  k:\n    image: i\n    ports: [\"9555\"]\n    x-fleet: {kernel: true}\n");
  std::vector<std::string> notes;
  json spec = spec_of(p, "k", 3, true, notes).spec;
  CHECK(spec["EndpointSpec"]["Mode"] == "vip");
  CHECK(spec["EndpointSpec"]["Ports"][0]["PublishMode"] == "host");
}

TEST_CASE("a global service has no replica count", "[swarm][spec]") {
  compose::Project p = load("services:\n  agent:\n    image: a\n    deploy: {mode: global}\n");
  std::vector<std::string> notes;
  json spec = spec_of(p, "agent", 1, false, notes).spec;
  CHECK(spec["Mode"] == json({{"Global", json::object()}}));
}

TEST_CASE("the spec hash changes with the definition, not with the replica count", "[swarm][spec]") {
  const std::string yaml = "services:\n  k:\n    image: llmspell:latest\n";
  compose::Project p = load(yaml);
  std::vector<std::string> notes;
  StackService two = spec_of(p, "k", 2, false, notes), ten = spec_of(p, "k", 10, false, notes);
  CHECK(two.spec["Labels"][kSpecHash] == ten.spec["Labels"][kSpecHash]);
  CHECK(with_replicas(two.spec, 10) == ten.spec);
  compose::Project changed = load("services:\n  k:\n    image: llmspell:2\n");
  CHECK(spec_of(changed, "k", 2, false, notes).spec["Labels"][kSpecHash] != two.spec["Labels"][kSpecHash]);
}

TEST_CASE("secrets and configs are handed to tasks by id, at compose's default paths", "[swarm][spec]") {
  compose::Project p = load(R"(
services:
  k:
    image: i
    secrets: [token, {source: cert, target: /etc/cert.pem, mode: 0400, uid: "1000"}]
    configs: [settings]
secrets:
  token: {environment: TOKEN}
  cert: {file: ./cert.pem}
configs:
  settings: {content: "a = 1"}
)");
  std::vector<std::string> notes;
  json c = stack_service(p, p.services.at("k"), 1, {},
                         {{"token", {"s1", "stk_token"}}, {"cert", {"s2", "stk_cert"}}},
                         {{"settings", {"c1", "stk_settings"}}}, notes)
               .spec["TaskTemplate"]["ContainerSpec"];
  REQUIRE(c["Secrets"].size() == 2);
  CHECK(c["Secrets"][0] ==
        json({{"File", {{"Name", "/run/secrets/token"}, {"UID", "0"}, {"GID", "0"}, {"Mode", 0444}}},
              {"SecretID", "s1"},
              {"SecretName", "stk_token"}}));
  CHECK(c["Secrets"][1]["File"] ==
        json({{"Name", "/etc/cert.pem"}, {"UID", "1000"}, {"GID", "0"}, {"Mode", 0400}}));
  CHECK(c["Configs"][0]["File"]["Name"] == "/settings");
  CHECK(c["Configs"][0]["ConfigID"] == "c1");
}

TEST_CASE("networks become overlays of the stack", "[swarm][spec]") {
  compose::Project p = load(R"(
services:
  a: {image: i, networks: [front, shared]}
  b: {image: i}
networks:
  front: {driver: bridge, labels: {tier: web}}
  shared: {external: true, name: corp-net}
)");
  auto networks = stack_networks(p, {"a", "b"});
  REQUIRE(networks.size() == 3);
  CHECK(networks[0].key == "default");
  CHECK(networks[0].name == "stk_default");
  CHECK(networks[0].create_body["Driver"] == "overlay");
  CHECK(networks[1].name == "stk_front");
  CHECK(networks[1].create_body["Driver"] == "overlay");  // a host's bridge spans the nodes as an overlay
  CHECK(networks[1].create_body["Labels"]["tier"] == "web");
  CHECK(networks[1].create_body["Labels"]["com.docker.stack.namespace"] == "stk");
  CHECK(networks[2].external);
  CHECK(networks[2].name == "corp-net");
  CHECK(stack_networks(p, {"b"}).size() == 1);
}

TEST_CASE("bad swarm deploy keys are refused with file, line and key", "[swarm][spec]") {
  auto refusal = [](const std::string& yaml) {
    try {
      load(yaml);
    } catch (const compose::ComposeError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(
      refusal("services:\n  a:\n    image: i\n    deploy:\n      placement:\n        constraints: [role]\n"),
      Catch::Contains("compose.yml:6") && Catch::Contains("is not KEY==VALUE or KEY!=VALUE"));
  CHECK_THAT(
      refusal("services:\n  a:\n    image: i\n    deploy:\n      update_config: {order: last}\n"),
      Catch::Contains("services.a.deploy.update_config.order") && Catch::Contains("stop-first, start-first"));
  CHECK_THAT(
      refusal(
          "services:\n  a:\n    image: i\n    deploy:\n      rollback_config: {failure_action: rollback}\n"),
      Catch::Contains("rollback_config.failure_action"));
  CHECK_THAT(refusal("services:\n  a:\n    image: i\n    deploy:\n      placement: {prefs: []}\n"),
             Catch::Contains("services.a.deploy.placement.prefs") && Catch::Contains("unknown key"));
  CHECK_THAT(refusal("services:\n  a:\n    image: i\n    deploy:\n      endpoint_mode: mesh\n"),
             Catch::Contains("services.a.deploy.endpoint_mode"));
}
