// A compose service as engine create bodies: compose's resource, health and security mapping
// (see shared/notes/compose-rules.md), compose's labels plus the fleet's, compose's names.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "compose/model.hpp"

namespace fleet {

// "<project>-<service>-<N>", or the service's container_name.
std::string container_name(const compose::Project& project, const compose::Service& service, int number);

// The labels every container of the service carries.
nlohmann::json container_labels(const compose::Project& project, const compose::Service& service, int number,
                                const std::string& image_id);

// The POST /containers/create body for replica `number`. The first network is attached at create
// time; further ones are connected afterwards (extra_networks).
nlohmann::json create_body(const compose::Project& project, const compose::Service& service, int number,
                           const std::string& image_id);
std::vector<std::string> extra_networks(const compose::Project& project, const compose::Service& service);

// Whether the service runs LLMSpell kernels (x-fleet: {kernel: true}).
bool is_kernel_service(const compose::Service& service);

}  // namespace fleet
