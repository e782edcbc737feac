// When a kernel container serves: its status file says idle (written once its sockets are bound
// and its connection file is written). Read through the engine, so it works whatever is mounted.
#pragma once

#include <chrono>
#include <string>

#include "engine/api.hpp"
#include "util/clock.hpp"

namespace fleet {

// Throws OperationFailed (with the container's last output) if it stops first or the time runs out.
void wait_until_kernel_serves(engine::Api& client, const std::string& container_id,
                              std::chrono::milliseconds timeout, util::Clock& clock = util::Clock::system());

}  // namespace fleet
