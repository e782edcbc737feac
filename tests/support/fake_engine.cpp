// The fake engine. Status codes and messages are the daemon's own, as Engine 20.10.24 (API 1.41)
// answered them on this project's machines; typed results are made the way the real client makes
// them (the engine's JSON through engine::from_json), so the fake cannot drift from the mapping.
#include "support/fake_engine.hpp"

#include <algorithm>
#include <ctime>
#include <regex>
#include <stdexcept>

#include "util/sha256.hpp"
#include "util/tar.hpp"

namespace fleet::test {
namespace {

using nlohmann::json;

constexpr std::int64_t kGiB = 1024ll * 1024 * 1024;
constexpr std::int64_t kMiB = 1024ll * 1024;

// The engine's error answer, through the same mapping the client uses (status -> typed error,
// "what: daemon message").
[[noreturn]] void fail(long status, const std::string& message, const std::string& what) {
  engine::throw_for_status(status, json{{"message", message}}.dump(), what);
}

[[noreturn]] void not_in_fake(const std::string& call) {
  throw std::logic_error("not in the fake: " + call);
}

std::string rfc3339(std::int64_t t) {
  if (t <= 0) return "0001-01-01T00:00:00Z";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + ".000000000Z";
}

std::string strip_slash(const std::string& name) {
  return !name.empty() && name.front() == '/' ? name.substr(1) : name;
}

// "llmspell" -> "llmspell:latest"; a tag or digest already there is kept.
std::string normalize_tag(const std::string& ref) {
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (ref.find('@') != std::string::npos) return ref;
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return ref + ":latest";
  return ref;
}

bool all_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
  });
}

std::string short_id(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

bool valid_container_name(const std::string& name) {
  static const std::regex valid("/?[a-zA-Z0-9][a-zA-Z0-9_.-]+");
  return std::regex_match(name, valid);
}

// "key" (present) or "key=value" (equal), all of them.
bool labels_match(const engine::Labels& labels, const std::vector<std::string>& wanted) {
  for (const auto& w : wanted) {
    auto eq = w.find('=');
    auto it = labels.find(w.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos && it->second != w.substr(eq + 1)) return false;
  }
  return true;
}

// Filters the engine accepts: those the fake models, those it knows but does not model (a
// logic_error: the test needs more fake), anything else is the engine's 400.
void check_filters(const engine::Filters& filters, const std::set<std::string>& modelled,
                   const std::set<std::string>& known, const std::string& call) {
  for (const auto& [key, values] : filters) {
    if (modelled.count(key)) continue;
    if (known.count(key)) not_in_fake(call + " with filter " + key);
    fail(400, "Invalid filter '" + key + "'", call);
  }
}

const std::vector<std::string>* filter(const engine::Filters& filters, const std::string& key) {
  auto it = filters.find(key);
  return it == filters.end() ? nullptr : &it->second;
}

engine::Labels labels_of(const json& j) {
  engine::Labels out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

std::string env_key(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

const json& host_config(const FakeContainer& c) {
  static const json kEmpty = json::object();
  auto it = c.body.find("HostConfig");
  return it != c.body.end() && it->is_object() ? *it : kEmpty;
}

// Container ports the container has: exposed ones and bound ones ("9555/tcp").
std::set<std::string> exposed_ports(const FakeContainer& c) {
  std::set<std::string> out;
  if (auto it = c.body.find("ExposedPorts"); it != c.body.end() && it->is_object())
    for (auto p = it->begin(); p != it->end(); ++p) out.insert(p.key());
  const json& host = host_config(c);
  if (auto it = host.find("PortBindings"); it != host.end() && it->is_object())
    for (auto p = it->begin(); p != it->end(); ++p) out.insert(p.key());
  return out;
}

std::pair<int, std::string> split_port_key(const std::string& key) {
  auto slash = key.find('/');
  return {std::stoi(key.substr(0, slash)), slash == std::string::npos ? "tcp" : key.substr(slash + 1)};
}

std::string normalize_ip(const std::string& ip) {
  return ip.empty() ? "0.0.0.0" : ip;
}

std::string since(std::int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  return std::to_string(seconds / 60) + " minutes";
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string clean_path(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty() || path.front() != '/') path = "/" + path;
  return path;
}

}  // namespace

// --- FakeContainer

void FakeContainer::put_file(const std::string& path, const std::string& content, unsigned mode) {
  files[clean_path(path)] = {content, mode};
}

std::string FakeContainer::env_value(const std::string& variable, const std::string& fallback) const {
  for (const auto& e : env)
    if (env_key(e) == variable && e.size() > variable.size()) return e.substr(variable.size() + 1);
  return fallback;
}

int FakeContainer::host_port(int private_port) const {
  auto it = published.find(std::to_string(private_port) + "/tcp");
  if (it == published.end() || it->second.empty()) return 0;
  return std::stoi(it->second.front().host_port);
}

// --- test side

FakeEngine::FakeEngine() = default;

std::string FakeEngine::add_image(const std::string& tag, const engine::Labels& labels,
                                  const std::vector<std::string>& env) {
  std::lock_guard lock(mu_);
  return add_image_locked(tag, labels, env);
}

std::string FakeEngine::add_image_locked(const std::string& tag, const engine::Labels& labels,
                                         const std::vector<std::string>& env) {
  FakeImage image{.id = "sha256:" + new_id("image"), .labels = labels, .env = env, .created = tick()};
  if (!tag.empty()) {
    const std::string t = normalize_tag(tag);
    // A tag names one image: the one that had it becomes dangling (or keeps its other tags).
    for (auto& other : images_) std::erase(other.tags, t);
    image.tags.push_back(t);
  }
  images_.push_back(image);
  return image.id;
}

void FakeEngine::on_start(Behaviour behaviour) {
  std::lock_guard lock(mu_);
  behaviours_.push_back(std::move(behaviour));
}

FakeEngine::Behaviour FakeEngine::kernel_behaviour() {
  return [](FakeContainer& c) {
    const std::string state_dir = c.env_value("LLMSPELL_STATE_DIR", "/var/lib/llmspell/state");
    c.put_file(c.env_value("LLMSPELL_CONNECTION_FILE", "/var/lib/llmspell/state/connection.json"),
               json{{"shell_port", 9555},
                    {"iopub_port", 9556},
                    {"stdin_port", 9557},
                    {"control_port", 9558},
                    {"hb_port", 9559},
                    {"ip", "0.0.0.0"},
                    {"key", "k"},
                    {"transport", "tcp"},
                    {"signature_scheme", "hmac-sha256"}}
                   .dump(),
               0600);
    c.put_file(state_dir + "/status.json", json{{"execution_state", "idle"}}.dump());
  };
}

void FakeEngine::fail_next_with(const std::string& call, std::exception_ptr error) {
  std::lock_guard lock(mu_);
  faults_[call].push_back(std::move(error));
}

std::vector<std::string> FakeEngine::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<std::string> FakeEngine::calls_named(const std::string& call) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& line : calls_)
    if (line.substr(0, line.find(' ')) == call) out.push_back(line);
  return out;
}

