#include "fleet/retire.hpp"

namespace fleet {

void retire_container(engine::Api& client, const std::string& id, const std::string& state,
                      std::optional<int> timeout_seconds) {
  try {
    if (state == "paused") client.unpause_container(id);
    if (state == "running" || state == "paused" || state == "restarting")
      client.stop_container(id, timeout_seconds);
    client.remove_container(id, {.force = true});
  } catch (const engine::NotFoundError&) {
    // Already gone: the goal is reached.
  }
}

}  // namespace fleet
