// The model as `config` prints it (compose v2's normalised shape) and the config hash: stable for the
// settings older versions knew, changed by every setting that reaches the container.
#include <catch2/catch.hpp>

#include <functional>
#include <set>

#include "compose/model.hpp"

using namespace fleet::compose;
using nlohmann::json;

namespace {

Service minimal() {
  Service a;
  a.name = "web";
  a.image = "nginx:1.25";
  a.networks["default"] = {};
  return a;
}

// Every setting the fleet knew before the model followed the whole specification.
Service old_keys_only() {
  Service b;
  b.name = "kernel";
  b.image = "llmspell:latest";
  b.build = BuildSpec{};
  b.build->context = "/srv/app";
  b.build->args = {{"V", "1"}};
  b.command = std::vector<std::string>{"serve", "--port", "9555"};
  b.entrypoint = std::vector<std::string>{"/entry.sh"};
  b.container_name = "k1";
  b.ports = {{"127.0.0.1", 8080, 80, "tcp"}, {"", 0, 9555, "udp"}};
  b.expose = {"9555/tcp"};
  b.volumes = {{"bind", "/srv/data", "/data", true}, {"volume", "cache", "/cache", false}};
  b.environment = {{"A", "1"}, {"B", "two"}};
  b.labels = {{"team", "ml"}};
  b.mem_limit = 536870912;
  b.mem_reservation = 268435456;
  b.memswap_limit = 1073741824;
  b.cpus = 1.5;
  b.cpu_shares = 512;
  b.pids_limit = 100;
  b.replicas = 3;
  b.healthcheck = Healthcheck{{"CMD", "true"}, 30000000000, 5000000000, 60000000000, std::nullopt, 3};
  b.restart = "unless-stopped";
  b.networks["default"] = {};
  b.networks["back"].aliases = {"db-alias"};
  b.depends_on["db"] = Dependency{"service_healthy", true, false};
  b.profiles = {"dev"};
  b.user = "1000:1000";
  b.working_dir = "/work";
  b.read_only = true;
  b.cap_add = {"NET_ADMIN"};
  b.cap_drop = {"ALL"};
  b.security_opt = {"no-new-privileges:true"};
  b.stop_grace_period_ns = 90000000000;
  b.stop_signal = "SIGINT";
  b.logging = Logging{"json-file", {{"max-size", "10m"}}};
  b.tmpfs = {"/run"};
  b.privileged = true;
  b.pid = "host";
  b.ipc = "shareable";
  b.extensions["x-fleet"] = {{"kernel", true}};
  return b;
}

}  // namespace

TEST_CASE("the config hash of a service using only the old settings is what older versions computed",
          "[compose][hash]") {
  // Values computed by the fleet before the model gained the specification's other settings
  // (bd5436c, the parent of the model commit): containers created since carry them in
  // com.docker.compose.config-hash, so a different value would recreate each one on the first `up`.
  CHECK(config_hash(minimal()) == "4b3d5b2a7adbd9d8f307eb9752a09a49441cc4b0007f70b129d3a36ba753d302");
  CHECK(config_hash(old_keys_only()) == "bc2bb10d9c648bf7f368786239315baa8f8fdc70f460a2a48dc354614acb719a");
  Service host = minimal();
  host.networks.clear();
  host.network_mode = "host";
  CHECK(config_hash(host) == "affc0c415b322b6cf57b62c08cf696d2fcd004d70a81d66779d99574326a3f30");
}