void FakeEngine::clear_calls() {
  std::lock_guard lock(mu_);
  calls_.clear();
}

std::vector<FakeContainer> FakeEngine::containers() const {
  std::lock_guard lock(mu_);
  return containers_;
}

std::optional<FakeContainer> FakeEngine::container(const std::string& ref) const {
  std::lock_guard lock(mu_);
  const FakeContainer* c = const_cast<FakeEngine*>(this)->find_container(ref);
  return c ? std::optional<FakeContainer>(*c) : std::nullopt;
}

std::vector<FakeImage> FakeEngine::images() const {
  std::lock_guard lock(mu_);
  return images_;
}

std::optional<FakeImage> FakeEngine::image(const std::string& ref) const {
  std::lock_guard lock(mu_);
  const FakeImage* i = const_cast<FakeEngine*>(this)->find_image(ref);
  return i ? std::optional<FakeImage>(*i) : std::nullopt;
}

std::vector<FakeNetwork> FakeEngine::networks() const {
  std::lock_guard lock(mu_);
  return networks_;
}

std::vector<FakeVolume> FakeEngine::volumes() const {
  std::lock_guard lock(mu_);
  return volumes_;
}

void FakeEngine::exit_container(const std::string& ref, int exit_code) {
  std::lock_guard lock(mu_);
  FakeContainer* c = find_container(ref);
  if (!c || !c->running()) throw std::logic_error("exit_container: " + ref + " is not a running container");
  end_process(*c, exit_code);
}

void FakeEngine::set_health(const std::string& ref, const std::string& health) {
  std::lock_guard lock(mu_);
  FakeContainer* c = find_container(ref);
  if (!c) throw std::logic_error("set_health: no container " + ref);
  c->health = health;
}

void FakeEngine::put_file(const std::string& ref, const std::string& path, const std::string& content,
                          unsigned mode) {
  std::lock_guard lock(mu_);
  FakeContainer* c = find_container(ref);
  if (!c) throw std::logic_error("put_file: no container " + ref);
  c->put_file(path, content, mode);
}

// --- internals

void FakeEngine::enter(const std::string& line) {
  calls_.push_back(line);
  auto it = faults_.find(line.substr(0, line.find(' ')));
  if (it == faults_.end() || it->second.empty()) return;
  std::exception_ptr error = it->second.front();
  it->second.pop_front();
  std::rethrow_exception(error);
}

std::string FakeEngine::new_id(const std::string& kind) {
  // Unique across engines, as the real engine's are: test processes running side by side share the
  // host's per-container markers (drains), so two fakes must never hand out the same id.
  return util::sha256_hex(salt_ + kind + "-" + std::to_string(next_id_++));
}

std::int64_t FakeEngine::tick() {
  return ++now_;
}

FakeContainer* FakeEngine::find_container(const std::string& ref) {
  const std::string r = strip_slash(ref);
  if (r.empty()) return nullptr;
  for (auto& c : containers_)
    if (c.id == r || c.name == r) return &c;
  FakeContainer* found = nullptr;
  for (auto& c : containers_)
    if (c.id.rfind(r, 0) == 0) {
      if (found) return nullptr;  // ambiguous prefix
      found = &c;
    }
  return found;
}

FakeContainer& FakeEngine::container_or_throw(const std::string& ref, const std::string& what) {
  FakeContainer* c = find_container(ref);
  if (!c) fail(404, "No such container: " + ref, what);
  return *c;
}

FakeImage* FakeEngine::find_image(const std::string& ref) {
  if (ref.empty()) return nullptr;
  const std::string tag = normalize_tag(ref);
  for (auto& i : images_)
    if (std::find(i.tags.begin(), i.tags.end(), tag) != i.tags.end()) return &i;
  std::string hex = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
  if (!all_hex(hex)) return nullptr;
  FakeImage* found = nullptr;
  for (auto& i : images_)
    if (i.id.compare(7, hex.size(), hex) == 0) {
      if (found) return nullptr;
      found = &i;
    }
  return found;
}

FakeImage& FakeEngine::image_or_throw(const std::string& ref, const std::string& what,
                                      const std::string& message) {
  FakeImage* i = find_image(ref);
  if (!i) fail(404, message, what);
  return *i;
}

FakeNetwork* FakeEngine::find_network(const std::string& ref) {
  for (auto& n : networks_)
    if (n.id == ref || n.name == ref) return &n;
  FakeNetwork* found = nullptr;
  for (auto& n : networks_)
    if (!ref.empty() && n.id.rfind(ref, 0) == 0) {
      if (found) return nullptr;
      found = &n;
    }
  return found;
}

bool FakeEngine::host_port_in_use(int port, const std::string& proto, const std::string& ip,
                                  const std::string& except) const {
  for (const auto& c : containers_) {
    if (c.id == except || !c.running()) continue;
    for (const auto& [key, bindings] : c.published) {
      if (split_port_key(key).second != proto) continue;
      for (const auto& b : bindings)
        if (std::stoi(b.host_port) == port && (b.host_ip == ip || b.host_ip == "0.0.0.0" || ip == "0.0.0.0"))
          return true;
    }
  }
  return false;
}

int FakeEngine::ephemeral_port() {
  // The engine hands out ports of the kernel's ephemeral range one after the other.
  for (int tries = 0; tries <= 60999 - 32768; ++tries) {
    int port = next_ephemeral_;
    next_ephemeral_ = port == 60999 ? 32768 : port + 1;
    if (!host_port_in_use(port, "tcp", "0.0.0.0", "") && !host_port_in_use(port, "udp", "0.0.0.0", ""))
      return port;
  }
  fail(500, "no free ephemeral port", "start container");
}

