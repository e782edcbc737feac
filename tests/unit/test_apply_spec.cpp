// The rest of the Compose Specification as engine calls, without an engine: services built by hand
// (the loader reads these keys on another branch), create bodies, endpoint settings, secrets and
// configs as archives, the checks `up` makes before it creates anything, implicit dependencies.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "compose/error.hpp"
#include "compose/profiles.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/file_grants.hpp"
#include "fleet/operations.hpp"
#include "fleet/plan.hpp"
#include "fleet/service_checks.hpp"
#include "util/tar.hpp"

using namespace fleet;
using nlohmann::json;

namespace {

compose::Service service(const std::string& name) {
  compose::Service s;
  s.name = name;
  s.image = "img:1";
  s.networks["default"] = {};
  return s;
}

compose::Project project(std::vector<compose::Service> services) {
  compose::Project p;
  p.name = "proj";
  p.source_name = "compose.yml";
  p.file = "/srv/proj/compose.yml";
  p.working_dir = "/srv/proj";
  p.networks["default"] = {.name = "proj_default"};
  for (auto& s : services) p.services[s.name] = s;
  return p;
}

json body_of(const compose::Project& p, const std::string& name, const Peers& peers = {}) {
  return create_body(p, p.services.at(name), {.number = 1}, "sha256:i", peers);
}

std::string refusal(const compose::Project& p, engine::ApiVersion api = {1, 41}) {
  std::vector<std::string> warnings;
  try {
    check_services(p, compose::select_services(p, {}), api, warnings);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> warnings_of(const compose::Project& p) {
  std::vector<std::string> warnings;
  check_services(p, compose::select_services(p, {}), {1, 41}, warnings);
  return warnings;
}

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& content)
      : path(std::filesystem::temp_directory_path() / ("apply-spec-" + std::to_string(::getpid()))) {
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("create body: the settings the engine takes as written", "[spec][apply]") {
  auto s = service("web");
  s.init = s.tty = s.stdin_open = s.oom_kill_disable = true;
  s.hostname = "web-host";
  s.domainname = "example.test";
  s.runtime = "runc";
  s.cgroup_parent = "/fleet";
  s.cgroup = "private";
  s.mac_address = "02:42:ac:11:00:99";
  s.isolation = "default";
  s.userns_mode = "host";
  s.uts = "host";
  s.dns = {"10.0.0.2"};
  s.dns_search = {"example.test"};
  s.dns_opt = {"ndots:2"};
  s.extra_hosts = {"db.local:10.0.0.5"};
  s.group_add = {"audio", "1234"};
  s.device_cgroup_rules = {"c 1:3 mr"};
  s.ulimits = {{"nofile", 1024, 2048}, {"nproc", 64, 64}};
  s.sysctls = {{"net.core.somaxconn", "1024"}};
  s.storage_opt = {{"size", "1G"}};
  s.shm_size = 64 * 1024 * 1024;
  s.cpu_period = 100000;
  s.cpu_quota = 50000;
  s.cpu_rt_period = 1000000;
  s.cpu_rt_runtime = 950000;
  s.cpu_count = 2;
  s.cpu_percent = 50;
  s.cpuset = "0-1";
  s.oom_score_adj = 500;
  s.mem_swappiness = 10;
  s.blkio.weight = 300;
  s.blkio.weight_device = {{"/dev/sda", 400}};
  s.blkio.read_bps = {{"/dev/sda", 1048576}};
  s.blkio.write_iops = {{"/dev/sda", 100}};
  s.devices = {{"/dev/fuse", "/dev/fuse", "rwm"}, {"/dev/null", "", ""}};
  s.device_requests = {{.driver = "nvidia", .count = -1, .capabilities = {"gpu"}}};
  auto p = project({s});
  json b = body_of(p, "web");
  const json& h = b["HostConfig"];
  CHECK(h["Init"] == true);
  CHECK(b["Tty"] == true);
  CHECK(b["OpenStdin"] == true);
  CHECK(b["Hostname"] == "web-host");
  CHECK(b["Domainname"] == "example.test");
  CHECK(b["MacAddress"] == "02:42:ac:11:00:99");
  CHECK(h["OomKillDisable"] == true);
  CHECK(h["Runtime"] == "runc");
  CHECK(h["CgroupParent"] == "/fleet");
  CHECK(h["CgroupnsMode"] == "private");
  CHECK(h["Isolation"] == "default");
  CHECK(h["UsernsMode"] == "host");
  CHECK(h["UTSMode"] == "host");
  CHECK(h["Dns"] == json::array({"10.0.0.2"}));
  CHECK(h["DnsSearch"] == json::array({"example.test"}));
  CHECK(h["DnsOptions"] == json::array({"ndots:2"}));
  CHECK(h["ExtraHosts"] == json::array({"db.local:10.0.0.5"}));
  CHECK(h["GroupAdd"] == json::array({"audio", "1234"}));
  CHECK(h["DeviceCgroupRules"] == json::array({"c 1:3 mr"}));
  CHECK(h["Ulimits"] == json::parse(R"([{"Name":"nofile","Soft":1024,"Hard":2048},
                                         {"Name":"nproc","Soft":64,"Hard":64}])"));
  CHECK(h["Sysctls"] == json({{"net.core.somaxconn", "1024"}}));
  CHECK(h["StorageOpt"] == json({{"size", "1G"}}));
  CHECK(h["ShmSize"] == 67108864);
  CHECK(h["CpuPeriod"] == 100000);
  CHECK(h["CpuQuota"] == 50000);
  CHECK(h["CpuRealtimePeriod"] == 1000000);
  CHECK(h["CpuRealtimeRuntime"] == 950000);
  CHECK(h["CpuCount"] == 2);
  CHECK(h["CpuPercent"] == 50);
  CHECK(h["CpusetCpus"] == "0-1");
  CHECK(h["OomScoreAdj"] == 500);
  CHECK(h["MemorySwappiness"] == 10);
  CHECK(h["BlkioWeight"] == 300);
  CHECK(h["BlkioWeightDevice"] == json::parse(R"([{"Path":"/dev/sda","Weight":400}])"));
  CHECK(h["BlkioDeviceReadBps"] == json::parse(R"([{"Path":"/dev/sda","Rate":1048576}])"));
  CHECK(h["BlkioDeviceWriteIOps"] == json::parse(R"([{"Path":"/dev/sda","Rate":100}])"));
  CHECK(!h.contains("BlkioDeviceWriteBps"));
  CHECK(h["Devices"] == json::parse(R"([
    {"PathOnHost":"/dev/fuse","PathInContainer":"/dev/fuse","CgroupPermissions":"rwm"},
    {"PathOnHost":"/dev/null","PathInContainer":"/dev/null","CgroupPermissions":"rwm"}])"));
  CHECK(h["DeviceRequests"] == json::parse(R"([{"Driver":"nvidia","Count":-1,"Capabilities":[["gpu"]]}])"));

  // Unset: nothing is sent, the engine's defaults stay.
  json plain = body_of(project({service("plain")}), "plain");
  for (const char* key : {"Init", "OomKillDisable", "Dns", "Ulimits", "Sysctls", "ShmSize", "GroupAdd",
                          "OomScoreAdj", "MemorySwappiness", "Annotations", "Links", "VolumesFrom"})
    CHECK(!plain["HostConfig"].contains(key));
  for (const char* key : {"Tty", "OpenStdin", "Hostname", "MacAddress"}) CHECK(!plain.contains(key));
}

TEST_CASE("create body: networks by priority, endpoint settings, extra networks connected with theirs",
          "[spec][apply]") {
  auto s = service("web");
  s.networks.clear();
  s.networks["back"] = {.aliases = {"api"},
                        .ipv4_address = "172.30.0.10",
                        .mac_address = "02:42:ac:1e:00:0a",
                        .link_local_ips = {"169.254.1.1"},
                        .driver_opts = {{"com.example.opt", "1"}},
                        .priority = 10};
  s.networks["front"] = {.aliases = {"www"}, .ipv6_address = "fd00::10"};
  auto p = project({s});
  p.networks["back"] = {.name = "proj_back"};
  p.networks["front"] = {.name = "proj_front"};
  CHECK(networks_by_priority(s) == std::vector<std::string>{"back", "front"});
  CHECK(extra_networks(p, s) == std::vector<std::string>{"proj_front"});
  json b = body_of(p, "web");
  CHECK(b["HostConfig"]["NetworkMode"] == "proj_back");
  CHECK(b["NetworkingConfig"]["EndpointsConfig"]["proj_back"] == json::parse(R"({
    "Aliases": ["web", "api"],
    "IPAMConfig": {"IPv4Address": "172.30.0.10", "LinkLocalIPs": ["169.254.1.1"]},
    "MacAddress": "02:42:ac:1e:00:0a",
    "DriverOpts": {"com.example.opt": "1"}})"));
  // Before API 1.44 the engine takes the container's MAC address: the primary network's.
  CHECK(b["MacAddress"] == "02:42:ac:1e:00:0a");
  CHECK(endpoint_settings(p, s, "front", {}) ==
        json::parse(R"({"Aliases": ["web", "www"], "IPAMConfig": {"IPv6Address": "fd00::10"}})"));

  // Equal priorities: by name.
  s.networks["back"].priority = 0;
  CHECK(networks_by_priority(s) == std::vector<std::string>{"back", "front"});
  s.networks["front"].priority = 1;
  CHECK(networks_by_priority(s) == std::vector<std::string>{"front", "back"});
}

TEST_CASE("links and external_links: endpoint links as compose v2 writes them", "[spec][apply]") {
  auto db = service("db");
  auto web = service("web");
  web.links = {"db:database"};
  web.external_links = {"legacy-cache:cache", "registry"};
  auto p = project({db, web});
  // No db container observed yet: replica 1 by its canonical name.
  json b = body_of(p, "web");
  json expected = json::array({"proj-db-1:database", "proj-db-1:db-1", "proj-db-1:proj-db-1",
                               "legacy-cache:cache", "registry:registry"});
  CHECK(b["NetworkingConfig"]["EndpointsConfig"]["proj_default"]["Links"] == expected);
  CHECK(b["HostConfig"]["Links"] == expected);
  // Two db replicas observed: both, under the alias (the engine lets the last one win).
  Peers peers{{{"db", {"proj-db-1", "proj-db-2"}}}};
  auto links = container_links(p, p.services.at("web"), 3, peers);
  CHECK(links == std::vector<std::string>{"proj-db-1:database", "proj-db-1:db-3", "proj-db-1:proj-db-3",
                                          "proj-db-2:database", "proj-db-2:db-3", "proj-db-2:proj-db-3",
                                          "legacy-cache:cache", "registry:registry"});
  // A fixed container_name is the name linked to.
  p.services["db"].container_name = "the-db";
  CHECK(container_links(p, p.services.at("web"), 1, {})[0] == "the-db:database");
}

TEST_CASE(
    "volumes_from and service: namespaces resolve to the first container; shared networks drop "
    "what the engine refuses",
    "[spec][apply]") {
  auto db = service("db");
  db.ipc = "shareable";
  auto side = service("side");
  side.networks.clear();
  side.network_mode = "service:db";
  side.pid = "service:db";
  side.ipc = "service:db";
  side.volumes_from = {"db:ro", "container:data-holder:rw", "container:plain"};
  auto p = project({db, side});
  json b = body_of(p, "side", Peers{{{"db", {"proj-db-1", "proj-db-2"}}}});
  const json& h = b["HostConfig"];
  CHECK(h["NetworkMode"] == "container:proj-db-1");
  CHECK(h["PidMode"] == "container:proj-db-1");
  CHECK(h["IpcMode"] == "container:proj-db-1");
  CHECK(h["VolumesFrom"] == json::array({"proj-db-1:ro", "data-holder:rw", "plain"}));
  CHECK(!b.contains("NetworkingConfig"));
  CHECK(!b.contains("Hostname"));
  CHECK(!b.contains("ExposedPorts"));
  CHECK(!h.contains("PortBindings"));
  CHECK(extra_networks(p, p.services.at("side")).empty());
  CHECK(resolve_mode(p, "container:other", {}) == "container:other");
  CHECK(resolve_mode(p, "host", {}) == "host");
}

TEST_CASE("mounts: bind options, nocopy, tmpfs size and mode; healthcheck without a test keeps the image's",
          "[spec][apply]") {
  auto s = service("web");
  s.volumes = {
      {.type = "bind", .source = "/srv/data", .target = "/data", .propagation = "rslave", .selinux = "z"},
      {.type = "bind", .source = "/srv/ro", .target = "/ro", .read_only = true},
      {.type = "volume", .source = "cache", .target = "/cache", .nocopy = true},
      {.type = "volume", .source = "", .target = "/anon-nocopy", .nocopy = true},
      {.type = "volume", .source = "", .target = "/anon"},
      {.type = "tmpfs", .target = "/scratch", .tmpfs_size = 16 * 1024 * 1024, .tmpfs_mode = 01777},
      {.type = "tmpfs", .target = "/plain-tmp"}};
  s.healthcheck = compose::Healthcheck{.interval_ns = 2'000'000'000, .start_interval_ns = 500'000'000};
  auto p = project({s});
  p.volumes["cache"] = {.name = "proj_cache"};
  json b = body_of(p, "web");
  const json& h = b["HostConfig"];
  CHECK(h["Binds"] ==
        json::array({"/srv/data:/data:rw,rslave,z", "/srv/ro:/ro:ro", "proj_cache:/cache:rw,nocopy"}));
  CHECK(h["Mounts"] == json::parse(R"([{"Type":"volume","Target":"/anon-nocopy","ReadOnly":false,
                                        "VolumeOptions":{"NoCopy":true}}])"));
  CHECK(b["Volumes"] == json({{"/anon", json::object()}}));
  CHECK(h["Tmpfs"] == json({{"/scratch", "size=16777216,mode=1777"}, {"/plain-tmp", ""}}));
  CHECK(b["Healthcheck"] == json({{"Interval", 2000000000}, {"StartInterval", 500000000}}));
  CHECK(!b["Healthcheck"].contains("Test"));
}

TEST_CASE("secrets and configs: files bound read-only, the rest as one archive with owner and mode",
          "[spec][apply][grants]") {
  auto s = service("web");
  s.user = "1000:2000";
  s.secrets = {{.source = "db_password"},
               {.source = "api_key", .target = "keys/api", .uid = "33", .mode = 0400}};
  s.configs = {{.source = "app_conf"}, {.source = "inline", .target = "/etc/inline.conf", .gid = "7"}};
  auto p = project({s});
  p.secrets["db_password"] = {.name = "proj_db_password", .file = "/srv/proj/db_password.txt"};
  p.secrets["api_key"] = {
      .name = "proj_api_key", .environment = "API_KEY", .environment_value = "s3cr3t-value"};
  p.configs["app_conf"] = {.name = "proj_app_conf", .file = "/srv/proj/app.conf"};
  p.configs["inline"] = {.name = "proj_inline", .content = std::string("key = 1\n")};

  CHECK(grant_target(GrantKind::Secret, s.secrets[0]) == "/run/secrets/db_password");
  CHECK(grant_target(GrantKind::Secret, s.secrets[1]) == "/run/secrets/keys/api");
  CHECK(grant_target(GrantKind::Config, s.configs[0]) == "/app_conf");
  json b = body_of(p, "web");
  CHECK(b["HostConfig"]["Binds"] == json::array({"/srv/proj/db_password.txt:/run/secrets/db_password:ro",
                                                 "/srv/proj/app.conf:/app_conf:ro"}));
  // The content is in no label and nowhere in the create body.
  CHECK(b.dump().find("s3cr3t-value") == std::string::npos);

  auto entries = util::read_tar(grant_archive(p, p.services.at("web")));
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].path == "run/secrets/keys/api");
  CHECK(entries[0].content == "s3cr3t-value");
  CHECK(entries[0].mode == 0400);
  CHECK(entries[0].uid == 33);    // the grant's
  CHECK(entries[0].gid == 2000);  // the service's numeric user
  CHECK(entries[1].path == "etc/inline.conf");
  CHECK(entries[1].content == "key = 1\n");
  CHECK(entries[1].mode == 0444);
  CHECK(entries[1].uid == 1000);
  CHECK(entries[1].gid == 7);
  // A user by name: root owns the copies.
  p.services["web"].user = "app";
  CHECK(util::read_tar(grant_archive(p, p.services.at("web")))[1].uid == 0);
  CHECK(grant_archive(project({service("none")}), service("none")).empty());
}

TEST_CASE("up refuses secrets and configs it cannot place, and warns about ignored file settings",
          "[spec][apply][grants]") {
  TempFile file("from-a-file\n");
  auto s = service("web");
  s.secrets = {{.source = "pw", .uid = "1000"}};
  auto p = project({s});
  p.secrets["pw"] = {.name = "proj_pw", .file = file.path};
  CHECK(refusal(p).empty());
  auto w = warnings_of(p);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Contains("services.web.secrets.pw: uid, gid and mode are ignored"));

