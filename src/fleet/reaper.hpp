// Test runs mark what they create with a session label, their process id and an expiry. What a
// run that died left behind carries a dead pid or a past expiry: the next run, and `clean`, remove it.
#pragma once

#include "engine/api.hpp"

namespace fleet {

inline constexpr const char* kTestSessionLabel = "dev.llmspell.fleet-test.session";
inline constexpr const char* kTestPidLabel = "dev.llmspell.fleet-test.pid";
inline constexpr const char* kTestExpiresLabel = "dev.llmspell.fleet-test.expires";

// Removes containers, networks, volumes and images of dead test runs; returns how many.
int reap_dead_test_runs(engine::Api& client);

// Removes containers, then networks, volumes and images, matching `filters` for which `remove_it`
// holds (all when null); returns how many. Objects that vanish meanwhile are not errors.
int remove_labelled(engine::Api& client, const engine::Filters& filters,
                    const std::function<bool(const engine::Labels&)>& remove_it = nullptr);

}  // namespace fleet
