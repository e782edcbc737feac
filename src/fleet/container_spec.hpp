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

// The POST /containers/create body. The first network is attached at create time; further ones are
// connected afterwards (extra_networks).
nlohmann::json create_body(const compose::Project& project, const compose::Service& service,
                           const ReplicaIdentity& who, const std::string& image_id);
std::vector<std::string> extra_networks(const compose::Project& project, const compose::Service& service);

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