TEST_CASE("every new setting changes the config hash; scale, profiles, depends_on, build do not",
          "[compose][hash]") {
  const Service base_service = old_keys_only();
  const std::string base = config_hash(base_service);
  const std::vector<std::pair<const char*, std::function<void(Service&)>>> changes = {
      {"init", [](Service& s) { s.init = true; }},
      {"tty", [](Service& s) { s.tty = true; }},
      {"stdin_open", [](Service& s) { s.stdin_open = true; }},
      {"oom_kill_disable", [](Service& s) { s.oom_kill_disable = true; }},
      {"hostname", [](Service& s) { s.hostname = "h"; }},
      {"domainname", [](Service& s) { s.domainname = "example.org"; }},
      {"runtime", [](Service& s) { s.runtime = "runc"; }},
      {"cgroup_parent", [](Service& s) { s.cgroup_parent = "/fleet"; }},
      {"cgroup", [](Service& s) { s.cgroup = "private"; }},
      {"mac_address", [](Service& s) { s.mac_address = "02:42:ac:11:00:02"; }},
      {"platform", [](Service& s) { s.platform = "linux/amd64"; }},
      {"isolation", [](Service& s) { s.isolation = "default"; }},
      {"userns_mode", [](Service& s) { s.userns_mode = "host"; }},
      {"uts", [](Service& s) { s.uts = "host"; }},
      {"dns", [](Service& s) { s.dns = {"1.1.1.1"}; }},
      {"dns_search", [](Service& s) { s.dns_search = {"example.org"}; }},
      {"dns_opt", [](Service& s) { s.dns_opt = {"ndots:2"}; }},
      {"extra_hosts", [](Service& s) { s.extra_hosts = {"db:10.0.0.2"}; }},
      {"group_add", [](Service& s) { s.group_add = {"audio"}; }},
      {"links", [](Service& s) { s.links = {"db"}; }},
      {"external_links", [](Service& s) { s.external_links = {"redis:cache"}; }},
      {"volumes_from", [](Service& s) { s.volumes_from = {"db:ro"}; }},
      {"device_cgroup_rules", [](Service& s) { s.device_cgroup_rules = {"c 1:3 mr"}; }},
      {"ulimits",
       [](Service& s) {
         s.ulimits = {{"nofile", 1024, 2048}};
       }},
      {"sysctls",
       [](Service& s) {
         s.sysctls = {{"net.core.somaxconn", "1024"}};
       }},
      {"storage_opt",
       [](Service& s) {
         s.storage_opt = {{"size", "1G"}};
       }},
      {"annotations",
       [](Service& s) {
         s.annotations = {{"a", "b"}};
       }},
      {"shm_size", [](Service& s) { s.shm_size = 67108864; }},
      {"cpu_period", [](Service& s) { s.cpu_period = 100000; }},
      {"cpu_quota", [](Service& s) { s.cpu_quota = 50000; }},
      {"cpu_rt_period", [](Service& s) { s.cpu_rt_period = 1000000; }},
      {"cpu_rt_runtime", [](Service& s) { s.cpu_rt_runtime = 950000; }},
      {"cpu_count", [](Service& s) { s.cpu_count = 2; }},
      {"oom_score_adj", [](Service& s) { s.oom_score_adj = 500; }},
      {"mem_swappiness", [](Service& s) { s.mem_swappiness = 60; }},
      {"cpu_percent", [](Service& s) { s.cpu_percent = 50; }},
      {"cpuset", [](Service& s) { s.cpuset = "0-1"; }},
      {"blkio weight", [](Service& s) { s.blkio.weight = 300; }},
      {"blkio read_bps",
       [](Service& s) {
         s.blkio.read_bps = {{"/dev/sda", 1048576}};
       }},
      {"devices",
       [](Service& s) {
         s.devices = {{"/dev/fuse", "/dev/fuse", "rwm"}};
       }},
      {"device_requests",
       [](Service& s) {
         s.device_requests = {{"nvidia", -1, {}, {"gpu"}, {}}};
       }},
      {"secrets",
       [](Service& s) {
         s.secrets = {{"token", "/run/secrets/token", "", "", std::nullopt}};
       }},
      {"configs",
       [](Service& s) {
         s.configs = {{"app", "/etc/app.conf", "", "", 0440}};
       }},
      {"post_start",
       [](Service& s) {
         s.post_start = {{{"touch", "/ready"}, "", "", false, {}}};
       }},
      {"pre_stop",
       [](Service& s) {
         s.pre_stop = {{{"sync"}, "", "", false, {}}};
       }},
      {"volume propagation", [](Service& s) { s.volumes[0].propagation = "rshared"; }},
      {"volume selinux", [](Service& s) { s.volumes[0].selinux = "z"; }},
      {"volume create_host_path", [](Service& s) { s.volumes[0].create_host_path = false; }},
      {"volume nocopy", [](Service& s) { s.volumes[1].nocopy = true; }},
      {"one more mount",
       [](Service& s) {
         s.volumes.push_back({"tmpfs", "", "/scratch"});
       }},
      {"tmpfs size", [](Service& s) { s.volumes[1].tmpfs_size = 1024; }},
      {"tmpfs mode", [](Service& s) { s.volumes[1].tmpfs_mode = 01777; }},
      {"healthcheck start_interval", [](Service& s) { s.healthcheck->start_interval_ns = 1000000000; }},
      {"network ipv4_address", [](Service& s) { s.networks["back"].ipv4_address = "172.20.0.5"; }},
      {"network ipv6_address", [](Service& s) { s.networks["back"].ipv6_address = "fd00::5"; }},
      {"network mac_address", [](Service& s) { s.networks["default"].mac_address = "02:42:ac:11:00:03"; }},
      {"network link_local_ips", [](Service& s) { s.networks["default"].link_local_ips = {"169.254.0.9"}; }},
      {"network driver_opts",
       [](Service& s) {
         s.networks["default"].driver_opts = {{"mtu", "1400"}};
       }},
      {"network priority", [](Service& s) { s.networks["default"].priority = 10; }},
      {"an old setting", [](Service& s) { s.environment["C"] = "3"; }},
  };
  std::set<std::string> seen{base};
  for (const auto& [what, change] : changes) {
    INFO(what);
    Service s = base_service;
    change(s);
    const std::string hash = config_hash(s);
    CHECK(hash != base);
    CHECK(seen.insert(hash).second);  // and differently from every other change
  }

  const std::vector<std::pair<const char*, std::function<void(Service&)>>> no_change = {
      {"scale", [](Service& s) { s.replicas = 7; }},
      {"no scale", [](Service& s) { s.replicas.reset(); }},
      {"profiles",
       [](Service& s) {
         s.profiles = {"other", "more"};
       }},
      {"depends_on", [](Service& s) { s.depends_on["cache"] = {}; }},
      {"build", [](Service& s) { s.build->dockerfile = "Other.Dockerfile"; }},
      {"build shm_size", [](Service& s) { s.build->shm_size = 1 << 20; }},
      {"no build", [](Service& s) { s.build.reset(); }},
      {"pull_policy", [](Service& s) { s.pull_policy = "always"; }},
      {"attach", [](Service& s) { s.attach = false; }},
  };
  for (const auto& [what, change] : no_change) {
    INFO(what);
    Service s = base_service;
    change(s);
    CHECK(config_hash(s) == base);
  }
}

