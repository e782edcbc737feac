#include "kernel/connection_file.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/atomic_file.hpp"

namespace fleet::kernel {

void to_json(nlohmann::json& j, const ConnectionInfo& c) {
  j = {{"transport", c.transport},
       {"ip", c.ip},
       {"shell_port", c.shell_port},
       {"iopub_port", c.iopub_port},
       {"stdin_port", c.stdin_port},
       {"control_port", c.control_port},
       {"hb_port", c.hb_port},
       {"key", c.key},
       {"signature_scheme", c.signature_scheme},
       {"kernel_name", c.kernel_name}};
}

void from_json(const nlohmann::json& j, ConnectionInfo& c) {
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.contains(name)) throw std::runtime_error(std::string("missing \"") + name + "\"");
    return j.at(name);
  };
  auto port = [&](const char* name) {
    const auto& v = field(name);
    if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() > 65535)
      throw std::runtime_error(std::string("\"") + name + "\" is not a port number");
    return v.get<int>();
  };
  auto text = [&](const char* name, const char* fallback) {
    if (!j.contains(name)) return std::string(fallback);
    if (!j.at(name).is_string()) throw std::runtime_error(std::string("\"") + name + "\" is not a string");
    return j.at(name).get<std::string>();
  };
  c.transport = text("transport", "tcp");
  c.ip = text("ip", "127.0.0.1");
  c.shell_port = port("shell_port");
  c.iopub_port = port("iopub_port");
  c.stdin_port = port("stdin_port");
  c.control_port = port("control_port");
  c.hb_port = port("hb_port");
  c.key = text("key", "");
  c.signature_scheme = text("signature_scheme", "hmac-sha256");
  c.kernel_name = text("kernel_name", "");
  // Which digests exist is the signer's to say; a scheme that is not HMAC is refused here.
  if (c.signature_scheme.rfind("hmac-", 0) != 0)
    throw std::runtime_error("signature_scheme \"" + c.signature_scheme +
                             "\" is not supported (hmac-sha256 is)");
}

ConnectionInfo read_connection_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read the connection file");
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object()) throw std::runtime_error(path.string() + ": not a JSON object");
  try {
    return j.get<ConnectionInfo>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

void write_connection_file(const std::filesystem::path& path, const ConnectionInfo& info) {
  util::write_file_atomically(path, nlohmann::json(info).dump(2) + "\n", 0600);
}

}  // namespace fleet::kernel
