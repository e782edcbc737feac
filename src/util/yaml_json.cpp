#include "util/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>

namespace fleet::util {
namespace {

// What YAML 1.1 (PyYAML, go-yaml v2) or YAML 1.2's core schema (yaml-cpp users, go-yaml v3) would read
// as something other than a string when written plain: null, bools, ints in any base, floats,
// sexagesimal numbers, timestamps, and the 1.1 merge and value keys.
bool reads_as_non_string(const std::string& s) {
  static const std::regex special(
      "|~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
      "|<<|=");
  static const std::regex number(
      "[-+]?(\\.[0-9_]+|[0-9][0-9_]*(:[0-5]?[0-9])*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?"
      "|[-+]?0b[01_]+|[-+]?0o[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  static const std::regex timestamp("[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \\t].*)?");
  return std::regex_match(s, special) || std::regex_match(s, number) || std::regex_match(s, timestamp);
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  if (reads_as_non_string(s)) out << YAML::DoubleQuoted;
  out << s;  // yaml-cpp quotes what a plain scalar cannot hold (": ", "#", leading "-", newlines, ...)
}

void emit(YAML::Emitter& out, const nlohmann::json& j, const std::vector<std::string>& first_keys) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      out << YAML::BeginMap;
      auto entry = [&](const std::string& key, const nlohmann::json& value) {
        out << YAML::Key;
        emit_string(out, key);
        out << YAML::Value;
        emit(out, value, {});
      };
      for (const auto& key : first_keys)
        if (auto it = j.find(key); it != j.end()) entry(key, *it);
      for (auto it = j.begin(); it != j.end(); ++it)
        if (std::find(first_keys.begin(), first_keys.end(), it.key()) == first_keys.end())
          entry(it.key(), it.value());
      out << YAML::EndMap;
      break;
    }
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : j) emit(out, v, {});
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string:
      emit_string(out, j.get_ref<const std::string&>());
      break;
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out << YAML::Null;
      break;
    case nlohmann::json::value_t::number_float: {
      // nlohmann writes 1e+20 for large floats; YAML 1.1 readers want a dot to see a float.
      std::string text = j.dump();
      if (text.find_first_of(".") == std::string::npos) {
        auto e = text.find_first_of("eE");
        text.insert(e == std::string::npos ? text.size() : e, ".0");
      }
      out << text;
      break;
    }
    default:  // bools, integers: their JSON text is their YAML text
      out << j.dump();
  }
}

}  // namespace

std::string json_to_yaml(const nlohmann::json& j, const std::vector<std::string>& first_keys) {
  YAML::Emitter out;
  emit(out, j, first_keys);
  return out.c_str();
}

}  // namespace fleet::util
