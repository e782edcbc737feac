#include "fleet/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"

namespace fleet {

int pick_port_block(const PortRange& range, const std::set<int>& taken,
                    const std::function<bool(int)>& free_on_host) {
  for (int base = range.first; base + kKernelPortCount - 1 <= range.last; base += kKernelPortCount) {
    bool free = true;
    for (int port = base; free && port < base + kKernelPortCount; ++port)
      free = !taken.count(port) && free_on_host(port);
    if (free) return base;
  }
  throw Conflict("no free block of " + std::to_string(kKernelPortCount) + " host ports left in " +
                 std::to_string(range.first) + "-" + std::to_string(range.last) +
                 " (stop kernels, or widen [kernels] port_range in fleet.toml or LLMSPELL_FLEET_PORTS)");
}

std::set<int> published_ports(engine::Api& engine) {
  std::set<int> out;
  for (const auto& c : engine.list_containers({.all = true}))
    for (const auto& p : c.ports)
      if (p.public_port) out.insert(p.public_port);
  return out;
}

bool port_free(const std::string& ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1)
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

}  // namespace fleet
