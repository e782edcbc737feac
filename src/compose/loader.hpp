// Reads a compose file into a Project: safe YAML, interpolation, every supported key typed and
// checked, profiles and dependencies validated. Any problem is a ComposeError naming the file, the
// line and the key path; nothing is half-loaded.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "compose/interpolate.hpp"
#include "compose/model.hpp"

namespace fleet::compose {

struct LoadOptions {
  std::filesystem::path file = "compose/docker-compose.yml";
  std::optional<std::string> project_name;  // -p
};

// Loads `file`, with variables from the environment over `.env` beside it.
Project load_project(const LoadOptions& options);
// The same from text already read; `file` names it in errors and anchors relative paths.
Project load_project_text(std::string_view yaml, const std::filesystem::path& file, const Environment& env,
                          std::optional<std::string> project_name = std::nullopt);

// Lower-cases and keeps [a-z0-9_-]; empty when nothing usable is left.
std::string normalize_project_name(std::string_view name);

// Splits a command string as a POSIX shell would (quotes, backslashes), without expansions.
std::vector<std::string> shell_split(std::string_view text);

}  // namespace fleet::compose