  p.secrets["pw"].file = "/no/such/secret";
  CHECK_THAT(refusal(p),
             Catch::Contains("services.web.secrets.pw: secrets.pw file /no/such/secret does not exist"));
  p.secrets["pw"] = {.name = "pw", .external = true};
  CHECK_THAT(refusal(p),
             Catch::Contains("secrets.pw is external: external secrets and configs exist only in swarm"));
  p.secrets["pw"] = {.name = "pw", .environment = "PW"};  // not set when the file was loaded
  CHECK_THAT(refusal(p), Catch::Contains("environment variable PW required by secrets.pw is not set"));
  p.secrets["pw"].environment_value = "value-of-pw";
  CHECK(refusal(p).empty());
  p.services["web"].read_only = true;
  std::string refused = refusal(p);
  CHECK_THAT(refused, Catch::Contains("cannot create secrets.pw in read-only service web"));
  CHECK(refused.find("value-of-pw") == std::string::npos);
  p.services["web"].secrets = {{.source = "undefined"}};
  CHECK_THAT(refusal(p), Catch::Contains("secrets.undefined is not defined at the top level"));
}

TEST_CASE("up refuses what this engine would drop or reject halfway", "[spec][apply][checks]") {
  auto web = service("web");
  web.annotations = {{"com.example.note", "x"}};
  auto p = project({web});
  CHECK_THAT(refusal(p),
             Catch::Contains("services.web.annotations.com.example.note: annotations need Engine API "
                             "1.43; this engine speaks 1.41"));
  CHECK(refusal(p, {1, 43}).empty());

  auto db = service("db");
  auto side = service("side");
  side.networks.clear();
  side.network_mode = "service:db";
  side.ports = {{.container_port = 80}};
  p = project({db, side});
  CHECK_THAT(refusal(p),
             Catch::Contains("services.side.ports: published ports cannot be set with network_mode "
                             "service:db"));
  p.services["side"].ports.clear();
  p.services["side"].hostname = "h";
  CHECK_THAT(refusal(p), Catch::Contains("services.side.hostname: a hostname cannot be set"));
  p.services["side"].hostname.clear();
  CHECK(refusal(p).empty());
  p.services["side"].ipc = "service:db";
  CHECK_THAT(refusal(p), Catch::Contains("services.side.ipc: service:db needs services.db.ipc: shareable"));
  p.services["db"].ipc = "shareable";
  CHECK(refusal(p).empty());
  p.services["side"].volumes_from = {"db:rx"};
  CHECK_THAT(refusal(p), Catch::Contains("\"db:rx\": the mode is ro or rw"));
  p.services["side"].volumes_from.clear();

  auto bind = service("bind");
  bind.volumes = {{.type = "bind", .source = "/no/such/folder", .target = "/x", .create_host_path = false}};
  CHECK_THAT(refusal(project({bind})),
             Catch::Contains("/no/such/folder does not exist and create_host_path is false"));

  auto mac = service("mac");
  mac.networks["other"] = {.mac_address = "02:42:ac:11:00:02"};
  auto pm = project({mac});
  pm.networks["other"] = {.name = "proj_other"};
  CHECK_THAT(refusal(pm),
             Catch::Contains("services.mac.networks.other.mac_address: a MAC address on a network "
                             "other than the primary one (default) needs Engine API 1.44"));

  auto slow = service("slow");
  slow.healthcheck = compose::Healthcheck{.test = {"CMD", "true"}, .start_interval_ns = 1'000'000'000};
  auto w = warnings_of(project({slow}));
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Contains("services.slow.healthcheck.start_interval: needs Engine API 1.44"));

  auto v6 = service("v6");
  auto pn = project({v6});
  pn.networks["default"].enable_ipv4 = false;
  CHECK_THROWS_WITH(
      check_networks(pn, compose::select_services(pn, {}), {1, 41}),
      Catch::Contains("networks.default.enable_ipv4: an IPv6-only network needs Engine API 1.47"));
}