void FakeEngine::publish_ports(FakeContainer& c) {
  std::map<std::string, std::vector<engine::HostPortBinding>> out;
  const json& host = host_config(c);
  auto bindings = host.find("PortBindings");
  if (bindings != host.end() && bindings->is_object())
    for (auto it = bindings->begin(); it != bindings->end(); ++it) {
      if (!it.value().is_array()) continue;
      const auto [private_port, proto] = split_port_key(it.key());
      (void)private_port;
      for (const auto& b : it.value()) {
        const std::string ip = normalize_ip(b.value("HostIp", ""));
        const std::string asked = b.value("HostPort", "");
        int port = 0;
        if (asked.empty() || asked == "0") {
          port = ephemeral_port();
        } else {
          if (asked.find('-') != std::string::npos) not_in_fake("start with a host port range " + asked);
          port = std::stoi(asked);
          bool taken = host_port_in_use(port, proto, ip, c.id);
          std::string holder_ip = ip;
          for (const auto& [key, mine] : out)
            for (const auto& m : mine)
              if (split_port_key(key).second == proto && std::stoi(m.host_port) == port &&
                  (m.host_ip == ip || m.host_ip == "0.0.0.0" || ip == "0.0.0.0"))
                taken = true;
          if (taken) {
            // The daemon's two wordings: the allocator for the same address, the userland proxy's
            // bind when a wildcard and a specific address meet.
            bool same_address = false;
            for (const auto& other : containers_)
              if (other.id != c.id && other.running())
                for (const auto& [key, obs] : other.published)
                  for (const auto& o : obs)
                    if (std::stoi(o.host_port) == port && o.host_ip == ip) same_address = true;
            for (const auto& [key, mine] : out)
              for (const auto& m : mine)
                if (std::stoi(m.host_port) == port && m.host_ip == ip) same_address = true;
            const std::string endpoint = "driver failed programming external connectivity on endpoint " +
                                         c.name + " (" + new_id("endpoint") + "): ";
            c.error =
                endpoint + (same_address ? "Bind for " + ip + ":" + std::to_string(port) +
                                               " failed: port is already allocated"
                                         : "Error starting userland proxy: listen " + proto + "4 " + ip +
                                               ":" + std::to_string(port) + ": bind: address already in use");
            fail(500, c.error, "start container " + c.name);
          }
        }
        out[it.key()].push_back({ip, std::to_string(port)});
      }
    }
  c.published = std::move(out);
}

void FakeEngine::end_process(FakeContainer& c, int exit_code) {
  c.state = "exited";
  c.exit_code = exit_code;
  c.finished_at = tick();
  c.published.clear();
}

json FakeEngine::summary_json(const FakeContainer& c) const {
  json ports = json::array();
  if (c.running())
    for (const auto& key : exposed_ports(c)) {
      auto [private_port, proto] = split_port_key(key);
      auto it = c.published.find(key);
      if (it == c.published.end() || it->second.empty()) {
        ports.push_back({{"PrivatePort", private_port}, {"Type", proto}});
        continue;
      }
      for (const auto& b : it->second)
        ports.push_back({{"IP", b.host_ip},
                         {"PrivatePort", private_port},
                         {"PublicPort", std::stoi(b.host_port)},
                         {"Type", proto}});
    }
  std::string status;
  if (c.state == "created") {
    status = "Created";
  } else if (c.state == "exited") {
    status = "Exited (" + std::to_string(c.exit_code) + ") " + since(now_ - c.finished_at) + " ago";
  } else {
    status = "Up " + since(now_ - c.started_at);
    if (c.state == "paused")
      status += " (Paused)";
    else if (c.health == "starting")
      status += " (health: starting)";
    else if (!c.health.empty())
      status += " (" + c.health + ")";
  }
  std::string command;
  for (const char* part : {"Entrypoint", "Cmd"})
    if (auto it = c.body.find(part); it != c.body.end() && it->is_array())
      for (const auto& word : *it) command += (command.empty() ? "" : " ") + word.get<std::string>();
  json networks = json::object();
  for (const auto& n : c.networks) networks[n] = {{"NetworkID", ""}};
  bool tagged = false;
  for (const auto& i : images_)
    if (i.id == c.image_id && std::find(i.tags.begin(), i.tags.end(), normalize_tag(c.image)) != i.tags.end())
      tagged = true;
  return {{"Id", c.id},
          {"Names", json::array({"/" + c.name})},
          {"Image", tagged ? c.image : c.image_id},
          {"ImageID", c.image_id},
          {"Command", command},
          {"Created", c.created},
          {"Ports", ports},
          {"Labels", c.labels},
          {"State", c.state},
          {"Status", status},
          {"HostConfig", {{"NetworkMode", host_config(c).value("NetworkMode", "default")}}},
          {"NetworkSettings", {{"Networks", networks}}},
          {"Mounts", json::array()}};
}

json FakeEngine::inspect_json(const FakeContainer& c) const {
  json host = host_config(c);
  auto fill = [&](const char* key, json value) {
    if (!host.contains(key)) host[key] = std::move(value);
  };
  fill("Memory", 0);
  fill("NanoCpus", 0);
  fill("PidsLimit", nullptr);
  fill("CapAdd", nullptr);
  fill("CapDrop", nullptr);
  fill("SecurityOpt", nullptr);
  fill("Privileged", false);
  fill("RestartPolicy", {{"Name", "no"}, {"MaximumRetryCount", 0}});
  fill("PortBindings", json::object());
  fill("NetworkMode", "default");

  json config = {{"Hostname", c.id.substr(0, 12)},
                 {"User", c.body.value("User", "")},
                 {"Tty", c.body.value("Tty", false)},
                 {"Env", c.env},
                 {"Cmd", c.body.value("Cmd", json())},
                 {"Entrypoint", c.body.value("Entrypoint", json())},
                 {"Image", c.image},
                 {"Labels", c.labels},
                 {"ExposedPorts", c.body.value("ExposedPorts", json())},
                 {"WorkingDir", c.body.value("WorkingDir", "")}};
  for (const char* key : {"Healthcheck", "StopSignal", "StopTimeout"})
    if (c.body.contains(key)) config[key] = c.body[key];

  json state = {{"Status", c.state},
                {"Running", c.running()},
                {"Paused", c.state == "paused"},
                {"Restarting", false},
                {"OOMKilled", false},
                {"Dead", false},
                {"Pid", c.running() ? 4000 + static_cast<int>(c.created % 1000) : 0},
                {"ExitCode", c.exit_code},
                {"Error", c.error},
                {"StartedAt", rfc3339(c.started_at)},
                {"FinishedAt", rfc3339(c.finished_at)}};
  if (!c.health.empty())
    state["Health"] = {
        {"Status", c.health}, {"FailingStreak", c.health == "unhealthy" ? 3 : 0}, {"Log", json::array()}};

  // A stopped container publishes nothing: the engine answers {} then, and null for a port that
  // is exposed but not published while it runs.
  json ports = json::object();
  if (c.running())
    for (const auto& key : exposed_ports(c)) {
      auto it = c.published.find(key);
      if (it == c.published.end()) {
        ports[key] = nullptr;
        continue;
      }
      ports[key] = json::array();
      for (const auto& b : it->second)
        ports[key].push_back({{"HostIp", b.host_ip}, {"HostPort", b.host_port}});
    }
  json networks = json::object();
  for (const auto& n : c.networks) networks[n] = {{"NetworkID", ""}, {"Aliases", nullptr}};

  return {{"Id", c.id},
          {"Created", rfc3339(c.created)},
          {"Name", "/" + c.name},
          {"Image", c.image_id},
          {"RestartCount", 0},
          {"State", state},
          {"Config", config},
          {"HostConfig", host},
          {"NetworkSettings", {{"Ports", ports}, {"Networks", networks}}},
          {"Mounts", json::array()}};
}

