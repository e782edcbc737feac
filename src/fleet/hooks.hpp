// Lifecycle hooks of a service (post_start, pre_stop), run in its container through the engine's
// exec, as compose v2 runs them. A post_start hook that fails fails the start; a pre_stop hook is best
// effort and bounded in time: the container stops afterwards whatever it did.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "compose/model.hpp"
#include "engine/api.hpp"
#include "util/clock.hpp"

namespace fleet {

engine::ExecOptions hook_exec(const compose::Hook& hook);

// Runs each post_start hook in turn and waits for it; throws OperationFailed naming the service, the
// hook and its exit code when one fails (its output is not repeated: it may hold secrets).
void run_post_start(engine::Api& client, const compose::Service& service, const std::string& container_id);

// Starts each pre_stop hook and waits for it up to `limit` in all; returns what went wrong, one line
// each (the caller warns), never throws for a hook.
std::vector<std::string> run_pre_stop(engine::Api& client, const compose::Service& service,
                                      const std::string& container_id, std::chrono::milliseconds limit,
                                      util::Clock& clock);

}  // namespace fleet