TEST_CASE("to_json prints the old settings in compose's shape", "[compose]") {
  json j = to_json(old_keys_only());
  CHECK(j["image"] == "llmspell:latest");
  CHECK(j["build"] == json{{"context", "/srv/app"}, {"dockerfile", "Dockerfile"}, {"args", {{"V", "1"}}}});
  CHECK(j["ports"] == json::parse(R"([
      {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "tcp"},
      {"mode": "ingress", "target": 9555, "protocol": "udp"}])"));
  CHECK(j["volumes"] == json::parse(R"([
      {"type": "bind", "source": "/srv/data", "target": "/data", "read_only": true},
      {"type": "volume", "source": "cache", "target": "/cache"}])"));
  // Sizes as compose-go's UnitBytes prints them: decimal strings.
  CHECK(j["mem_limit"] == "536870912");
  CHECK(j["mem_reservation"] == "268435456");
  CHECK(j["memswap_limit"] == "1073741824");
  CHECK(j["cpus"] == 1.5);
  CHECK(j["cpu_shares"] == 512);
  CHECK(j["pids_limit"] == 100);
  CHECK(j["scale"] == 3);
  // Durations as Go prints them, under the specification's keys.
  CHECK(j["healthcheck"] == json{{"test", {"CMD", "true"}},
                                 {"interval", "30s"},
                                 {"timeout", "5s"},
                                 {"start_period", "1m0s"},
                                 {"retries", 3}});
  CHECK(j["stop_grace_period"] == "1m30s");
  CHECK_FALSE(j.contains("stop_grace_period_ns"));
  CHECK(j["networks"] == json{{"default", nullptr}, {"back", {{"aliases", {"db-alias"}}}}});
  CHECK(j["depends_on"] == json{{"db", {{"condition", "service_healthy"}, {"required", true}}}});
  CHECK(j["logging"] == json{{"driver", "json-file"}, {"options", {{"max-size", "10m"}}}});
  CHECK(j["x-fleet"] == json{{"kernel", true}});
  CHECK_FALSE(j.contains("attach"));
}