json FakeEngine::image_inspect_json(const FakeImage& i) const {
  return {{"Id", i.id},
          {"RepoTags", i.tags},
          {"RepoDigests", json::array()},
          {"Created", rfc3339(i.created)},
          {"Size", 18'000'000},
          {"Config", {{"Labels", i.labels.empty() ? json() : json(i.labels)}, {"Env", i.env}}}};
}

json FakeEngine::network_json(const FakeNetwork& n) const {
  json members = json::object();
  for (const auto& id : n.containers)
    for (const auto& c : containers_)
      if (c.id == id) members[id] = {{"Name", c.name}};
  return {{"Id", n.id},           {"Name", n.name},         {"Driver", n.driver},
          {"Scope", "local"},     {"Internal", n.internal}, {"Labels", n.labels},
          {"Containers", members}};
}

// --- system

engine::PingResult FakeEngine::ping() {
  std::lock_guard lock(mu_);
  enter("ping");
  return {"1.41", "linux", "Docker/20.10.24+dfsg1 (linux)"};
}

engine::ApiVersion FakeEngine::api_version() {
  return engine::negotiate_api_version(engine::ApiVersion::parse(ping().api_version));
}

engine::VersionInfo FakeEngine::version() {
  std::lock_guard lock(mu_);
  enter("version");
  return json{{"Version", "20.10.24+dfsg1"},
              {"ApiVersion", "1.41"},
              {"MinAPIVersion", "1.12"},
              {"Os", "linux"},
              {"Arch", "amd64"},
              {"KernelVersion", "6.1.0-fake"}}
      .get<engine::VersionInfo>();
}

json FakeEngine::info() {
  std::lock_guard lock(mu_);
  enter("info");
  int running = 0, paused = 0;
  for (const auto& c : containers_) {
    if (c.state == "running") ++running;
    if (c.state == "paused") ++paused;
  }
  return {{"NCPU", 2},
          {"MemTotal", 24 * kGiB},
          {"ServerVersion", "20.10.24+dfsg1"},
          {"OperatingSystem", "fake engine"},
          {"Containers", containers_.size()},
          {"ContainersRunning", running},
          {"ContainersPaused", paused},
          {"ContainersStopped", static_cast<int>(containers_.size()) - running - paused},
          {"Images", images_.size()}};
}

void FakeEngine::events(const engine::EventsOptions&, const std::function<bool(const engine::Event&)>&) {
  not_in_fake("events");
}

// --- containers

std::vector<engine::ContainerSummary> FakeEngine::list_containers(
    const engine::ListContainersOptions& options) {
  std::lock_guard lock(mu_);
  enter("list_containers");
  const std::string what = "list containers";
  check_filters(options.filters, {"label", "status", "name", "id"},
                {"ancestor", "before", "expose", "exited", "health", "isolation", "is-task", "network",
                 "publish", "since", "volume"},
                what);
  static const std::set<std::string> kStates = {"created", "restarting", "running", "removing",
                                                "paused",  "exited",     "dead"};
  const auto* status = filter(options.filters, "status");
  if (status)
    for (const auto& s : *status)
      if (!kStates.count(s)) fail(400, "Invalid filter 'status=" + s + "'", what);
  // A status filter shows stopped containers without `all`, as `docker ps -f status=exited` does.
  const bool all = options.all || status;
  std::vector<const FakeContainer*> chosen;
  for (const auto& c : containers_) {
    if (!all && !c.running()) continue;
    if (auto* l = filter(options.filters, "label"); l && !labels_match(c.labels, *l)) continue;
    if (status && std::find(status->begin(), status->end(), c.state) == status->end()) continue;
    if (auto* ids = filter(options.filters, "id");
        ids && std::none_of(ids->begin(), ids->end(), [&](const auto& i) { return c.id.rfind(i, 0) == 0; }))
      continue;
    if (auto* names = filter(options.filters, "name");
        names && std::none_of(names->begin(), names->end(),
                              [&](const auto& n) { return std::regex_search("/" + c.name, std::regex(n)); }))
      continue;
    chosen.push_back(&c);
  }
  // Newest first, as the engine lists them.
  std::sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->created > b->created; });
  std::vector<engine::ContainerSummary> out;
  for (const auto* c : chosen) out.push_back(summary_json(*c).get<engine::ContainerSummary>());
  return out;
}

engine::CreateContainerResult FakeEngine::create_container(const std::string& name_asked, const json& body,
                                                           const std::string& platform) {
  std::lock_guard lock(mu_);
  if (!platform.empty()) not_in_fake("create with a platform");
  enter("create " + (name_asked.empty() ? std::string("<unnamed>") : name_asked));
  const std::string what = "create container " + name_asked;
  if (!name_asked.empty() && !valid_container_name(name_asked))
    fail(400, "Invalid container name (" + name_asked + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
         what);
  if (!body.is_object() || !body.contains("Image") || !body["Image"].is_string() ||
      body["Image"].get<std::string>().empty())
    fail(400, "No command specified", what);
  const std::string image_ref = body["Image"].get<std::string>();
  FakeImage* image = find_image(image_ref);
  if (!image) fail(404, "No such image: " + normalize_tag(image_ref), what);
  std::string name = strip_slash(name_asked);
  if (!name.empty())
    for (const auto& other : containers_)
      if (other.name == name)
        fail(409,
             "Conflict. The container name \"/" + name + "\" is already in use by container \"" + other.id +
                 "\". You have to remove (or rename) that container to be able to reuse that name.",
             what);

  FakeContainer c;
  c.id = new_id("container");
  c.name = name.empty() ? "fake_" + c.id.substr(0, 8) : name;
  c.image = image_ref;
  c.image_id = image->id;
  c.body = body;
  // Docker merges the image's labels into the container's: the body's win for a key both have.
  c.labels = image->labels;
  for (const auto& [key, value] : labels_of(body.value("Labels", json()))) c.labels[key] = value;
  if (auto it = body.find("Env"); it != body.end() && it->is_array())
    for (const auto& e : *it) c.env.push_back(e.get<std::string>());
  for (const auto& e : image->env)
    if (std::none_of(c.env.begin(), c.env.end(),
                     [&](const auto& mine) { return env_key(mine) == env_key(e); }))
      c.env.push_back(e);

  const std::string mode = host_config(c).value("NetworkMode", "default");
  static const std::set<std::string> kBuiltin = {"default", "bridge", "host", "none"};
  if (!kBuiltin.count(mode) && mode.rfind("container:", 0) != 0) {
    FakeNetwork* network = find_network(mode);
    if (!network) fail(404, "network " + mode + " not found", what);
    network->containers.insert(c.id);
    c.networks.insert(network->name);
  } else {
    c.networks.insert(mode == "default" ? "bridge" : mode);
  }
  c.created = tick();
  containers_.push_back(c);
  return {c.id, {}};
}

