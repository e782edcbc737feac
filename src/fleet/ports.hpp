// Host ports for spawned kernels, as the seed had them: a block of five consecutive ports per kernel
// (shell, iopub, stdin, control, hb) from a range (9555-9999 by default). Allocation happens under a
// host-wide lock (home.hpp's host_lock) held until the kernel's container has started, so concurrent
// spawns of any user never pick the same block; ports published by any container or bound by any
// process on the host are skipped.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "engine/api.hpp"
#include "fleet/settings.hpp"

namespace fleet {

// The first port of the first block of five of `range` (blocks start at range.first + 5k) with no
// port in `taken` and every port `free_on_host`. Throws Conflict when the range is full.
int pick_port_block(const PortRange& range, const std::set<int>& taken,
                    const std::function<bool(int)>& free_on_host);

// Host ports that containers of this engine publish.
std::set<int> published_ports(engine::Api& engine);

// Whether a TCP listener could bind `ip`:`port` right now.
bool port_free(const std::string& ip, int port);

}  // namespace fleet
