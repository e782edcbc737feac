// Where the kernel's address, ports and key come from. Two ways to start: the fleet names ports on
// the command line and the kernel writes its connection file for others to read; Jupyter's launcher
// writes the file first (ports, key, address chosen) and expects the kernel to serve exactly that.
#pragma once

#include <optional>
#include <string>

#include "kernel/connection_file.hpp"

namespace fleet::kernel {

struct ConnectionFlags {
  int port = 0;  // shell port; the other four follow it
  int shell_port = 0, iopub_port = 0, stdin_port = 0, control_port = 0, hb_port = 0;
  std::string ip = "0.0.0.0";  // to bind
  std::string key;             // empty: the existing file's, else random
};

struct ConnectionPlan {
  ConnectionInfo connection;  // ports 0 are chosen at bind time
  std::string bind_ip;
  bool write_file = true;  // false: the file is the launcher's, served as it is
};

// `existing` is the connection file as read, if it exists and parses. Ports on the command line
// mean the kernel owns its file (a restarted container keeps its key); with none, a file naming
// every port is served as written. `random_key` is called only when a new key is needed.
ConnectionPlan plan_connection(const ConnectionFlags& flags, const std::optional<ConnectionInfo>& existing,
                               std::string (*random_key)());

}  // namespace fleet::kernel
