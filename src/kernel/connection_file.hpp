// Jupyter connection files: how a client finds a kernel's five sockets and its signing key.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace fleet::kernel {

struct ConnectionInfo {
  std::string transport = "tcp";
  std::string ip = "127.0.0.1";
  int shell_port = 0;
  int iopub_port = 0;
  int stdin_port = 0;
  int control_port = 0;
  int hb_port = 0;
  std::string key;
  std::string signature_scheme = "hmac-sha256";
  std::string kernel_name;

  std::string endpoint(int port) const { return transport + "://" + ip + ":" + std::to_string(port); }
};

void to_json(nlohmann::json& j, const ConnectionInfo& c);
// Throws std::runtime_error naming the missing or mistyped field.
void from_json(const nlohmann::json& j, ConnectionInfo& c);

// Reads and validates a connection file; throws std::runtime_error naming the file.
ConnectionInfo read_connection_file(const std::filesystem::path& path);
// Writes atomically (temp file, fsync, rename) with mode 0600: the key is a secret.
void write_connection_file(const std::filesystem::path& path, const ConnectionInfo& info);

}  // namespace fleet::kernel
