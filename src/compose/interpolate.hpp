// Variables in compose values: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?message},
// ${VAR?message}, ${VAR:+other}, ${VAR+other}, and $$ for a literal $. Values come from the
// environment, then from .env beside the compose file (the environment wins).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::compose {

class Environment {
 public:
  // The process environment over the variables of `dotenv` (when it exists).
  static Environment load(const std::filesystem::path& dotenv);
  static Environment of(std::map<std::string, std::string> variables) {
    Environment e;
    e.vars_ = std::move(variables);
    return e;
  }
  std::optional<std::string> get(const std::string& name) const;
  void set(const std::string& name, const std::string& value) { vars_[name] = value; }

 private:
  std::map<std::string, std::string> vars_;
};

// Parses .env text: KEY=VALUE lines, '#' comments, optional `export `, quoted values.
// Throws std::runtime_error "line N: ..." for a line that is neither.
std::map<std::string, std::string> parse_dotenv(std::string_view text);

// Throws std::invalid_argument with the reason (the caller adds file, line and key).
std::string interpolate(std::string_view text, const Environment& env);

}  // namespace fleet::compose