TEST_CASE("links, volumes_from and service: namespaces are dependencies: created first, brought along",
          "[spec][apply][plan]") {
  auto db = service("db");
  auto cache = service("cache");
  auto logs = service("logs");
  auto web = service("web");
  web.links = {"db:database"};
  web.volumes_from = {"logs:ro", "container:outside"};
  auto side = service("side");
  side.networks.clear();
  side.network_mode = "service:cache";
  auto p = project({db, cache, logs, web, side});
  CHECK(compose::implicit_dependencies(p.services.at("web")) == std::vector<std::string>{"db", "logs"});
  auto sel = compose::select_services(p, {.names = {"web"}});
  CHECK(sel.targeted == std::vector<std::string>{"db", "logs", "web"});
  Plan plan = plan_up(p, compose::select_services(p, {}), {}, {});
  CHECK(plan.levels.size() == 2);
  CHECK(plan.levels[1] == std::vector<std::string>{"side", "web"});

  // A cycle through them is refused; a dependency on an undefined service too.
  p.services["db"].volumes_from = {"web"};
  CHECK_THROWS_WITH(compose::select_services(p, {}), Catch::Contains("dependency cycle: "));
  p.services["db"].volumes_from = {"nothing"};
  CHECK_THROWS_WITH(compose::select_services(p, {}),
                    Catch::Contains("refers to undefined service \"nothing\""));
}