TEST_CASE("to_json prints every new service setting under the specification's keys", "[compose]") {
  Service s = minimal();
  s.init = s.tty = s.stdin_open = s.oom_kill_disable = true;
  s.hostname = "kernel-1";
  s.domainname = "example.org";
  s.runtime = "runc";
  s.cgroup_parent = "/fleet";
  s.cgroup = "private";
  s.mac_address = "02:42:ac:11:00:02";
  s.platform = "linux/amd64";
  s.isolation = "default";
  s.userns_mode = "host";
  s.uts = "host";
  s.pull_policy = "missing";
  s.dns = {"1.1.1.1", "8.8.8.8"};
  s.dns_search = {"example.org"};
  s.dns_opt = {"ndots:2"};
  s.extra_hosts = {"somehost:162.242.195.82", "v6host:::1", "other=10.0.0.1", "bracketed:[fd00::1]"};
  s.group_add = {"audio"};
  s.links = {"db:database"};
  s.external_links = {"redis:cache"};
  s.volumes_from = {"db:ro", "container:legacy:rw"};
  s.device_cgroup_rules = {"c 1:3 mr"};
  s.ulimits = {{"nofile", 1024, 2048}, {"nproc", 65535, 65535}};
  s.sysctls = {{"net.core.somaxconn", "1024"}};
  s.storage_opt = {{"size", "1G"}};
  s.annotations = {{"com.example.note", "x"}};
  s.shm_size = 67108864;
  s.cpu_period = 100000;
  s.cpu_quota = 50000;
  s.cpu_rt_period = 1000000;
  s.cpu_rt_runtime = 950000;
  s.cpu_count = 2;
  s.cpu_percent = 50;
  s.oom_score_adj = -500;
  s.mem_swappiness = 60;
  s.cpuset = "0-1";
  s.blkio.weight = 300;
  s.blkio.weight_device = {{"/dev/sda", 400}};
  s.blkio.read_bps = {{"/dev/sda", 1048576}};
  s.blkio.write_bps = {{"/dev/sda", 2097152}};
  s.blkio.read_iops = {{"/dev/sda", 120}};
  s.blkio.write_iops = {{"/dev/sda", 30}};
  s.devices = {{"/dev/fuse", "/dev/fuse", "rwm"}, {"/dev/sda", "/dev/xvda", "r"}};
  s.device_requests = {{"nvidia", -1, {}, {"gpu"}, {}},
                       {"", 0, {"0", "3"}, {"gpu", "compute"}, {{"k", "v"}}}};
  s.secrets = {{"token", "/run/secrets/token", "", "", std::nullopt},
               {"key", "/etc/key", "1000", "1000", 0400}};
  s.configs = {{"app", "/etc/app.conf", "", "", 0440}};
  s.post_start = {{{"touch", "/ready"}, "root", "/work", true, {{"PHASE", "start"}}}};
  s.pre_stop = {{{"sync"}, "", "", false, {}}};
  s.attach = false;
  s.networks["default"].aliases = {"k"};
  s.networks["default"].ipv4_address = "172.20.0.5";
  s.networks["default"].ipv6_address = "fd00::5";
  s.networks["default"].mac_address = "02:42:ac:11:00:03";
  s.networks["default"].link_local_ips = {"169.254.0.9"};
  s.networks["default"].driver_opts = {{"com.docker.network.endpoint.sysctls", "x"}};
  s.networks["default"].priority = 10;
  s.healthcheck = Healthcheck{{"CMD-SHELL", "curl -f localhost"},
                              90'000'000'000,
                              500'000'000,
                              std::nullopt,
                              2'000'000'000,
                              std::nullopt};

  const json j = to_json(s);
  CHECK(j["init"] == true);
  CHECK(j["tty"] == true);
  CHECK(j["stdin_open"] == true);
  CHECK(j["oom_kill_disable"] == true);
  CHECK(j["hostname"] == "kernel-1");
  CHECK(j["domainname"] == "example.org");
  CHECK(j["runtime"] == "runc");
  CHECK(j["cgroup_parent"] == "/fleet");
  CHECK(j["cgroup"] == "private");
  CHECK(j["mac_address"] == "02:42:ac:11:00:02");
  CHECK(j["platform"] == "linux/amd64");
  CHECK(j["isolation"] == "default");
  CHECK(j["userns_mode"] == "host");
  CHECK(j["uts"] == "host");
  CHECK(j["pull_policy"] == "missing");
  CHECK(j["dns"] == json{"1.1.1.1", "8.8.8.8"});
  CHECK(j["dns_search"] == json{"example.org"});
  CHECK(j["dns_opt"] == json{"ndots:2"});
  // compose v2 (compose-go's HostsList) prints "host=ip", sorted, brackets dropped.
  CHECK(j["extra_hosts"] ==
        json{"bracketed=fd00::1", "other=10.0.0.1", "somehost=162.242.195.82", "v6host=::1"});
  CHECK(j["group_add"] == json{"audio"});
  CHECK(j["links"] == json{"db:database"});
  CHECK(j["external_links"] == json{"redis:cache"});
  CHECK(j["volumes_from"] == json{"db:ro", "container:legacy:rw"});
  CHECK(j["device_cgroup_rules"] == json{"c 1:3 mr"});
  CHECK(j["ulimits"] == json{{"nofile", {{"soft", 1024}, {"hard", 2048}}}, {"nproc", 65535}});
  CHECK(j["sysctls"] == json{{"net.core.somaxconn", "1024"}});
  CHECK(j["storage_opt"] == json{{"size", "1G"}});
  CHECK(j["annotations"] == json{{"com.example.note", "x"}});
  CHECK(j["shm_size"] == "67108864");
  CHECK(j["cpu_period"] == 100000);
  CHECK(j["cpu_quota"] == 50000);
  CHECK(j["cpu_rt_period"] == 1000000);
  CHECK(j["cpu_rt_runtime"] == 950000);
  CHECK(j["cpu_count"] == 2);
  CHECK(j["cpu_percent"] == 50);
  CHECK(j["oom_score_adj"] == -500);
  CHECK(j["mem_swappiness"] == "60");  // compose-go types it as UnitBytes too
  CHECK(j["cpuset"] == "0-1");
  CHECK(j["blkio_config"] == json::parse(R"({
      "weight": 300,
      "weight_device": [{"path": "/dev/sda", "weight": 400}],
      "device_read_bps": [{"path": "/dev/sda", "rate": "1048576"}],
      "device_write_bps": [{"path": "/dev/sda", "rate": "2097152"}],
      "device_read_iops": [{"path": "/dev/sda", "rate": "120"}],
      "device_write_iops": [{"path": "/dev/sda", "rate": "30"}]})"));
  CHECK(j["devices"] == json::parse(R"([
      {"source": "/dev/fuse", "target": "/dev/fuse", "permissions": "rwm"},
      {"source": "/dev/sda", "target": "/dev/xvda", "permissions": "r"}])"));
  CHECK(j["deploy"] == json::parse(R"({"resources": {"reservations": {"devices": [
      {"driver": "nvidia", "count": -1, "capabilities": ["gpu"]},
      {"device_ids": ["0", "3"], "capabilities": ["gpu", "compute"], "options": {"k": "v"}}]}}})"));
  CHECK(j["secrets"] == json::parse(R"([
      {"source": "token", "target": "/run/secrets/token"},
      {"source": "key", "target": "/etc/key", "uid": "1000", "gid": "1000", "mode": "0400"}])"));
  CHECK(j["configs"] == json::parse(R"([{"source": "app", "target": "/etc/app.conf", "mode": "0440"}])"));
  CHECK(j["post_start"] == json::parse(R"([{"command": ["touch", "/ready"], "user": "root",
      "working_dir": "/work", "privileged": true, "environment": {"PHASE": "start"}}])"));
  CHECK(j["pre_stop"] == json::parse(R"([{"command": ["sync"]}])"));
  CHECK(j["attach"] == false);
  CHECK(j["networks"] == json::parse(R"({"default": {"aliases": ["k"], "ipv4_address": "172.20.0.5",
      "ipv6_address": "fd00::5", "mac_address": "02:42:ac:11:00:03", "link_local_ips": ["169.254.0.9"],
      "driver_opts": {"com.docker.network.endpoint.sysctls": "x"}, "priority": 10}})"));
  CHECK(j["healthcheck"] == json{{"test", {"CMD-SHELL", "curl -f localhost"}},
                                 {"interval", "1m30s"},
                                 {"timeout", "500ms"},
                                 {"start_interval", "2s"}});
}

