// The swarm backend of the compose commands: up, scale, down, ps and logs on a swarm manager, as
// `docker stack deploy` / `docker service scale` / `docker stack rm` / `docker stack ps` do them.
// What only a node's own engine can do (images, stats, pause) goes through swarm_nodes.cpp.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "compose/profiles.hpp"
#include "engine/errors.hpp"
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/swarm_spec.hpp"
#include "util/base64.hpp"
#include "util/poll.hpp"
#include "util/sha256.hpp"

namespace fleet {
namespace {

inline constexpr const char* kContentHash = "dev.llmspell.fleet.content-hash";

// A step done: recorded in the report ("create service llmspell_k (2 replicas)") and told as it happens.
using StepLog = std::function<void(const std::string& what, const std::string& object)>;
StepLog step_log(Context& ctx, UpReport& report) {
  return [&ctx, &report](const std::string& what, const std::string& object) {
    report.steps.push_back(what + " " + object);
    ctx.progress({object, what, ProgressEvent::Kind::Done});
  };
}

engine::Filters of_stack(const compose::Project& p) {
  return {{"label", {std::string(kStackNamespace) + "=" + p.name}}};
}

// What the swarm cannot apply, one line each (the loader's own notes were said when it loaded).
void say_notes(Context& ctx, const std::vector<std::string>& notes) {
  std::set<std::string> said;
  for (const auto& n : notes)
    if (said.insert(n).second) {
      auto space = n.find(' ');
      ctx.warn(n.substr(0, space), n.substr(space + 1));
    }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(path.string() + ": cannot be read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string file_object_data(const compose::FileObjectDef& def, const std::string& what) {
  if (def.content) return *def.content;
  if (!def.environment.empty()) {
    if (!def.environment_value)
      throw InvalidInput(what + ": the environment variable " + def.environment + " is not set");
    return *def.environment_value;
  }
  return read_file(def.file);
}

// Secrets or configs of the selected services, created when missing; a changed one is refused
// (a swarm never changes a secret's data, and services hold on to it by id).
std::map<std::string, SwarmFileRef> ensure_file_objects(Context& ctx, const compose::Project& p,
                                                        const std::vector<std::string>& services,
                                                        bool secrets, const StepLog& steps) {
  const char* kind = secrets ? "secret" : "config";
  std::set<std::string> keys;
  for (const auto& name : services)
    for (const auto& g : secrets ? p.services.at(name).secrets : p.services.at(name).configs)
      keys.insert(g.source);
  if (keys.empty()) return {};
  auto existing = secrets ? ctx.client.list_secrets() : ctx.client.list_configs();
  std::map<std::string, SwarmFileRef> refs;
  for (const auto& key : keys) {
    const auto& def = (secrets ? p.secrets : p.configs).at(key);
    const std::string name = def.external ? def.name : stack_object_name(p, key);
    auto found =
        std::find_if(existing.begin(), existing.end(), [&](const auto& o) { return o.name == name; });
    if (def.external) {
      if (found == existing.end())
        throw InvalidInput(std::string(kind) + " " + key + " is external, and the swarm has no " + kind +
                           " " + name);
      refs[key] = {found->id, name};
      continue;
    }
    const std::string data = file_object_data(def, std::string(kind) + "s." + key);
    const std::string hash = util::sha256_hex(data);
    if (found != existing.end()) {
      auto h = found->labels.find(kContentHash);
      if (h == found->labels.end() || h->second != hash)
        throw Conflict(std::string(kind) + " " + name + " holds other content than " + key +
                       " now has, and a swarm cannot change it: `down` the stack first");
      refs[key] = {found->id, name};
      continue;
    }
    nlohmann::json labels = stack_labels(p);
    labels[kContentHash] = hash;
    nlohmann::json spec = {{"Name", name}, {"Labels", labels}, {"Data", util::base64_encode(data)}};
    refs[key] = {secrets ? ctx.client.create_secret(spec) : ctx.client.create_config(spec), name};
    steps("create " + std::string(kind), name);
  }
  return refs;
}

void ensure_networks(Context& ctx, const compose::Project& p, const std::vector<std::string>& services,
                     const StepLog& steps) {
  auto existing = ctx.client.list_networks();
  auto has = [&](const std::string& name) {
    auto found =
        std::find_if(existing.begin(), existing.end(), [&](const auto& n) { return n.name == name; });
    if (found == existing.end()) return false;
    // A local network of the name (a local `up` of the project made it) cannot carry swarm tasks.
    if (found->raw.value("Scope", std::string("swarm")) != "swarm")
      throw Conflict("network " + name + " exists on this engine as a local " + found->driver +
                     " network: `down` the project's local containers first, or pick another project name");
    return true;
  };
  for (const auto& n : stack_networks(p, services)) {
    if (has(n.name)) continue;
    if (n.external)
      throw InvalidInput("network " + n.key + " is external, and the swarm has no network " + n.name);
    engine::NetworkCreateOptions o{
        .name = n.name,
        .driver = n.create_body["Driver"],
        .labels = n.create_body["Labels"].get<engine::Labels>(),
        .internal = n.create_body["Internal"],
        .attachable = true,
        .options = n.create_body["Options"].get<std::map<std::string, std::string>>()};
    if (n.create_body.contains("IPAM")) {
      engine::Ipam ipam{.driver = n.create_body["IPAM"]["Driver"]};
      for (const auto& c : n.create_body["IPAM"]["Config"])
        ipam.config.push_back({.subnet = c.value("Subnet", ""),
                               .ip_range = c.value("IPRange", ""),
                               .gateway = c.value("Gateway", "")});
      o.ipam = ipam;
    }
    ctx.client.create_network(o);
    steps("create network", n.name);
  }
}

// A swarm mounts a bind's source as it is: one that is missing fails every task. Created here, as
// compose does on one host (the nodes of one machine share its file system; on several machines the
// path must exist on each).
void ensure_bind_sources(const compose::Project& p, const std::vector<std::string>& services) {
  for (const auto& name : services)
    for (const auto& v : p.services.at(name).volumes) {
      if (v.type != "bind" || std::filesystem::exists(v.source)) continue;
      if (v.read_only || !v.create_host_path)
        throw InvalidInput(p.source_name + ":" + std::to_string(p.line_of("services." + name + ".volumes")) +
                           ": services." + name + ".volumes: " + v.source + " does not exist");
      std::filesystem::create_directories(v.source);
    }
}

std::vector<engine::ServiceInfo> stack_services(Context& ctx, const compose::Project& p) {
  return ctx.client.list_services(of_stack(p));
}

bool has_ipvs() {
  return std::filesystem::exists("/proc/net/ip_vs");
}

int running_tasks(Context& ctx, const std::string& service_id) {
  int n = 0;
  for (const auto& t : ctx.client.list_tasks({{"service", {service_id}}, {"desired-state", {"running"}}}))
    n += t.state == "running";
  return n;
}

void wait_for_replicas(Context& ctx, const std::map<std::string, int>& wanted, std::chrono::seconds timeout) {
  std::string late;
  bool done = util::poll_until(
      [&] {
        late.clear();
        for (const auto& [id, count] : wanted)
          if (running_tasks(ctx, id) != count) late = id;
        return late.empty();
      },
      {.timeout = timeout, .interval = std::chrono::milliseconds(250), .clock = ctx.clock});
  if (!done)
    throw OperationFailed("service " + ctx.client.inspect_service(late).name +
                          " did not reach its replicas within " + std::to_string(timeout.count()) + " s");
}

// The swarm's node for a task, as `docker stack ps` names it.
std::map<std::string, std::string> node_names(Context& ctx) {
  std::map<std::string, std::string> out;
  for (const auto& n : ctx.client.list_nodes()) out[n.id] = n.hostname;
  return out;
}

}  // namespace

void require_swarm_manager(Context& ctx) {
  const nlohmann::json info = ctx.client.info();
  const nlohmann::json swarm = info.value("Swarm", nlohmann::json::object());
  const std::string state = swarm.value("LocalNodeState", "inactive");
  if (state != "active" || !swarm.value("ControlAvailable", false))
    throw InvalidInput("the swarm backend needs a swarm manager, and this engine is " +
                       (state == "active" ? std::string("a worker") : "not in a swarm (" + state + ")") +
                       ": point DOCKER_HOST at a manager, or `docker swarm init` one");
}

UpReport swarm_up(Context& ctx, const compose::Project& p, const ConvergeOptions& options) {
  require_swarm_manager(ctx);
  UpReport report;
  // Compose's dependencies do not order a swarm: every service of the selection is deployed at once.
  report.services = compose::select_services(p, options.selection).targeted;
  const std::vector<std::string>& services = report.services;
  const SwarmEndpoints endpoints{.ipvs = has_ipvs()};
  std::vector<std::string> notes;

  ensure_bind_sources(p, services);
  ensure_service_images(ctx, p, services);
  const StepLog steps = step_log(ctx, report);
  ensure_networks(ctx, p, services, steps);
  auto secrets = ensure_file_objects(ctx, p, services, true, steps);
  auto configs = ensure_file_objects(ctx, p, services, false, steps);

  auto existing = stack_services(ctx, p);
  std::map<std::string, int> wanted;
  for (const auto& name : services) {
    const compose::Service& s = p.services.at(name);
    auto scale = options.replicas.find(name);
    auto found = std::find_if(existing.begin(), existing.end(),
                              [&](const auto& e) { return e.name == stack_service_name(p, name); });
    // `up` keeps a scaled service's count, as compose keeps its containers; --scale sets it.
    int replicas = scale != options.replicas.end()              ? scale->second
                   : found != existing.end() && found->replicas ? static_cast<int>(*found->replicas)
                                                                : s.replicas.value_or(1);
    StackService wanted_spec = stack_service(p, s, replicas, endpoints, secrets, configs, notes);
    if (found == existing.end()) {
      wanted[ctx.client.create_service(wanted_spec.spec)] = replicas;
      steps("create service", wanted_spec.name + " (" + std::to_string(replicas) + " replicas)");
      continue;
    }
    wanted[found->id] = replicas;
    const auto hash = found->labels.find(kSpecHash);
    if (hash != found->labels.end() && hash->second == wanted_spec.spec["Labels"][kSpecHash]) {
      if (found->replicas && static_cast<int>(*found->replicas) != replicas) {
        update_service_spec(ctx, found->id,
                            [&](nlohmann::json spec) { return with_replicas(spec, replicas); });
        steps("scale service",
              wanted_spec.name + " " + std::to_string(*found->replicas) + " -> " + std::to_string(replicas));
      }
      continue;
    }
    update_service_spec(ctx, found->id, [&](nlohmann::json) { return wanted_spec.spec; });
    steps("update service", wanted_spec.name);
  }
  say_notes(ctx, notes);
  if (!endpoints.ipvs)
    ctx.warn(p.name,
             "services resolve by DNS to their tasks (endpoint mode dnsrr) and publish ports in host mode "
             "on each task's node: this kernel has no IPVS for virtual IPs");
  if (options.wait) wait_for_replicas(ctx, wanted, options.wait_timeout);
  write_swarm_connection_files(ctx, p, options.wait);
  return report;
}

UpReport swarm_scale(Context& ctx, const compose::Project& p, const std::map<std::string, int>& replicas,
                     bool wait, std::chrono::seconds wait_timeout) {
  require_swarm_manager(ctx);
  auto existing = stack_services(ctx, p);
  UpReport report;
  std::map<std::string, int> wanted;
  std::vector<std::pair<engine::ServiceInfo, int>> changes;
  for (const auto& [name, count] : replicas) {
    if (!p.services.count(name)) throw NotFound("no such service: " + name);
    auto found = std::find_if(existing.begin(), existing.end(),
                              [&](const auto& e) { return e.name == stack_service_name(p, name); });
    if (found == existing.end())
      throw NotFound("service " + name + " is not deployed on the swarm: `up` it first");
    if (!found->replicas)
      throw InvalidInput("service " + name + " runs on every node (global): it has no count");
    changes.emplace_back(*found, count);
  }
  for (const auto& [service, count] : changes) {
    report.services.push_back(service.name.substr(p.name.size() + 1));
    wanted[service.id] = count;
    if (static_cast<int>(*service.replicas) == count) continue;
    update_service_spec(ctx, service.id, [&](nlohmann::json spec) { return with_replicas(spec, count); });
    step_log(ctx, report)("scale service", service.name + " " + std::to_string(*service.replicas) + " -> " +
                                               std::to_string(count));
  }
  if (wait) wait_for_replicas(ctx, wanted, wait_timeout);
  write_swarm_connection_files(ctx, p, wait);
  return report;
}

DownReport swarm_down(Context& ctx, const compose::Project& p, const DownOptions&) {
  require_swarm_manager(ctx);
  DownReport report;
  const auto filters = of_stack(p);
  for (const auto& s : ctx.client.list_services(filters)) {
    // Its kernels' connection files (<service>.<slot>.json) go with it.
    if (s.labels.count(labels::kKernel) && std::filesystem::is_directory(ctx.home.root))
      for (const auto& f : std::filesystem::directory_iterator(ctx.home.root)) {
        const std::string file = f.path().filename().string();
        if (file.rfind(s.name + ".", 0) == 0 && f.path().extension() == ".json")
          std::filesystem::remove(f.path());
      }
    ctx.client.remove_service(s.id);
    ++report.services;
    ctx.progress({s.name, "Removed", ProgressEvent::Kind::Done});
  }
  // A network is removed once the tasks on it are gone: the nodes stop them asynchronously.
  util::poll_until(
      [&] {
        for (const auto& n : ctx.client.list_networks(filters)) {
          try {
            ctx.client.remove_network(n.id);
            ++report.networks;
            ctx.progress({n.name, "Removed", ProgressEvent::Kind::Done});
          } catch (const engine::EngineError&) {
          }
        }
        return ctx.client.list_networks(filters).empty();
      },
      {.timeout = std::chrono::seconds(60), .interval = std::chrono::milliseconds(500), .clock = ctx.clock});
  for (const auto& s : ctx.client.list_secrets(filters)) ctx.client.remove_secret(s.id);
  for (const auto& c : ctx.client.list_configs(filters)) ctx.client.remove_config(c.id);
  if (!ctx.client.list_networks(filters).empty())
    ctx.warn(p.name, "networks still in use after 60 s: run `down` again once the nodes stopped their tasks");
  return report;
}

std::vector<PsRow> swarm_ps(Context& ctx, const compose::Project& p, bool all) {
  require_swarm_manager(ctx);
  write_swarm_connection_files(ctx, p, false);  // kernels that came up since up or scale
  std::vector<PsRow> rows;
  const auto nodes = node_names(ctx);
  for (const auto& service : stack_services(ctx, p)) {
    engine::Filters filters = {{"service", {service.id}}};
    if (!all) filters["desired-state"] = {"running"};
    const std::string key = service.name.substr(p.name.size() + 1);
    for (const auto& t : ctx.client.list_tasks(filters)) {
      PsRow row{.name = service.name + "." + std::to_string(t.slot), .service = key, .state = t.state};
      row.number = t.slot;
      row.id = t.id;
      auto node = nodes.find(t.node_id);
      row.node = node == nodes.end() ? t.node_id : node->second;
      row.health = t.error.empty() ? "" : t.error;
      // A task's port status lists each port once per address family: shown once, by container port.
      std::set<std::tuple<int, int, std::string>> ports;
      for (const auto& port : t.ports) ports.emplace(port.target_port, port.published_port, port.protocol);
      for (const auto& [target, published, protocol] : ports)
        row.ports += (row.ports.empty() ? "" : ", ") + std::string("*:") + std::to_string(published) + "->" +
                     std::to_string(target) + "/" + protocol;
      const auto& resources = service.spec["TaskTemplate"].value("Resources", nlohmann::json::object());
      const auto& limits = resources.value("Limits", nlohmann::json::object());
      row.memory = limits.value("MemoryBytes", std::int64_t{0});
      row.cpus = limits.value("NanoCPUs", std::int64_t{0}) / 1e9;
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const PsRow& a, const PsRow& b) {
    return std::tie(a.service, a.number, a.id) < std::tie(b.service, b.number, b.id);
  });
  return rows;
}

void swarm_logs(Context& ctx, const compose::Project& p, const std::vector<std::string>& names,
                const LogsRequest& request, const LineSink& sink) {
  require_swarm_manager(ctx);
  for (const auto& service : stack_services(ctx, p)) {
    const std::string key = service.name.substr(p.name.size() + 1);
    if (!names.empty() && std::find(names.begin(), names.end(), key) == names.end()) continue;
    std::string partial[3];
    engine::LogsOptions o{.follow = request.follow,
                          .tail = request.tail,
                          .since = request.since,
                          .timestamps = request.timestamps,
                          .tty = false,
                          .cancel = request.cancel};
    ctx.client.service_logs(service.id, o, [&](const engine::OutputChunk& chunk) {
      const int i = chunk.stream == engine::StreamId::Stderr ? 2 : 1;
      partial[i] += chunk.data;
      for (auto nl = partial[i].find('\n'); nl != std::string::npos; nl = partial[i].find('\n')) {
        sink(key, i == 2 ? Stream::Stderr : Stream::Stdout, std::string_view(partial[i]).substr(0, nl));
        partial[i].erase(0, nl + 1);
      }
      return true;
    });
    for (int i : {1, 2})
      if (!partial[i].empty()) sink(key, i == 2 ? Stream::Stderr : Stream::Stdout, partial[i]);
  }
}

// Updates a service, reading its version again when another writer got there first.
void update_service_spec(Context& ctx, const std::string& id,
                         const std::function<nlohmann::json(nlohmann::json)>& change) {
  for (int attempt = 0;; ++attempt) {
    engine::ServiceInfo current = ctx.client.inspect_service(id);
    try {
      for (const auto& w : ctx.client.update_service(id, current.version, change(current.spec)))
        ctx.warn(current.name, w);
      return;
    } catch (const engine::ServerError& e) {
      if (attempt >= 3 || e.daemon_message().find("out of sequence") == std::string::npos) throw;
    }
  }
}

}  // namespace fleet
