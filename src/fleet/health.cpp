// health: the engine's health status per container, a TCP connect to each published port, and for
// kernels a heartbeat round trip.
#include "fleet/container_spec.hpp"
#include "fleet/heartbeat.hpp"
#include "fleet/operations.hpp"
#include "util/parallel.hpp"

namespace fleet {

std::vector<HealthRow> health(Context& ctx, const std::vector<ObservedContainer>& containers) {
  std::vector<HealthRow> rows(containers.size());
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < containers.size(); ++i)
    tasks.push_back([&, i] {
      const auto& c = containers[i];
      HealthRow& r = rows[i];
      r.name = c.name;
      r.service = c.service;
      r.kernel_id = c.kernel_id;
      r.state = c.state;
      engine::ContainerInspect in;
      try {
        in = ctx.client.inspect_container(c.id);
      } catch (const engine::NotFoundError&) {
        r.state = "removed";  // gone since it was observed
        r.health = "none";
        return;
      }
      r.health = in.state.health ? in.state.health->status : "none";
      if (c.pool_ready()) {
        // A warm-pool member is paused on purpose: the engine's probes of it fail, and mean nothing.
        r.health = "paused";
        r.ok = true;
        return;
      }
      bool probes_ok = true;
      for (const auto& [port, bindings] : in.ports) {
        // A kernel is checked through its heartbeat: a bare TCP connect to its other sockets would
        // count, for a moment, as a client connecting.
        if (port.find("/tcp") == std::string::npos || c.kernel()) continue;
        for (const auto& b : bindings) {
          if (b.host_port.empty()) continue;
          PortProbe probe{b.host_ip, std::stoi(b.host_port), std::stoi(port), false, ""};
          probe.error = in.state.running ? tcp_probe(host_address(b.host_ip), probe.host_port, 1000)
                                         : "container not running";
          probe.ok = probe.error.empty();
          probes_ok = probes_ok && probe.ok;
          r.probes.push_back(probe);
        }
      }
      if (c.kernel()) {
        // The kernel's own liveness, the way a Jupyter client checks it.
        auto hb = in.ports.find(std::to_string(kKernelShellPort + 4) + "/tcp");
        if (!in.state.running || in.state.paused)
          r.heartbeat_error = "container " + in.state.status;
        else if (hb == in.ports.end() || hb->second.empty() || hb->second.front().host_port.empty())
          r.heartbeat_error = "heartbeat port not published";
        else
          r.heartbeat_error =
              heartbeat(host_address(hb->second.front().host_ip), std::stoi(hb->second.front().host_port),
                        std::chrono::milliseconds(2000));
        r.heartbeat = r.heartbeat_error.empty();
      }
      // A kernel answering its heartbeat is up even while the engine's first probe is still to come,
      // or when the engine's last verdict dates from its time paused in a warm pool.
      bool engine_ok =
          r.health == "healthy" || r.health == "none" ||
          ((r.health == "starting" || (r.health == "unhealthy" && c.pooled())) && r.heartbeat == true);
      r.ok = in.state.running && !in.state.paused && engine_ok && probes_ok && r.heartbeat.value_or(true);
    });
  util::run_parallel(tasks, std::max<unsigned>(ctx.parallel, 8));
  return rows;
}

}  // namespace fleet
