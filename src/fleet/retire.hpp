// Taking a container out of service: thawed if paused (a frozen process cannot act on SIGTERM),
// stopped within its grace period, removed. A container already gone is not an error.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "engine/api.hpp"

namespace fleet {

// `state` is the engine's state as last observed (running, paused, exited...). `before_stop` runs once
// the container is thawed and before it is stopped, only when it was running or paused.
void retire_container(engine::Api& client, const std::string& id, const std::string& state,
                      std::optional<int> timeout_seconds, const std::function<void()>& before_stop = nullptr);

}  // namespace fleet
