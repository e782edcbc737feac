// The fleet's own events (pool changes, scaling decisions, drain steps, checkpoints), appended to
// <home>/events.jsonl by whichever fleet process made them (serve, or a `stop` on the command line),
// so `llmspell-fleet events` and GET /events show them all, next to the engine's lifecycle events.
// One line per event, written with O_APPEND in one write: concurrent writers never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "fleet/home.hpp"
#include "fleet/rows.hpp"

namespace fleet {

// Appends `event` (stamped now when it has no time); rotates the file past 1 MiB. Never throws:
// an event that cannot be written is logged and dropped.
void append_event(const FleetHome& home, FleetEvent event);

// Hands `sink` every event appended from now on (and, with `since_nano`, those since then still in
// the file), until `cancel` is set or the sink returns false.
void follow_events(const FleetHome& home, std::optional<std::int64_t> since_nano, const EventSink& sink,
                   const std::atomic<bool>* cancel);

// Now, in nanoseconds since the epoch (the engine's event time unit).
std::int64_t now_nano();

}  // namespace fleet
