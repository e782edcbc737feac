// A service as engine create bodies: compose's resource, health and security mapping (see
// shared/notes/compose-rules.md), compose's names, and the labels: compose's plus the fleet's for a
// replica of a compose service, the fleet's alone for a spawned kernel (a replica of a template,
// templates.hpp). Both kinds of kernel come out of the same function.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "compose/model.hpp"

namespace fleet {

// The kernel's five Jupyter ports inside its container: shell, then iopub, stdin, control, hb.
inline constexpr int kKernelShellPort = 9555;
inline constexpr int kKernelPortCount = 5;
inline constexpr const char* kKernelPortNames[kKernelPortCount] = {"shell", "iopub", "stdin", "control",
                                                                   "hb"};
inline constexpr const char* kKernelConfigPath = "/etc/llmspell/config.toml";

// Who a new container is: replica `number` (1..N) of a compose service, or a spawned kernel.
struct ReplicaIdentity {
  int number = 0;         // compose replicas
  std::string kernel_id;  // spawned kernels: their id (compose kernels: their container name)
  std::string owner;      // kernels: who asked for it
  int host_port = 0;      // spawned kernels: first of their block of host ports
  std::map<std::string, std::string> labels;  // extra labels (not part of the template's identity)
  bool spawned() const { return number == 0; }
};

// "<project>-<service>-<N>", or the service's container_name; "llmspell-<kernel id>" when spawned.
std::string container_name(const compose::Project& project, const compose::Service& service,
                           const ReplicaIdentity& who);
std::string container_name(const compose::Project& project, const compose::Service& service, int number);

// The labels the container carries.
nlohmann::json container_labels(const compose::Project& project, const compose::Service& service,
                                const ReplicaIdentity& who, const std::string& image_id);

// The containers other services' references resolve to (links, volumes_from, network_mode, pid and
// ipc "service:NAME"): each service's existing containers by name, lowest number first. A service
// not listed resolves to its replica 1 by name (the plan creates it first: an implicit dependency).
struct Peers {
  std::map<std::string, std::vector<std::string>> containers;
  std::vector<std::string> of(const compose::Project& project, const std::string& service) const;
};

// The POST /containers/create body. The first network by priority (highest first, then name) is
// attached at create time; further ones are connected afterwards (extra_networks, endpoint_settings).
nlohmann::json create_body(const compose::Project& project, const compose::Service& service,
                           const ReplicaIdentity& who, const std::string& image_id, const Peers& peers = {});
// Network keys of the service, primary first.
std::vector<std::string> networks_by_priority(const compose::Service& service);
// Engine names of the networks after the primary one.
std::vector<std::string> extra_networks(const compose::Project& project, const compose::Service& service);
// The EndpointSettings of the service on network `key`: aliases, links, addresses, driver options.
nlohmann::json endpoint_settings(const compose::Project& project, const compose::Service& service,
                                 const std::string& key, const std::vector<std::string>& links);
// Legacy links as compose v2 writes them ("container:alias"), from links and external_links.
std::vector<std::string> container_links(const compose::Project& project, const compose::Service& service,
                                         int number, const Peers& peers);
// network_mode, pid or ipc with "service:NAME" turned into "container:<NAME's first container>".
std::string resolve_mode(const compose::Project& project, const std::string& mode, const Peers& peers);
// Whether the service shares another container's network namespace (no networks, ports, hostname).
bool shares_network(const compose::Service& service);

// Whether the service runs LLMSpell kernels (x-fleet: {kernel: true}).
bool is_kernel_service(const compose::Service& service);
// The language and config a kernel service runs: from its command and its config mount.
std::string kernel_language(const compose::Service& service);
std::string kernel_config(const compose::Service& service);
// The heartbeat probe every kernel is checked with (the image's own HEALTHCHECK, tighter).
compose::Healthcheck kernel_healthcheck();

// Checks a name that becomes part of a host path: no separators, no "..", not empty.
void check_plain_name(const std::string& what, const std::string& name);

}  // namespace fleet
