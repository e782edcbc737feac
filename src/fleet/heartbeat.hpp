// A heartbeat round trip with a kernel from the host, through its published hb port: the Jupyter
// protocol's own liveness check (a ZeroMQ REQ that the kernel's REP socket echoes).
#pragma once

#include <chrono>
#include <string>

namespace fleet {

// Empty when the kernel echoed within `timeout`, else why not.
std::string heartbeat(const std::string& ip, int port, std::chrono::milliseconds timeout);
// A TCP connect within `timeout_ms`: empty on success, else the reason.
std::string tcp_probe(const std::string& host, int port, int timeout_ms);

// Where a port published on `ip` answers from the host (0.0.0.0 and "" mean every address).
std::string host_address(const std::string& ip);

}  // namespace fleet
