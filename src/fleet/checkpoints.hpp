// Checkpoints: a kernel's user state, kept across a drain. The kernel itself serializes its globals
// (numbers, strings, booleans, tables of them, cycles kept; functions and the like listed as
// skipped) when asked on its control channel; the fleet adds what makes it that kernel (language,
// config, image, limits) and its state folder (through the engine's archive API), and writes
// <home>/checkpoints/<id>.json (mode 0600). A restore is a new kernel of the same template, its
// state folder put back and the state loaded.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/observe.hpp"
#include "fleet/operations.hpp"

namespace fleet {

// A request on the kernel's control channel (signed with its key, read from the kernel): the
// reply's content. OperationFailed when it does not answer within `timeout` or answers an error.
nlohmann::json kernel_control_request(Context& ctx, const ObservedContainer& kernel, const std::string& type,
                                      const nlohmann::json& content, std::chrono::milliseconds timeout);

// Saves `kernel`'s checkpoint; returns its id ("<kernel id>-<UTC time>").
std::string save_checkpoint(Context& ctx, const ObservedContainer& kernel);

// The checkpoints of this fleet home, newest first (without their state).
std::vector<CheckpointRow> list_checkpoints(const FleetHome& home);
// A whole checkpoint file; NotFound naming the id.
nlohmann::json read_checkpoint(const FleetHome& home, const std::string& id);
// The template a checkpoint's kernel was a replica of.
Template checkpoint_template(const nlohmann::json& checkpoint);
// Loads a checkpoint into `kernel` (a fresh one of its template): the state folder, then the state.
// Returns the names restored.
std::vector<std::string> load_checkpoint(Context& ctx, const ObservedContainer& kernel,
                                         const nlohmann::json& checkpoint);

}  // namespace fleet
