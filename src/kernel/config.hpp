// The kernel's TOML configuration, as JSON for kernel_info: provider, model and anything else kept,
// secrets redacted.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace fleet::kernel {

// Throws std::runtime_error "FILE:LINE:COLUMN: message" for a file that does not parse.
nlohmann::json load_config(const std::filesystem::path& path);
// Values of keys that look secret (key, token, secret, password) become "***".
nlohmann::json redact_secrets(const nlohmann::json& config);

}  // namespace fleet::kernel
