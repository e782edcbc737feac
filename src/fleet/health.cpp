// health: the engine's health status per container, and a TCP connect to each published port.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fleet/labels.hpp"
#include "fleet/project.hpp"
#include "util/parallel.hpp"

namespace fleet {
namespace {

// Connects within `timeout_ms`; empty on success, else the reason.
std::string tcp_probe(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return gai_strerror(rc);
  std::string error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (rc != 0)
        error = "no answer within " + std::to_string(timeout_ms) + " ms";
      else if (so_error)
        error = std::strerror(so_error), rc = -1;
    } else if (rc != 0) {
      error = std::strerror(errno);
    }
    ::close(fd);
    if (rc == 0) {
      error.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return error;
}

}  // namespace

std::vector<HealthRow> health(ProjectContext& ctx, const std::vector<std::string>& names) {
  auto containers = select_containers(ctx, names, true);
  std::vector<HealthRow> rows(containers.size());
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < containers.size(); ++i)
    tasks.push_back([&, i] {
      const auto& c = containers[i];
      HealthRow& r = rows[i];
      r.name = c.name();
      r.service = c.labels.count(labels::kComposeService) ? c.labels.at(labels::kComposeService) : "";
      r.state = c.state;
      engine::ContainerInspect in = ctx.client.inspect_container(c.id);
      r.health = in.state.health ? in.state.health->status : "none";
      bool probes_ok = true;
      for (const auto& [port, bindings] : in.ports) {
        if (port.find("/tcp") == std::string::npos) continue;
        for (const auto& b : bindings) {
          if (b.host_port.empty()) continue;
          PortProbe probe{b.host_ip, std::stoi(b.host_port), std::stoi(port), false, ""};
          std::string host = b.host_ip.empty() || b.host_ip == "0.0.0.0" ? "127.0.0.1" : b.host_ip;
          probe.error = in.state.running ? tcp_probe(host, probe.host_port, 1000) : "container not running";
          probe.ok = probe.error.empty();
          probes_ok = probes_ok && probe.ok;
          r.probes.push_back(probe);
        }
      }
      r.ok =
          in.state.running && !in.state.paused && (r.health == "healthy" || r.health == "none") && probes_ok;
    });
  util::run_parallel(tasks, ctx.parallel);
  return rows;
}

}  // namespace fleet
