// The nodes of a swarm and their own engines: a manager schedules, but only a node's engine can give
// a container's stats, pause it, read its files or load an image. Endpoints come from the settings
// ([swarm] nodes, LLMSPELL_FLEET_SWARM_NODES) and are matched to node IDs through each engine's /info.
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>

#include "engine/client.hpp"
#include "engine/errors.hpp"
#include "fleet/connection_files.hpp"
#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/heartbeat.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/swarm_spec.hpp"
#include "util/atomic_file.hpp"
#include "util/parallel.hpp"

namespace fleet {

std::vector<NodeEngine> node_engines(Context& ctx) {
  std::vector<NodeEngine> out;
  for (const auto& endpoint : ctx.settings.swarm.nodes) {
    std::shared_ptr<engine::Client> api;
    try {
      api = std::make_shared<engine::Client>(engine::Endpoint::parse(endpoint));
      const std::string id = api->info().value("Swarm", nlohmann::json::object()).value("NodeID", "");
      if (id.empty()) {
        ctx.warn(endpoint, "this engine is in no swarm; not used as a node");
        continue;
      }
      out.push_back({.node_id = id, .endpoint = endpoint, .api = api});
    } catch (const engine::EngineError& e) {
      // A node that is down is a fact to report, not a failure of the command.
      ctx.warn(endpoint, std::string("node engine unreachable: ") + e.what());
    }
  }
  return out;
}

// Every node that can run the services gets their images from the engine that has them (a swarm of
// one machine has no registry to pull from: tasks would be rejected with "No such image").
void ensure_service_images(Context& ctx, const compose::Project& p,
                           const std::vector<std::string>& services) {
  std::vector<std::string> images;
  for (const auto& name : services) images.push_back(p.services.at(name).image);
  ensure_images_on_nodes(ctx, std::move(images));
}

void ensure_images_on_nodes(Context& ctx, std::vector<std::string> images) {
  std::sort(images.begin(), images.end());
  images.erase(std::unique(images.begin(), images.end()), images.end());
  auto has = [](engine::Api& api, const std::string& image) {
    try {
      api.inspect_image(image);
      return true;
    } catch (const engine::NotFoundError&) {
      return false;
    }
  };
  auto nodes = node_engines(ctx);
  // Where `make docker-up` built it: this machine's own engine, when it is none of the nodes.
  std::shared_ptr<engine::Api> local;
  try {
    auto candidate = std::make_shared<engine::Client>(engine::Endpoint::parse(engine::kDefaultDockerHost));
    const std::string id = candidate->info().value("Swarm", nlohmann::json::object()).value("NodeID", "");
    if (std::none_of(nodes.begin(), nodes.end(),
                     [&](const NodeEngine& n) { return n.node_id == id && !id.empty(); }))
      local = candidate;
  } catch (const engine::EngineError&) {
    // No engine of its own on this machine: the swarm's engines are the only sources.
  }
  for (const auto& image : images) {
    // The manager's copy, else a node's, else this machine's.
    engine::Api* source = has(ctx.client, image) ? &ctx.client : nullptr;
    for (auto& n : nodes)
      if (!source && has(*n.api, image)) source = n.api.get();
    if (!source && local && has(*local, image)) source = local.get();
    if (!source) {
      if (nodes.empty()) continue;  // the manager pulls it, or its tasks say why not
      throw InvalidInput("image " + image + " is on none of the swarm's engines nor on " +
                         std::string(engine::kDefaultDockerHost) + ": build or load it on one");
    }
    std::string tar;
    if (source == local.get() && !has(ctx.client, image)) {
      tar = source->save_image(image);
      ctx.client.load_image(tar);
      ctx.progress({image, "Loaded on the manager", ProgressEvent::Kind::Done});
    }
    for (auto& n : nodes) {
      if (n.api.get() == source || has(*n.api, image)) continue;
      if (tar.empty()) tar = source->save_image(image);
      n.api->load_image(tar);
      ctx.progress({image, "Loaded on node " + n.endpoint, ProgressEvent::Kind::Done});
    }
  }
}

std::filesystem::path write_task_connection_file(Context& ctx, engine::Api& node,
                                                 const std::string& node_address,
                                                 const engine::TaskInfo& task, const std::string& kernel_id) {
  engine::ContainerInspect container = node.inspect_container(task.container_id);
  nlohmann::json host = to_host_connection(read_kernel_connection_file(node, container), container);
  // Ports are published on every address of the task's node: the swarm's address for it reaches it.
  host["ip"] = node_address;
  host[kSwarmNodeKey] = task.node_id;
  ctx.home.prepare();
  auto path = ctx.home.connection_file(kernel_id);
  util::write_file_atomically(path, host.dump(2) + "\n", 0600);
  return path;
}

std::vector<std::string> write_swarm_connection_files(Context& ctx, const compose::Project& p,
                                                      bool say_missing) {
  std::vector<std::string> written;
  std::map<std::string, std::string> kernel_services;  // id -> name
  for (const auto& s : ctx.client.list_services({{"label", {std::string(kStackNamespace) + "=" + p.name}}}))
    if (s.labels.count(labels::kKernel)) kernel_services[s.id] = s.name;
  if (kernel_services.empty()) return written;
  std::map<std::string, std::string> addresses;  // node id -> its address
  for (const auto& n : ctx.client.list_nodes()) addresses[n.id] = n.addr;
  auto nodes = node_engines(ctx);
  std::set<std::string> running;  // kernel ids
  for (const auto& t : ctx.client.list_tasks({{"desired-state", {"running"}}})) {
    auto service = kernel_services.find(t.service_id);
    if (service != kernel_services.end()) running.insert(service->second + "." + std::to_string(t.slot));
  }
  // Files of replicas scaled away go with them.
  if (std::filesystem::is_directory(ctx.home.root))
    for (const auto& f : std::filesystem::directory_iterator(ctx.home.root))
      for (const auto& [id, name] : kernel_services) {
        const std::string file = f.path().filename().string();
        if (file.rfind(name + ".", 0) == 0 && f.path().extension() == ".json" &&
            !running.count(f.path().stem().string()))
          std::filesystem::remove(f.path());
      }
  for (const auto& t : ctx.client.list_tasks({{"desired-state", {"running"}}})) {
    auto service = kernel_services.find(t.service_id);
    if (service == kernel_services.end() || t.state != "running" || t.container_id.empty()) continue;
    auto node =
        std::find_if(nodes.begin(), nodes.end(), [&](const NodeEngine& n) { return n.node_id == t.node_id; });
    if (node == nodes.end()) continue;  // no endpoint for its node: its file cannot be read
    // The kernel's id is its task's name, as `docker service ps` shows it: <stack>_<service>.<slot>.
    const std::string kernel_id = service->second + "." + std::to_string(t.slot);
    try {
      written.push_back(
          write_task_connection_file(ctx, *node->api, addresses[t.node_id], t, kernel_id).string());
    } catch (const std::exception& e) {
      // Not written yet (the kernel is starting): the next up, scale or ps writes it.
      if (say_missing) ctx.warn(kernel_id, std::string("no connection file yet: ") + e.what());
    }
  }
  return written;
}

std::vector<HealthRow> swarm_health(Context& ctx, const compose::Project& p,
                                    const std::vector<std::string>& names) {
  require_swarm_manager(ctx);
  std::map<std::string, std::string> addresses;  // node id -> its address
  for (const auto& n : ctx.client.list_nodes()) addresses[n.id] = n.state == "ready" ? n.addr : "";
  auto nodes = node_engines(ctx);
  std::vector<HealthRow> rows;
  std::vector<std::function<void()>> checks;
  std::vector<engine::TaskInfo> tasks;
  std::vector<bool> kernels;
  for (const auto& service :
       ctx.client.list_services({{"label", {std::string(kStackNamespace) + "=" + p.name}}})) {
    const std::string key = service.name.substr(p.name.size() + 1);
    if (!names.empty() && std::find(names.begin(), names.end(), key) == names.end()) continue;
    for (auto& t : ctx.client.list_tasks({{"service", {service.id}}, {"desired-state", {"running"}}})) {
      HealthRow r{.name = service.name + "." + std::to_string(t.slot), .service = key, .state = t.state};
      if (service.labels.count(labels::kKernel)) r.kernel_id = r.name;
      r.health = "none";
      rows.push_back(r);
      tasks.push_back(std::move(t));
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i)
    checks.push_back([&, i] {
      HealthRow& r = rows[i];
      const engine::TaskInfo& t = tasks[i];
      auto node = std::find_if(nodes.begin(), nodes.end(),
                               [&](const NodeEngine& n) { return n.node_id == t.node_id; });
      // The container's own health needs its node's engine; without one the task's state is all there is.
      if (node != nodes.end() && !t.container_id.empty()) {
        try {
          engine::ContainerInspect in = node->api->inspect_container(t.container_id);
          r.health = in.state.health ? in.state.health->status : "none";
          if (in.state.paused) r.state = "paused";
        } catch (const engine::EngineError& e) {
          r.health = "unknown";
        }
      }
      std::set<std::pair<int, int>> ports;
      for (const auto& port : t.ports)
        if (port.protocol == "tcp" && port.published_port)
          ports.emplace(port.target_port, port.published_port);
      const auto known = addresses.find(t.node_id);
      const std::string address = known == addresses.end() ? "" : known->second;
      for (const auto& [target, published] : ports) {
        if (!r.kernel_id.empty() && target != kKernelShellPort + 4) continue;  // kernels: the heartbeat
        if (!r.kernel_id.empty()) {
          r.heartbeat_error = address.empty()
                                  ? "its node is not ready"
                                  : heartbeat(address, published, std::chrono::milliseconds(2000));
          r.heartbeat = r.heartbeat_error.empty();
          continue;
        }
        PortProbe probe{address, published, target, false, ""};
        probe.error = address.empty() ? "its node is not ready" : tcp_probe(address, published, 1000);
        probe.ok = probe.error.empty();
        r.probes.push_back(probe);
      }
      const bool probes_ok =
          std::all_of(r.probes.begin(), r.probes.end(), [](const PortProbe& x) { return x.ok; });
      r.ok = r.state == "running" && (r.health == "healthy" || r.health == "none") && probes_ok &&
             r.heartbeat.value_or(true);
    });
  util::run_parallel(checks, 8);
  return rows;
}

std::vector<NodeRow> swarm_nodes(Context& ctx) {
  require_swarm_manager(ctx);
  std::vector<NodeRow> rows;
  for (const auto& n : ctx.client.list_nodes())
    rows.push_back({.id = n.id,
                    .hostname = n.hostname,
                    .role = n.role,
                    .availability = n.availability,
                    .state = n.state,
                    .address = n.addr,
                    .engine_version = n.engine_version,
                    .message = n.message,
                    .leader = n.leader,
                    .cpus = n.nano_cpus / 1e9,
                    .memory_total = n.memory_bytes});
  // Tasks of the fleet's services, per node.
  std::map<std::string, bool> kernel_service;
  for (const auto& s : ctx.client.list_services({{"label", {std::string(labels::kManaged) + "=true"}}}))
    kernel_service[s.id] = s.labels.count(labels::kKernel) > 0;
  for (const auto& t : ctx.client.list_tasks({{"desired-state", {"running"}}})) {
    auto service = kernel_service.find(t.service_id);
    if (service == kernel_service.end() || t.state != "running") continue;
    for (auto& row : rows)
      if (row.id == t.node_id) {
        ++row.tasks;
        row.kernels += service->second;
      }
  }
  // Use, from each node's own engine: the fleet's containers there, sampled at once.
  std::mutex mu;
  std::vector<std::function<void()>> samples;
  for (auto& node : node_engines(ctx)) {
    auto row = std::find_if(rows.begin(), rows.end(), [&](const NodeRow& r) { return r.id == node.node_id; });
    if (row == rows.end()) continue;
    row->endpoint = node.endpoint;
    row->cpu_percent = 0;
    row->memory_used = 0;
    for (const auto& c : node.api->list_containers(
             {.all = false, .filters = {{"label", {std::string(labels::kManaged) + "=true"}}}}))
      samples.push_back([&mu, row, api = node.api, id = c.id] {
        try {
          auto sample = api->container_stats(id);
          std::lock_guard lock(mu);
          *row->cpu_percent += engine::cpu_percent(sample);
          *row->memory_used += static_cast<std::int64_t>(engine::memory_used(sample));
        } catch (const engine::EngineError&) {
          // Gone between the listing and the sample: it uses nothing any more.
        }
      });
  }
  util::run_parallel(samples, 8);
  std::sort(rows.begin(), rows.end(),
            [](const NodeRow& a, const NodeRow& b) { return a.hostname < b.hostname; });
  return rows;
}

}  // namespace fleet
