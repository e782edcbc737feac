#include "kernel/config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <sstream>

namespace fleet::kernel {
namespace {

nlohmann::json to_json(const toml::node& node) {
  if (auto* table = node.as_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (auto&& [key, value] : *table) j[std::string(key.str())] = to_json(value);
    return j;
  }
  if (auto* array = node.as_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (auto&& value : *array) j.push_back(to_json(value));
    return j;
  }
  if (auto v = node.value<std::string>()) return *v;
  if (node.is_integer()) return node.value<std::int64_t>().value_or(0);
  if (node.is_floating_point()) return node.value<double>().value_or(0.0);
  if (node.is_boolean()) return node.value<bool>().value_or(false);
  // Dates and times: their TOML text.
  std::ostringstream text;
  node.visit([&](auto&& value) { text << value; });
  return text.str();
}

bool looks_secret(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"key", "token", "secret", "password"})
    if (key.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

nlohmann::json load_config(const std::filesystem::path& path) {
  try {
    toml::table table = toml::parse_file(path.string());
    return to_json(table);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(path.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                             std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
}

nlohmann::json redact_secrets(const nlohmann::json& config) {
  if (config.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : config) out.push_back(redact_secrets(v));
    return out;
  }
  if (!config.is_object()) return config;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = config.begin(); it != config.end(); ++it) {
    bool secret = looks_secret(it.key()) && it.value().is_string() && !it.value().get<std::string>().empty();
    // *_env keys name an environment variable, not the secret itself.
    bool names_variable = it.key().size() > 4 && it.key().compare(it.key().size() - 4, 4, "_env") == 0;
    out[it.key()] = secret && !names_variable ? nlohmann::json("***") : redact_secrets(it.value());
  }
  return out;
}

}  // namespace fleet::kernel
