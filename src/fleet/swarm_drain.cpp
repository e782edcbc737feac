// drain-node: a node taken out of a swarm without its kernels' users losing their work. A swarm
// reschedules a drained node's tasks as fresh containers; the fleet saves each kernel's state first
// (the drain checkpoint, through the node's own engine) and loads it into the task that replaces it.
#include <algorithm>
#include <set>

#include "engine/errors.hpp"
#include "fleet/checkpoints.hpp"
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/swarm_spec.hpp"
#include "util/poll.hpp"

namespace fleet {
namespace {

engine::NodeInfo find_node(Context& ctx, const std::string& name) {
  std::vector<std::string> known;
  for (auto& n : ctx.client.list_nodes()) {
    if (n.hostname == name || n.id == name) return n;
    known.push_back(n.hostname);
  }
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  throw NotFound("no node \"" + name + "\" in the swarm (nodes: " + list + ")");
}

// The task's container as the checkpoint code sees a kernel, read through its node's engine.
ObservedContainer kernel_of_task(engine::Api& node, const engine::TaskInfo& task,
                                 const std::string& kernel_id, const std::string& service) {
  engine::ContainerInspect in = node.inspect_container(task.container_id);
  ObservedContainer k{.id = in.id, .name = in.name, .service = service, .state = in.state.status};
  k.labels = in.labels;
  k.kernel_id = kernel_id;
  k.project = in.labels.count(kStackNamespace) ? in.labels.at(kStackNamespace) : "";
  return k;
}

// A context that reaches a kernel through its node's engine, at its node's address.
Context on_node(const Context& ctx, engine::Api& node, const std::string& address) {
  Context c{.client = node,
            .home = ctx.home,
            .settings = ctx.settings,
            .progress = ctx.progress,
            .clock = ctx.clock};
  c.kernel_address = address;
  return c;
}

}  // namespace

void set_node_availability(Context& ctx, const std::string& name, const std::string& availability) {
  require_swarm_manager(ctx);
  for (int attempt = 0;; ++attempt) {
    engine::NodeInfo node = find_node(ctx, name);
    nlohmann::json spec = node.spec;
    spec["Availability"] = availability;
    try {
      ctx.client.update_node(node.id, node.version, spec);
      return;
    } catch (const engine::ServerError& e) {
      if (attempt >= 3 || e.daemon_message().find("out of sequence") == std::string::npos) throw;
    }
  }
}

std::vector<NodeDrainRow> drain_node(Context& ctx, const std::string& name, std::chrono::seconds timeout) {
  require_swarm_manager(ctx);
  const engine::NodeInfo node = find_node(ctx, name);
  auto nodes = ctx.client.list_nodes();
  if (std::none_of(nodes.begin(), nodes.end(), [&](const engine::NodeInfo& n) {
        return n.id != node.id && n.state == "ready" && n.availability == "active";
      }))
    throw Conflict("node " + node.hostname +
                   " is the swarm's only active node: its kernels would have nowhere to go");

  // The fleet's kernel services, and their tasks on the node.
  std::map<std::string, engine::ServiceInfo> kernel_services;
  for (auto& s : ctx.client.list_services({{"label", {std::string(labels::kKernel) + "=true"}}}))
    kernel_services[s.id] = s;
  struct Moving {
    engine::TaskInfo task;
    NodeDrainRow row;
    nlohmann::json checkpoint;
  };
  std::vector<Moving> moving;
  for (auto& t : ctx.client.list_tasks({{"node", {node.id}}, {"desired-state", {"running"}}})) {
    auto s = kernel_services.find(t.service_id);
    if (s == kernel_services.end() || t.state != "running") continue;
    // A spawned kernel's id is on its service; a compose replica is named after its task.
    auto spawned = s->second.labels.find(labels::kKernelId);
    NodeDrainRow row{.kernel_id = spawned != s->second.labels.end()
                                      ? spawned->second
                                      : s->second.name + "." + std::to_string(t.slot),
                     .service = s->second.name,
                     .from_node = node.hostname};
    moving.push_back({t, row, nullptr});
  }

  // Saved where they run, before the swarm stops them.
  auto engines = node_engines(ctx);
  auto engine_of = [&](const std::string& node_id) -> engine::Api* {
    for (auto& e : engines)
      if (e.node_id == node_id) return e.api.get();
    return nullptr;
  };
  engine::Api* here = engine_of(node.id);
  if (!moving.empty() && !here)
    throw InvalidInput(
        "node " + node.hostname +
        " has no engine endpoint in the settings ([swarm] nodes): its kernels' state cannot be "
        "saved, so it is not drained");
  for (auto& m : moving) {
    Context c = on_node(ctx, *here, node.addr);
    try {
      ObservedContainer k = kernel_of_task(*here, m.task, m.row.kernel_id, m.row.service);
      m.row.checkpoint = save_checkpoint(c, k);
      m.checkpoint = read_checkpoint(ctx.home, m.row.checkpoint);
      ctx.progress({m.row.kernel_id, "Checkpointed", ProgressEvent::Kind::Done});
    } catch (const std::exception& e) {
      m.row.error = std::string("checkpoint: ") + e.what();
    }
  }
  // State that could not be saved would be lost by the drain: the node stays as it is.
  for (const auto& m : moving)
    if (!m.row.error.empty())
      throw OperationFailed("node " + node.hostname + " is not drained: " + m.row.kernel_id + ": " +
                            m.row.error);
  const auto started = ctx.time().now();
  // A kernel spawned onto this node (spawn --node) is pinned to it: it is pinned away from it now.
  std::set<std::string> pinned;
  for (const auto& m : moving) pinned.insert(m.task.service_id);
  for (const auto& id : pinned)
    update_service_spec(ctx, id, [&](nlohmann::json spec) {
      auto& constraints = spec["TaskTemplate"]["Placement"]["Constraints"];
      if (!constraints.is_array()) return spec;
      for (auto& c : constraints)
        if (c == "node.id==" + node.id) c = "node.id!=" + node.id;
      return spec;
    });
  set_node_availability(ctx, node.id, "drain");
  ctx.progress({node.hostname, "Draining", ProgressEvent::Kind::Done});

  // Each slot's new task, running elsewhere; then its state back. One deadline for them all.
  const auto deadline = ctx.time().now() + timeout;
  for (auto& m : moving) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ctx.time().now());
    engine::TaskInfo replacement;
    bool found = util::poll_until(
        [&] {
          for (auto& t :
               ctx.client.list_tasks({{"service", {m.task.service_id}}, {"desired-state", {"running"}}}))
            if (t.slot == m.task.slot && t.node_id != node.id && t.state == "running" &&
                !t.container_id.empty()) {
              replacement = t;
              return true;
            }
          return false;
        },
        {.timeout = std::max(left, std::chrono::milliseconds(0)),
         .interval = std::chrono::milliseconds(250),
         .clock = ctx.clock});
    if (!found) {
      m.row.error = "no replacement running elsewhere within " + std::to_string(timeout.count()) + " s";
      ctx.warn(m.row.kernel_id, m.row.error);
      continue;
    }
    auto to =
        std::find_if(nodes.begin(), nodes.end(), [&](const auto& n) { return n.id == replacement.node_id; });
    m.row.to_node = to == nodes.end() ? replacement.node_id : to->hostname;
    if (m.checkpoint.is_null()) continue;
    engine::Api* there = engine_of(replacement.node_id);
    if (!there) {
      m.row.error = "node " + m.row.to_node + " has no engine endpoint: the state was not restored";
      ctx.warn(m.row.kernel_id, m.row.error);
      continue;
    }
    try {
      Context c = on_node(ctx, *there, to == nodes.end() ? "" : to->addr);
      ObservedContainer k = kernel_of_task(*there, replacement, m.row.kernel_id, m.row.service);
      m.row.restored = load_checkpoint(c, k, m.checkpoint);
      // Its connection file names the new node and ports.
      write_task_connection_file(ctx, *there, to == nodes.end() ? "" : to->addr, replacement,
                                 m.row.kernel_id);
      m.row.seconds = std::chrono::duration<double>(ctx.time().now() - started).count();
      ctx.progress({m.row.kernel_id, "Restored on " + m.row.to_node, ProgressEvent::Kind::Done});
    } catch (const std::exception& e) {
      m.row.error = std::string("restore: ") + e.what();
      ctx.warn(m.row.kernel_id, m.row.error);
    }
  }
  std::vector<NodeDrainRow> rows;
  for (auto& m : moving) rows.push_back(std::move(m.row));
  return rows;
}

}  // namespace fleet
