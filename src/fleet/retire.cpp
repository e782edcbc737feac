#include "fleet/retire.hpp"

namespace fleet {

void retire_container(engine::Api& client, const std::string& id, const std::string& state,
                      std::optional<int> timeout_seconds, const std::function<void()>& before_stop) {
  try {
    if (state == "paused") {
      // Thawed first so it can act on SIGTERM. It may have been unpaused since it was observed (the
      // engine then answers an error, not 304): the stop below is what counts.
      try {
        client.unpause_container(id);
      } catch (const engine::NotFoundError&) {
        throw;
      } catch (const engine::EngineError&) {
      }
    }
    if ((state == "running" || state == "paused") && before_stop) before_stop();
    if (state == "running" || state == "paused" || state == "restarting")
      client.stop_container(id, timeout_seconds);
    client.remove_container(id, {.force = true});
  } catch (const engine::NotFoundError&) {
    // Already gone: the goal is reached.
  }
}

}  // namespace fleet