TEST_CASE("build: keys the classic builder cannot use, and the inline Dockerfile", "[spec][apply][build]") {
  auto web = service("web");
  web.build = compose::BuildSpec{.context = "/srv/proj", .unsupported = {"build.ssh", "build.secrets"}};
  auto plain = service("plain");
  plain.build = compose::BuildSpec{.context = "/srv/proj"};
  auto p = project({web, plain});
  CHECK(unsupported_build_keys(p, {"plain", "web"}) ==
        std::vector<std::string>{
            "services.web.build.ssh: the engine's classic builder cannot use ssh (needs BuildKit)",
            "services.web.build.secrets: the engine's classic builder cannot use secrets (needs BuildKit)"});
  CHECK(unsupported_build_keys(p, {"plain"}).empty());

  compose::BuildSpec spec{
      .context = "/srv/proj", .dockerfile_inline = "FROM scratch\n", .args = {{"A", "1"}}};
  spec.tags = {"img:extra"};
  ImageBuild b = image_build_of(spec, "img:1", false);
  CHECK(b.dockerfile == kInlineDockerfile);
  CHECK(b.dockerfile_inline == "FROM scratch\n");
  CHECK(b.args.at("A") == "1");
  CHECK(b.tags == std::vector<std::string>{"img:extra"});
  CHECK(image_build_of(compose::BuildSpec{.context = "/srv/proj"}, "img:1", false).dockerfile ==
        "Dockerfile");
}