bool FakeEngine::start_container(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("start " + ref);
  FakeContainer& c = container_or_throw(ref, "start container " + ref);
  if (c.state == "paused")
    fail(409, "cannot start a paused container, try unpause instead", "start container " + ref);
  if (c.state == "running") return false;  // 304
  publish_ports(c);
  c.state = "running";
  c.exit_code = 0;
  c.error.clear();
  c.started_at = tick();
  ++c.starts;
  auto hc = c.body.find("Healthcheck");
  bool healthcheck = hc != c.body.end() && hc->is_object() && hc->contains("Test") &&
                     !(*hc)["Test"].empty() && (*hc)["Test"][0] != "NONE";
  c.health = healthcheck ? "starting" : "";
  for (const auto& behaviour : behaviours_) {
    behaviour(c);
    if (!c.running()) break;
  }
  if (!c.running()) {
    c.published.clear();
    if (c.finished_at < c.started_at) c.finished_at = tick();
  }
  return true;
}

bool FakeEngine::stop_container(const std::string& ref, std::optional<int> timeout_seconds) {
  std::lock_guard lock(mu_);
  enter("stop " + ref + (timeout_seconds ? " t=" + std::to_string(*timeout_seconds) : std::string()));
  FakeContainer& c = container_or_throw(ref, "stop container " + ref);
  if (!c.running()) return false;  // 304
  c.last_stop_timeout = timeout_seconds;
  // A kernel ends on SIGTERM within its grace period (a paused one is thawed by the engine first).
  end_process(c, 0);
  return true;
}

void FakeEngine::kill_container(const std::string& ref, const std::string& signal) {
  std::lock_guard lock(mu_);
  enter("kill " + ref);
  if (signal != "SIGKILL" && signal != "KILL" && signal != "9") not_in_fake("kill with " + signal);
  const std::string what = "kill container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  if (!c.running())
    fail(409, "Cannot kill container: " + ref + ": Container " + c.id + " is not running", what);
  end_process(c, 137);
}

void FakeEngine::remove_container(const std::string& ref, const engine::RemoveContainerOptions& options) {
  std::lock_guard lock(mu_);
  enter("remove " + ref);
  const std::string what = "remove container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  if (!options.force && c.state == "paused")
    fail(409,
         "You cannot remove a paused container " + c.id +
             ". Unpause and then stop the container before attempting removal or force remove",
         what);
  if (!options.force && c.running())
    fail(409,
         "You cannot remove a running container " + c.id +
             ". Stop the container before attempting removal or force remove",
         what);
  for (auto& n : networks_) n.containers.erase(c.id);
  const std::string id = c.id;
  std::erase_if(containers_, [&](const FakeContainer& x) { return x.id == id; });
}

bool FakeEngine::pause_container(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("pause " + ref);
  const std::string what = "pause container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  // The engine answers 409 here, never 304 (measured on 20.10.24).
  if (!c.running()) fail(409, "Container " + c.id + " is not running", what);
  if (c.state == "paused") fail(409, "Container " + c.id + " is already paused", what);
  c.state = "paused";
  return true;
}

bool FakeEngine::unpause_container(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("unpause " + ref);
  const std::string what = "unpause container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  // A 500, not a 304, whether the container runs or is stopped (measured on 20.10.24).
  if (c.state != "paused") fail(500, "Container " + c.id + " is not paused", what);
  c.state = "running";
  return true;
}

engine::ContainerInspect FakeEngine::inspect_container(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("inspect " + ref);
  return inspect_json(container_or_throw(ref, "inspect container " + ref)).get<engine::ContainerInspect>();
}

engine::WaitResult FakeEngine::wait_container(const std::string& ref, const std::string& condition,
                                              std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  enter("wait " + ref);
  FakeContainer& c = container_or_throw(ref, "wait for container " + ref);
  if (condition == "not-running" && !c.running()) return {c.exit_code, ""};
  not_in_fake("wait (" + condition + ") for a container that would have to change first");
}

std::vector<std::string> FakeEngine::update_container(const std::string& ref,
                                                      const engine::ResourceUpdate& update) {
  std::lock_guard lock(mu_);
  enter("update " + ref);
  FakeContainer& c = container_or_throw(ref, "update container " + ref);
  json body = update.body();
  for (auto it = body.begin(); it != body.end(); ++it) c.body["HostConfig"][it.key()] = it.value();
  return {};
}

