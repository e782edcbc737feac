#include "compose/interpolate.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace fleet::compose {
namespace {

bool name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(std::string_view text) {
  std::map<std::string, std::string> vars;
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++number;
    std::string line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    auto eq = line.find('=');
    std::string key = trim(line.substr(0, eq));
    // Compose's env files allow dots and dashes in names (ENV.WITH.DOT=ok); ${...} cannot name them.
    if (eq == std::string::npos || key.empty() || !name_start(key.front()) ||
        !std::all_of(key.begin(), key.end(), [](char c) { return name_char(c) || c == '.' || c == '-'; }))
      throw std::runtime_error("line " + std::to_string(number) + ": expected KEY=VALUE");
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));  // an inline comment after an unquoted value
    }
    vars[key] = value;
  }
  return vars;
}

Environment Environment::load(const std::filesystem::path& dotenv) {
  Environment e;
  std::ifstream in(dotenv);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    try {
      e.vars_ = parse_dotenv(text.str());
    } catch (const std::exception& ex) {
      throw std::runtime_error(dotenv.string() + ": " + ex.what());
    }
  }
  for (char** p = environ; p && *p; ++p) {
    std::string_view entry(*p);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos)
      e.vars_[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  return e;
}

std::optional<std::string> Environment::get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::string interpolate(std::string_view text, const Environment& env) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {  // $$ -> $
      out += '$';
      i += 2;
      continue;
    }
    if (i + 1 < text.size() && name_start(text[i + 1])) {  // $VAR
      std::size_t end = i + 1;
      while (end < text.size() && name_char(text[end])) ++end;
      out += env.get(std::string(text.substr(i + 1, end - i - 1))).value_or("");
      i = end;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{')
      throw std::invalid_argument("invalid interpolation format in \"" + std::string(text) +
                                  "\": a $ must start $VAR or ${VAR}, or be written $$");
    // ${...}: find the matching brace (defaults may nest ${...}).
    std::size_t depth = 1, end = i + 2;
    for (; end < text.size() && depth; ++end) {
      if (text[end] == '{') ++depth;
      if (text[end] == '}') --depth;
    }
    if (depth)
      throw std::invalid_argument("invalid interpolation format in \"" + std::string(text) +
                                  "\": no closing }");
    std::string_view inner = text.substr(i + 2, end - i - 3);
    std::size_t n = 0;
    if (inner.empty() || !name_start(inner[0]))
      throw std::invalid_argument("invalid interpolation format in \"" + std::string(text) +
                                  "\": bad variable name");
    while (n < inner.size() && name_char(inner[n])) ++n;
    std::string name(inner.substr(0, n));
    std::string_view op = inner.substr(n);
    std::optional<std::string> value = env.get(name);
    bool set_and_nonempty = value && !value->empty();
    auto rest = [&](std::size_t skip) { return interpolate(op.substr(skip), env); };
    if (op.empty()) {
      out += value.value_or("");
    } else if (op.rfind(":-", 0) == 0) {
      out += set_and_nonempty ? *value : rest(2);
    } else if (op.rfind("-", 0) == 0) {
      out += value ? *value : rest(1);
    } else if (op.rfind(":?", 0) == 0 || op.rfind("?", 0) == 0) {
      bool colon = op[0] == ':';
      if (colon ? !set_and_nonempty : !value) {
        std::string message = rest(colon ? 2 : 1);
        throw std::invalid_argument("required variable " + name + " is missing a value" +
                                    (message.empty() ? "" : ": " + message));
      }
      out += *value;
    } else if (op.rfind(":+", 0) == 0) {
      out += set_and_nonempty ? rest(2) : "";
    } else if (op.rfind("+", 0) == 0) {
      out += value ? rest(1) : "";
    } else {
      throw std::invalid_argument("invalid interpolation format in \"" + std::string(text) +
                                  "\": unknown operator \"" + std::string(op) + "\"");
    }
    i = end;
  }
  return out;
}

}  // namespace fleet::compose
