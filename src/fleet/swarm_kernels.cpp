// Kernels on a swarm. A spawned kernel is a service of one replica, llmspell-<kernel id>, made from
// its template's compose service (the same spec a compose kernel gets), placed on the named node or
// where the swarm likes; compose kernels are the replicas of their stack's kernel services.
#include <algorithm>
#include <filesystem>

#include "engine/errors.hpp"
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/swarm_spec.hpp"
#include "util/poll.hpp"

namespace fleet {
namespace {

constexpr auto kSpawnTimeout = std::chrono::seconds(120);

std::string spawned_service_name(const std::string& kernel_id) {
  return "llmspell-" + kernel_id;
}

std::optional<engine::TaskInfo> running_task(Context& ctx, const std::string& service_id) {
  for (auto& t : ctx.client.list_tasks({{"service", {service_id}}, {"desired-state", {"running"}}}))
    if (t.state == "running" && !t.container_id.empty()) return t;
  return std::nullopt;
}

// The latest reason a service's tasks gave for not running ("No such image", "no suitable node").
std::string task_trouble(Context& ctx, const std::string& service_id) {
  std::string why;
  for (const auto& t : ctx.client.list_tasks({{"service", {service_id}}}))
    if (!t.error.empty() || (!t.message.empty() && t.state != "running"))
      why = t.error.empty() ? t.message : t.error;
  return why;
}

KernelRow row_of(const engine::ServiceInfo& service, const engine::TaskInfo* task,
                 const std::string& kernel_id, const std::map<std::string, engine::NodeInfo>& nodes,
                 const FleetHome& home) {
  const nlohmann::json& labels =
      service.spec["TaskTemplate"]["ContainerSpec"].value("Labels", nlohmann::json::object());
  auto label = [&](const char* key) { return labels.value(key, std::string()); };
  KernelRow r;
  r.kernel_id = kernel_id;
  r.container = service.name;
  r.origin = label(labels::kOrigin);
  r.project = service.labels.count(kStackNamespace) ? service.labels.at(kStackNamespace) : "";
  if (!r.project.empty()) r.service = service.name.substr(r.project.size() + 1);
  r.language = label(labels::kLanguage);
  r.config = label(labels::kConfig);
  r.owner = label(labels::kOwner);
  r.state = task ? task->state : "pending";
  if (task) {
    r.container_id = task->container_id;
    auto node = nodes.find(task->node_id);
    r.node = node == nodes.end() ? task->node_id : node->second.hostname;
    for (const auto& port : task->ports)
      for (int i = 0; i < kKernelPortCount; ++i)
        if (port.target_port == kKernelShellPort + i) r.ports[kKernelPortNames[i]] = port.published_port;
    r.shell_port = r.ports.count("shell") ? r.ports["shell"] : 0;
  }
  if (std::filesystem::exists(home.connection_file(kernel_id)))
    r.connection_file = home.connection_file(kernel_id);
  return r;
}

std::map<std::string, engine::NodeInfo> nodes_by_id(Context& ctx) {
  std::map<std::string, engine::NodeInfo> out;
  for (auto& n : ctx.client.list_nodes()) out[n.id] = n;
  return out;
}

}  // namespace

KernelRow swarm_spawn(Context& ctx, const Template& t, const SpawnExtras& extras, const std::string& node) {
  require_swarm_manager(ctx);
  check_template(t, ctx.home);
  check_labels(extras.labels);
  const std::string kernel_id = extras.kernel_id.empty() ? new_kernel_id() : extras.kernel_id;
  check_kernel_id(kernel_id);
  const std::string owner = extras.owner.empty() ? current_user() : extras.owner;
  check_owner(owner);
  const std::string name = spawned_service_name(kernel_id);
  if (!ctx.client.list_services({{"name", {name}}}).empty())
    throw Conflict("a kernel named " + kernel_id + " exists on the swarm (service " + name + ")");
  auto nodes = nodes_by_id(ctx);
  if (!node.empty() && std::none_of(nodes.begin(), nodes.end(), [&](const auto& n) {
        return n.second.hostname == node || n.first == node;
      }))
    throw NotFound("no node \"" + node + "\" in the swarm (llmspell-fleet nodes lists them)");

  compose::Service s = template_service(t, ctx.home, "");
  compose::Project p = templates_project(ctx.home, {s});
  std::vector<std::string> notes;  // what a template asks that a swarm lacks is known: no-new-privileges
  nlohmann::json spec = stack_service(p, s, 1, {}, {}, {}, notes).spec;
  // A spawned kernel belongs to no stack, and needs no network of its own: its ports are on its node.
  spec["Name"] = name;
  spec["Labels"].erase(kStackNamespace);
  spec["TaskTemplate"].erase("Networks");
  nlohmann::json& labels = spec["TaskTemplate"]["ContainerSpec"]["Labels"];
  labels.erase(kStackNamespace);
  for (const auto& [key, value] : extras.labels) labels[key] = value;
  labels[labels::kOrigin] = spec["Labels"][labels::kOrigin] = "spawned";
  labels[labels::kKernelId] = spec["Labels"][labels::kKernelId] = kernel_id;
  labels[labels::kOwner] = owner;
  labels[labels::kTemplate] = template_identity(t, ctx.home);
  if (!node.empty()) {
    const auto& n = std::find_if(nodes.begin(), nodes.end(), [&](const auto& x) {
                      return x.second.hostname == node || x.first == node;
                    })->second;
    spec["TaskTemplate"]["Placement"] = {{"Constraints", {"node.id==" + n.id}}};
  }
  ensure_images_on_nodes(ctx, {t.image});

  const std::string id = ctx.client.create_service(spec);
  ctx.progress({kernel_id, "Created", ProgressEvent::Kind::Done});
  std::optional<engine::TaskInfo> task;
  try {
    if (!util::poll_until(
            [&] { return (task = running_task(ctx, id)).has_value(); },
            {.timeout = kSpawnTimeout, .interval = std::chrono::milliseconds(250), .clock = ctx.clock}))
      throw OperationFailed("kernel " + kernel_id + " did not start within " +
                            std::to_string(kSpawnTimeout.count()) + " s: " + task_trouble(ctx, id));
    bool written = false;
    for (auto& e : node_engines(ctx))
      if (e.node_id == task->node_id) {
        write_task_connection_file(ctx, *e.api, nodes[task->node_id].addr, *task, kernel_id);
        written = true;
      }
    if (!written)
      ctx.warn(kernel_id, "its node has no engine endpoint in the settings: no connection file was written");
  } catch (...) {
    // A kernel that did not come up is not left behind.
    try {
      ctx.client.remove_service(id);
    } catch (const engine::EngineError&) {
    }
    throw;
  }
  ctx.progress({kernel_id, "Started", ProgressEvent::Kind::Done});
  return row_of(ctx.client.inspect_service(id), &*task, kernel_id, nodes, ctx.home);
}

std::vector<KernelRow> swarm_list(Context& ctx, const ListOptions& options) {
  require_swarm_manager(ctx);
  auto nodes = nodes_by_id(ctx);
  std::vector<KernelRow> rows;
  for (const auto& service :
       ctx.client.list_services({{"label", {std::string(labels::kKernel) + "=true"}}})) {
    auto tasks = ctx.client.list_tasks({{"service", {service.id}}, {"desired-state", {"running"}}});
    auto kernel_id = service.labels.find(labels::kKernelId);
    if (kernel_id != service.labels.end()) {  // spawned: one replica
      const engine::TaskInfo* task = tasks.empty() ? nullptr : &tasks.front();
      rows.push_back(row_of(service, task, kernel_id->second, nodes, ctx.home));
    } else {
      for (const auto& t : tasks)
        rows.push_back(row_of(service, &t, service.name + "." + std::to_string(t.slot), nodes, ctx.home));
    }
  }
  std::erase_if(rows, [&](const KernelRow& r) {
    return (!options.owner.empty() && r.owner != options.owner) ||
           (!options.state.empty() && r.state != options.state);
  });
  std::sort(rows.begin(), rows.end(),
            [](const KernelRow& a, const KernelRow& b) { return a.kernel_id < b.kernel_id; });
  return rows;
}

std::vector<KernelRow> swarm_stop(Context& ctx, const StopOptions& options) {
  auto rows = swarm_list(ctx, {});
  std::vector<KernelRow> chosen;
  // Every name is checked before anything stops.
  for (const auto& name : options.names) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const KernelRow& r) {
      return r.kernel_id == name || r.container == name || std::to_string(r.shell_port) == name;
    });
    if (it == rows.end()) throw NotFound("no kernel " + name + " on the swarm");
    if (it->origin != "spawned")
      throw Conflict("kernel " + name + " is a replica of the swarm service " + it->container +
                     ": scale the service instead");
    chosen.push_back(*it);
  }
  for (auto& r : chosen) {
    ctx.client.remove_service(r.container);
    std::filesystem::remove(ctx.home.connection_file(r.kernel_id));
    r.state = "removed";
    ctx.progress({r.kernel_id, "Removed", ProgressEvent::Kind::Done});
  }
  return chosen;
}

}  // namespace fleet