void FakeEngine::rename_container(const std::string& ref, const std::string& new_name) {
  std::lock_guard lock(mu_);
  enter("rename " + ref + " " + new_name);
  const std::string what = "rename container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  if (!valid_container_name(new_name))
    fail(400, "Invalid container name (" + new_name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", what);
  const std::string name = strip_slash(new_name);
  if (name == c.name) fail(400, "Renaming a container with the same name as its current name", what);
  for (const auto& other : containers_)
    if (other.name == name)
      fail(409,
           "Conflict. The container name \"/" + name + "\" is already in use by container \"" + other.id +
               "\". You have to remove (or rename) that container to be able to reuse that name.",
           what);
  c.name = name;
}

void FakeEngine::container_logs(const std::string& ref, const engine::LogsOptions& options,
                                const engine::OutputSink& sink) {
  std::string line;
  {
    std::lock_guard lock(mu_);
    enter("logs " + ref);
    FakeContainer& c = container_or_throw(ref, "logs of container " + ref);
    if (options.follow && c.running()) not_in_fake("logs --follow of a running container");
    line = "log of " + c.name + "\n";
  }
  // Outside the lock: a sink may call the engine.
  if (options.stdout_stream) sink({engine::StreamId::Stdout, line});
}

engine::StatsSample FakeEngine::container_stats(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("stats " + ref);
  FakeContainer& c = container_or_throw(ref, "stats of container " + ref);
  if (!c.running())
    return json{{"read", rfc3339(0)},
                {"cpu_stats", json::object()},
                {"precpu_stats", json::object()},
                {"memory_stats", json::object()},
                {"pids_stats", json::object()}}
        .get<engine::StatsSample>();
  // Fixed counters: 2% of the host's two CPUs, 60 MiB in use.
  std::int64_t limit = host_config(c).value("Memory", std::int64_t{0});
  return json{{"read", rfc3339(now_)},
              {"cpu_stats",
               {{"cpu_usage", {{"total_usage", 2'000'000'000}}},
                {"system_cpu_usage", 200'000'000'000},
                {"online_cpus", 2}}},
              {"precpu_stats",
               {{"cpu_usage", {{"total_usage", 1'000'000'000}}},
                {"system_cpu_usage", 100'000'000'000},
                {"online_cpus", 2}}},
              {"memory_stats",
               {{"usage", 64 * kMiB},
                {"limit", limit > 0 ? limit : 24 * kGiB},
                {"stats", {{"inactive_file", 4 * kMiB}}}}},
              {"pids_stats", {{"current", 5}}}}
      .get<engine::StatsSample>();
}

void FakeEngine::stream_container_stats(const std::string&,
                                        const std::function<bool(const engine::StatsSample&)>&,
                                        const engine::CancelFlag*) {
  not_in_fake("stream_container_stats");
}

engine::ArchiveResult FakeEngine::get_archive(const std::string& ref, const std::string& path_asked) {
  std::lock_guard lock(mu_);
  enter("get_archive " + ref + " " + path_asked);
  const std::string what = "copy " + path_asked + " from container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  const std::string path = clean_path(path_asked);
  const std::string base = path == "/" ? "" : basename_of(path);
  util::TarWriter tar;
  engine::ArchiveResult result;
  if (auto it = c.files.find(path); it != c.files.end()) {
    tar.add_file(base, it->second.content, it->second.mode);
    result.stat = {{"name", base},
                   {"size", it->second.content.size()},
                   {"mode", it->second.mode},
                   {"mtime", rfc3339(now_)},
                   {"linkTarget", ""}};
  } else {
    // A folder: every file under it, below a folder entry of its own name.
    const std::string prefix = path == "/" ? "/" : path + "/";
    bool any = false;
    for (const auto& [file, content] : c.files)
      if (file.rfind(prefix, 0) == 0) {
        if (!any && !base.empty()) tar.add_directory(base);
        any = true;
        tar.add_file((base.empty() ? "" : base + "/") + file.substr(prefix.size()), content.content,
                     content.mode);
      }
    if (!any) fail(404, "Could not find the file " + path_asked + " in container " + c.name, what);
    // Go's FileMode: the directory bit with 0755.
    result.stat = {{"name", base.empty() ? "/" : base},
                   {"size", 4096},
                   {"mode", 0x80000000u | 0755u},
                   {"mtime", rfc3339(now_)},
                   {"linkTarget", ""}};
  }
  result.tar = tar.finish();
  return result;
}

void FakeEngine::put_archive(const std::string& ref, const std::string& path, const std::string& tar) {
  std::lock_guard lock(mu_);
  enter("put_archive " + ref + " " + path);
  const std::string what = "copy into " + path + " of container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  std::vector<util::TarEntry> entries;
  try {
    entries = util::read_tar(tar);
  } catch (const std::runtime_error& e) {
    fail(400, std::string("unexpected EOF: ") + e.what(), what);
  }
  const std::string dir = clean_path(path);
  for (const auto& e : entries)
    if (e.type == util::TarEntry::Type::File)
      c.put_file((dir == "/" ? "" : dir) + "/" + e.path, e.content, e.mode);
}

// --- exec: exec_run only (a command that succeeds); the streaming calls are not in the fake.

std::string FakeEngine::exec_create(const std::string&, const engine::ExecOptions&) {
  not_in_fake("exec_create");
}
void FakeEngine::exec_start(const std::string&, bool, const engine::OutputSink&) {
  not_in_fake("exec_start");
}
void FakeEngine::exec_start_detached(const std::string&) {
  not_in_fake("exec_start_detached");
}

engine::ExecInspect FakeEngine::exec_inspect(const std::string&) {
  not_in_fake("exec_inspect");
}
void FakeEngine::exec_attach(const std::string&, bool, int, const engine::OutputSink&,
                             const std::function<void()>&) {
  not_in_fake("exec_attach");
}
void FakeEngine::exec_resize(const std::string&, int, int) {
  not_in_fake("exec_resize");
}
int FakeEngine::exec_exit_code(const std::string&) {
  not_in_fake("exec_exit_code");
}

engine::ExecRunResult FakeEngine::exec_run(const std::string& ref, const engine::ExecOptions& options) {
  std::lock_guard lock(mu_);
  std::string command;
  for (const auto& word : options.cmd) command += " " + word;
  enter("exec_run " + ref + command);
  const std::string what = "exec in container " + ref;
  FakeContainer& c = container_or_throw(ref, what);
  if (c.state == "paused")
    fail(409, "Container " + c.id + " is paused, unpause the container before exec", what);
  if (!c.running()) fail(409, "Container " + c.id + " is not running", what);
  return {0, "", ""};
}

// --- images

std::string FakeEngine::build_image(const std::string& context_tar, const engine::BuildOptions& options,
                                    const engine::ProgressSink& progress) {
  std::vector<std::string> steps;
  std::string id;
  {
    std::lock_guard lock(mu_);
    enter("build " + options.tag);
    const std::string what = "build image " + options.tag;
    std::vector<util::TarEntry> entries;
    try {
      entries = util::read_tar(context_tar);
    } catch (const std::runtime_error& e) {
      fail(500, std::string("failed to read the build context: ") + e.what(), what);
    }
    auto dockerfile = std::find_if(entries.begin(), entries.end(), [&](const util::TarEntry& e) {
      return e.type == util::TarEntry::Type::File && e.path == options.dockerfile;
    });
    if (dockerfile == entries.end())
      fail(500, "Cannot locate specified Dockerfile: " + options.dockerfile, what);
    std::string text = dockerfile->content;
    for (std::size_t at = 0, nl; at < text.size(); at = nl + 1) {
      nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      std::string line = text.substr(at, nl - at);
      if (!line.empty() && line.front() != '#') steps.push_back(line);
    }
    id = add_image_locked(options.tag, options.labels, {});
  }
  if (progress) {
    for (std::size_t i = 0; i < steps.size(); ++i)
      progress("Step " + std::to_string(i + 1) + "/" + std::to_string(steps.size()) + " : " + steps[i]);
    progress("Successfully built " + short_id(id));
    if (!options.tag.empty()) progress("Successfully tagged " + normalize_tag(options.tag));
  }
  return id;
}

std::string FakeEngine::import_image(const std::string&, const std::string& reference,
                                     const std::vector<std::string>& changes, const engine::ProgressSink&) {
  std::lock_guard lock(mu_);
  enter("import " + reference);
  engine::Labels labels;
  std::vector<std::string> env;
  for (const auto& change : changes) {
    auto space = change.find(' ');
    std::string instruction = change.substr(0, space),
                rest = space == std::string::npos ? "" : change.substr(space + 1);
    auto eq = rest.find('=');
    if (instruction == "LABEL" && eq != std::string::npos)
      labels[rest.substr(0, eq)] = rest.substr(eq + 1);
    else if (instruction == "ENV" && eq != std::string::npos)
      env.push_back(rest);
  }
  return add_image_locked(reference, labels, env);
}

engine::ImageInspect FakeEngine::inspect_image(const std::string& name) {
  std::lock_guard lock(mu_);
  enter("inspect_image " + name);
  return image_inspect_json(image_or_throw(name, "inspect image " + name,
                                           "no such image: " + name + ": No such image: " + name))
      .get<engine::ImageInspect>();
}

std::vector<engine::ImageSummary> FakeEngine::list_images(const engine::Filters& filters) {
  std::lock_guard lock(mu_);
  enter("list_images");
  check_filters(filters, {"dangling", "label", "reference"}, {"before", "since"}, "list images");
  std::vector<const FakeImage*> chosen;
  for (const auto& i : images_) {
    if (auto* d = filter(filters, "dangling"); d && !d->empty() && (d->front() == "true") != i.tags.empty())
      continue;
    if (auto* l = filter(filters, "label"); l && !labels_match(i.labels, *l)) continue;
    if (auto* r = filter(filters, "reference");
        r && std::none_of(r->begin(), r->end(), [&](const std::string& ref) {
          return std::any_of(i.tags.begin(), i.tags.end(), [&](const std::string& t) {
            return t == ref || t == normalize_tag(ref) || t.substr(0, t.rfind(':')) == ref;
          });
        }))
      continue;
    chosen.push_back(&i);
  }
  std::sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->created > b->created; });
  std::vector<engine::ImageSummary> out;
  for (const auto* i : chosen)
    out.push_back(json{
        {"Id", i->id},
        {"ParentId", ""},
        {"RepoTags", i->tags.empty() ? std::vector<std::string>{"<none>:<none>"} : i->tags},
        {"RepoDigests", i->tags.empty() ? json::array({"<none>@<none>"}) : json::array()},
        {"Created", i->created},
        {"Size", 18'000'000},
        {"SharedSize", -1},
        {"Labels", i->labels.empty() ? json() : json(i->labels)},
        {"Containers",
         -1}}.get<engine::ImageSummary>());
  return out;
}

void FakeEngine::tag_image(const std::string& source, const std::string& target) {
  std::lock_guard lock(mu_);
  enter("tag_image " + source + " " + target);
  FakeImage& image = image_or_throw(source, "tag image " + source, "No such image: " + source);
  const std::string t = normalize_tag(target);
  for (auto& other : images_) std::erase(other.tags, t);
  image.tags.push_back(t);
}

void FakeEngine::pull_image(const std::string& reference, const engine::ProgressSink&) {
  std::lock_guard lock(mu_);
  enter("pull_image " + reference);
  fail(500, "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host",
       "pull image " + reference);
}

void FakeEngine::remove_image(const std::string& name, bool force) {
  std::lock_guard lock(mu_);
  enter("remove_image " + name);
  const std::string what = "remove image " + name;
  FakeImage& image = image_or_throw(name, what, "No such image: " + name);
  const std::string tag = normalize_tag(name);
  const bool by_tag = std::find(image.tags.begin(), image.tags.end(), tag) != image.tags.end();
  const FakeContainer *user = nullptr, *running_user = nullptr;
  for (const auto& c : containers_)
    if (c.image_id == image.id) {
      if (!user) user = &c;
      if (c.running() && !running_user) running_user = &c;
    }
  if (by_tag) {
    // A tag: removed alone while the image has others; the image goes with its last tag unless a
    // container uses it (then only with force, and it stays, dangling).
    if (image.tags.size() > 1 || (user && force)) {
      std::erase(image.tags, tag);
      return;
    }
    if (user)
      fail(409,
           "conflict: unable to remove repository reference \"" + tag + "\" (must force) - container " +
               short_id(user->id) + " is using its referenced image " + short_id(image.id),
           what);
  } else {
    if (running_user)
      fail(409,
           "conflict: unable to delete " + short_id(image.id) +
               " (cannot be forced) - image is being used by running container " + short_id(running_user->id),
           what);
    if (!force && image.tags.size() > 1)
      fail(409,
           "conflict: unable to delete " + short_id(image.id) +
               " (must be forced) - image is referenced in multiple repositories",
           what);
    if (!force && user)
      fail(409,
           "conflict: unable to delete " + short_id(image.id) +
               " (must be forced) - image is being used by stopped container " + short_id(user->id),
           what);
  }
  const std::string id = image.id;
  std::erase_if(images_, [&](const FakeImage& i) { return i.id == id; });
}

// --- networks

std::string FakeEngine::create_network(const engine::NetworkCreateOptions& options) {
  std::lock_guard lock(mu_);
  enter("create_network " + options.name);
  for (const auto& n : networks_)
    if (n.name == options.name)
      fail(409, "network with name " + options.name + " already exists", "create network " + options.name);
  FakeNetwork n{.id = new_id("network"),
                .name = options.name,
                .driver = options.driver,
                .labels = options.labels,
                .internal = options.internal};
  networks_.push_back(n);
  return n.id;
}

engine::NetworkInfo FakeEngine::inspect_network(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("inspect_network " + ref);
  FakeNetwork* n = find_network(ref);
  if (!n) fail(404, "network " + ref + " not found", "inspect network " + ref);
  return network_json(*n).get<engine::NetworkInfo>();
}

std::vector<engine::NetworkInfo> FakeEngine::list_networks(const engine::Filters& filters) {
  std::lock_guard lock(mu_);
  enter("list_networks");
  check_filters(filters, {"label", "name", "id"}, {"driver", "scope", "type", "dangling"}, "list networks");
  std::vector<engine::NetworkInfo> out;
  for (const auto& n : networks_) {
    if (auto* l = filter(filters, "label"); l && !labels_match(n.labels, *l)) continue;
    if (auto* names = filter(filters, "name");
        names && std::none_of(names->begin(), names->end(),
                              [&](const auto& x) { return n.name.find(x) != std::string::npos; }))
      continue;
    if (auto* ids = filter(filters, "id");
        ids && std::none_of(ids->begin(), ids->end(), [&](const auto& x) { return n.id.rfind(x, 0) == 0; }))
      continue;
    out.push_back(network_json(n).get<engine::NetworkInfo>());
  }
  return out;
}

void FakeEngine::remove_network(const std::string& ref) {
  std::lock_guard lock(mu_);
  enter("remove_network " + ref);
  const std::string what = "remove network " + ref;
  FakeNetwork* n = find_network(ref);
  if (!n) fail(404, "network " + ref + " not found", what);
  if (!n->containers.empty())
    fail(403, "error while removing network: network " + n->name + " id " + n->id + " has active endpoints",
         what);
  const std::string id = n->id;
  std::erase_if(networks_, [&](const FakeNetwork& x) { return x.id == id; });
}

void FakeEngine::connect_endpoint(const std::string& network, const std::string& container,
                                  const nlohmann::json& endpoint_settings) {
  std::vector<std::string> aliases;
  if (endpoint_settings.is_object() && endpoint_settings.contains("Aliases"))
    aliases = endpoint_settings["Aliases"].get<std::vector<std::string>>();
  connect_network(network, container, aliases);
}

void FakeEngine::connect_network(const std::string& network, const std::string& container,
                                 const std::vector<std::string>&) {
  std::lock_guard lock(mu_);
  enter("connect " + network + " " + container);
  const std::string what = "connect container " + container + " to network " + network;
  FakeNetwork* n = find_network(network);
  if (!n) fail(404, "network " + network + " not found", what);
  FakeContainer& c = container_or_throw(container, what);
  if (n->containers.count(c.id))
    fail(403, "endpoint with name " + c.name + " already exists in network " + n->name, what);
  n->containers.insert(c.id);
  c.networks.insert(n->name);
}

void FakeEngine::disconnect_network(const std::string& network, const std::string& container, bool) {
  std::lock_guard lock(mu_);
  enter("disconnect " + network + " " + container);
  const std::string what = "disconnect container " + container + " from network " + network;
  FakeNetwork* n = find_network(network);
  if (!n) fail(404, "network " + network + " not found", what);
  FakeContainer& c = container_or_throw(container, what);
  if (!n->containers.count(c.id))
    fail(403, "container " + c.id + " is not connected to network " + n->name, what);
  n->containers.erase(c.id);
  c.networks.erase(n->name);
}

// --- volumes

engine::VolumeInfo FakeEngine::create_volume(const std::string& name_asked, const engine::Labels& labels,
                                             const std::string& driver,
                                             const std::map<std::string, std::string>& driver_opts) {
  if (!driver_opts.empty()) not_in_fake("create_volume with driver options");
  std::lock_guard lock(mu_);
  enter("create_volume " + name_asked);
  const std::string name = name_asked.empty() ? new_id("volume") : name_asked;
  auto to_info = [](const FakeVolume& v) {
    return json{{"Name", v.name},
                {"Driver", v.driver},
                {"Mountpoint", "/var/lib/docker/volumes/" + v.name + "/_data"},
                {"Labels", v.labels},
                {"Scope", "local"}}
        .get<engine::VolumeInfo>();
  };
  // The engine hands back the volume that has the name already.
  for (const auto& v : volumes_)
    if (v.name == name) return to_info(v);
  volumes_.push_back({name, driver, labels});
  return to_info(volumes_.back());
}

std::vector<engine::VolumeInfo> FakeEngine::list_volumes(const engine::Filters& filters) {
  std::lock_guard lock(mu_);
  enter("list_volumes");
  check_filters(filters, {"label", "name"}, {"dangling", "driver"}, "list volumes");
  std::vector<engine::VolumeInfo> out;
  for (const auto& v : volumes_) {
    if (auto* l = filter(filters, "label"); l && !labels_match(v.labels, *l)) continue;
    if (auto* names = filter(filters, "name");
        names && std::none_of(names->begin(), names->end(),
                              [&](const auto& x) { return v.name.find(x) != std::string::npos; }))
      continue;
    out.push_back(json{
        {"Name", v.name},
        {"Driver", v.driver},
        {"Mountpoint", "/var/lib/docker/volumes/" + v.name + "/_data"},
        {"Labels", v.labels},
        {"Scope",
         "local"}}.get<engine::VolumeInfo>());
  }
  return out;
}

void FakeEngine::remove_volume(const std::string& name, bool) {
  std::lock_guard lock(mu_);
  enter("remove_volume " + name);
  const std::string what = "remove volume " + name;
  auto it =
      std::find_if(volumes_.begin(), volumes_.end(), [&](const FakeVolume& v) { return v.name == name; });
  if (it == volumes_.end()) fail(404, "get " + name + ": no such volume", what);
  // In use: a container (of any state) mounts it through a bind of its name.
  for (const auto& c : containers_) {
    const json& host = host_config(c);
    if (auto binds = host.find("Binds"); binds != host.end() && binds->is_array())
      for (const auto& b : *binds)
        if (b.is_string() && b.get<std::string>().rfind(name + ":", 0) == 0)
          fail(409, "remove " + name + ": volume is in use - [" + c.id + "]", what);
  }
  volumes_.erase(it);
}

std::vector<engine::ServiceInfo> FakeEngine::list_services(const engine::Filters&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (list_services)");
}

engine::ServiceInfo FakeEngine::inspect_service(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (inspect_service)");
}

std::string FakeEngine::create_service(const nlohmann::json&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (create_service)");
}

std::vector<std::string> FakeEngine::update_service(const std::string&, std::uint64_t,
                                                    const nlohmann::json&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (update_service)");
}

void FakeEngine::remove_service(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (remove_service)");
}

void FakeEngine::service_logs(const std::string&, const engine::LogsOptions&, const engine::OutputSink&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (service_logs)");
}

std::vector<engine::TaskInfo> FakeEngine::list_tasks(const engine::Filters&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (list_tasks)");
}

std::vector<engine::NodeInfo> FakeEngine::list_nodes(const engine::Filters&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (list_nodes)");
}

engine::NodeInfo FakeEngine::inspect_node(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (inspect_node)");
}

void FakeEngine::update_node(const std::string&, std::uint64_t, const nlohmann::json&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (update_node)");
}

std::string FakeEngine::create_secret(const nlohmann::json&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (create_secret)");
}

std::vector<engine::SwarmObject> FakeEngine::list_secrets(const engine::Filters&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (list_secrets)");
}

void FakeEngine::remove_secret(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (remove_secret)");
}

std::string FakeEngine::create_config(const nlohmann::json&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (create_config)");
}

std::vector<engine::SwarmObject> FakeEngine::list_configs(const engine::Filters&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (list_configs)");
}

void FakeEngine::remove_config(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine has no swarm mode (remove_config)");
}

std::string FakeEngine::save_image(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine keeps no image contents (save_image)");
}

void FakeEngine::load_image(const std::string&) {
  throw engine::UnsupportedEngineError("the fake engine keeps no image contents (load_image)");
}

}  // namespace fleet::test