TEST_CASE("to_json prints volume mount options in compose's sub-mappings", "[compose]") {
  Service s = minimal();
  s.volumes = {{"bind", "/srv", "/srv", false, "rshared", "z", false},
               {"volume", "data", "/data", false, "", "", true, true},
               {"tmpfs", "", "/scratch", false, "", "", true, false, 1 << 20, 01777},
               {"volume", "", "/anon"}};
  const json j = to_json(s);
  CHECK(j["volumes"] == json::parse(R"([
      {"type": "bind", "source": "/srv", "target": "/srv",
       "bind": {"propagation": "rshared", "selinux": "z", "create_host_path": false}},
      {"type": "volume", "source": "data", "target": "/data", "volume": {"nocopy": true}},
      {"type": "tmpfs", "target": "/scratch", "tmpfs": {"size": "1048576", "mode": 1023}},
      {"type": "volume", "target": "/anon"}])"));
}

TEST_CASE("a service with nothing set prints nothing but what it has", "[compose]") {
  Service s;
  s.name = "bare";
  s.image = "busybox";
  CHECK(to_json(s) == json{{"image", "busybox"}});
}

TEST_CASE("to_json(Project): networks, volumes, secrets and configs as compose prints them", "[compose]") {
  Project p;
  p.name = "demo";
  p.services["web"] = minimal();
  NetworkDef net;
  net.name = "demo_back";
  net.driver = "bridge";
  net.internal = net.attachable = net.enable_ipv6 = true;
  net.enable_ipv4 = false;
  net.driver_opts = {{"com.docker.network.bridge.name", "br-back"}};
  net.labels = {{"tier", "back"}};
  net.ipam = NetworkDef::Ipam{"default",
                              {{"172.28.0.0/16", "172.28.5.0/24", "172.28.5.254", {{"host1", "172.28.1.5"}}}},
                              {{"foo", "bar"}}};
  p.networks["back"] = net;
  p.networks["default"].name = "demo_default";
  NetworkDef outside;
  outside.name = "shared";
  outside.external = true;
  p.networks["outside"] = outside;
  p.volumes["data"] = {"demo_data", "local", false, {{"l", "v"}}, {{"type", "nfs"}, {"o", "addr=10.0.0.1"}}};
  p.volumes["ext"] = {"ext", "", true, {}, {}};
  FileObjectDef token;
  token.name = "demo_token";
  token.environment = "API_TOKEN";
  token.environment_value = "s3cr3t-value-never-printed";
  token.content = "s3cr3t-value-never-printed";
  p.secrets["token"] = token;
  FileObjectDef cert;
  cert.name = "demo_cert";
  cert.file = "/srv/cert.pem";
  p.secrets["cert"] = cert;
  FileObjectDef inline_config;
  inline_config.name = "demo_app";
  inline_config.content = "debug = true\n";
  p.configs["app"] = inline_config;
  FileObjectDef env_config;
  env_config.name = "demo_envcfg";
  env_config.environment = "APP_CONFIG";
  env_config.environment_value = "from-env-never-printed";
  env_config.content = "from-env-never-printed";
  p.configs["envcfg"] = env_config;
  FileObjectDef ext;
  ext.name = "preexisting";
  ext.external = true;
  p.configs["ext"] = ext;
  p.included = {"/srv/other.yml"};
  p.notes = {"deploy.placement is swarm-only: ignored"};
  p.extensions["x-shared"] = {{"a", 1}};

  const json j = to_json(p);
  CHECK(j["name"] == "demo");
  CHECK(j["services"]["web"] == json{{"image", "nginx:1.25"}, {"networks", {{"default", nullptr}}}});
  CHECK(j["networks"]["back"] == json::parse(R"({
      "name": "demo_back", "driver": "bridge", "driver_opts": {"com.docker.network.bridge.name": "br-back"},
      "ipam": {"driver": "default",
               "config": [{"subnet": "172.28.0.0/16", "ip_range": "172.28.5.0/24", "gateway": "172.28.5.254",
                           "aux_addresses": {"host1": "172.28.1.5"}}],
               "options": {"foo": "bar"}},
      "internal": true, "attachable": true, "labels": {"tier": "back"},
      "enable_ipv4": false, "enable_ipv6": true})"));
  CHECK(j["networks"]["default"] == json{{"name", "demo_default"}});
  CHECK(j["networks"]["outside"] == json{{"name", "shared"}, {"external", true}});
  CHECK(j["volumes"]["data"] == json::parse(R"({"name": "demo_data", "driver": "local",
      "driver_opts": {"type": "nfs", "o": "addr=10.0.0.1"}, "labels": {"l": "v"}})"));
  CHECK(j["volumes"]["ext"] == json{{"name", "ext"}, {"external", true}});
  CHECK(j["secrets"]["token"] == json{{"name", "demo_token"}, {"environment", "API_TOKEN"}});
  CHECK(j["secrets"]["cert"] == json{{"name", "demo_cert"}, {"file", "/srv/cert.pem"}});
  CHECK(j["configs"]["app"] == json{{"name", "demo_app"}, {"content", "debug = true\n"}});
  CHECK(j["configs"]["envcfg"] == json{{"name", "demo_envcfg"}, {"environment", "APP_CONFIG"}});
  CHECK(j["configs"]["ext"] == json{{"name", "preexisting"}, {"external", true}});
  CHECK(j["x-shared"] == json{{"a", 1}});
  CHECK_FALSE(j.contains("include"));
  CHECK_FALSE(j.contains("notes"));
  // A secret's value is never printed, wherever it was kept.
  const std::string text = j.dump();
  CHECK(text.find("s3cr3t-value-never-printed") == std::string::npos);
  CHECK(text.find("from-env-never-printed") == std::string::npos);
  CHECK(text.find("other.yml") == std::string::npos);
  CHECK(text.find("swarm-only") == std::string::npos);
}
