// Runs independent tasks on at most `workers` threads; waits for all, then rethrows the first
// failure. Engine calls spend their time waiting on the daemon, so a few threads overlap them.
#pragma once

#include <functional>
#include <vector>

namespace fleet::util {

void run_parallel(const std::vector<std::function<void()>>& tasks, unsigned workers);

}  // namespace fleet::util
