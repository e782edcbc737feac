// json_to_yaml: the YAML `config` prints reads back (yaml-cpp, YAML 1.2 core types) as the same JSON.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <regex>
#include <sstream>

#include "util/yaml_json.hpp"

using fleet::util::json_to_yaml;
using nlohmann::json;

namespace {

// A YAML reader's view of the document as JSON: quoted scalars are strings, plain ones resolve by the
// YAML 1.2 core schema (null, true/false, integers, floats), anything else is a string.
json from_yaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json j = json::object();
      for (const auto& entry : n) j[entry.first.as<std::string>()] = from_yaml(entry.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      json j = json::array();
      for (const auto& item : n) j.push_back(from_yaml(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true" || s == "false") return s == "true";
      if (std::regex_match(s, std::regex("[-+]?[0-9]+"))) return std::stoll(s);
      if (std::regex_match(s, std::regex("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?")))
        return std::stod(s);
      return s;
    }
    default:
      return nullptr;
  }
}

json round_trip(const json& j) {
  return from_yaml(YAML::Load(json_to_yaml(j)));
}

}  // namespace

TEST_CASE("json_to_yaml quotes strings a YAML reader would take for another type", "[yaml]") {
  for (const char* s :
       {"",     "1",     "-2",    "1.5",   ".5",   "1e3",        "0x1F",
        "0o17", "0b101", "1_000", "12:30", "true", "True",       "false",
        "yes",  "No",    "on",    "OFF",   "y",    "n",          "null",
        "Null", "~",     ".inf",  "-.Inf", ".nan", "2024-01-02", "2001-12-14t21:59:43.10-05:00",
        "<<",   "="}) {
    INFO("string: " << s);
    std::string yaml = json_to_yaml(json{{"k", s}});
    CHECK(yaml == std::string("k: \"") + s + "\"");
    CHECK(round_trip(json{{"k", s}}) == json{{"k", s}});
  }
  // Ordinary strings stay plain.
  CHECK(json_to_yaml(json{{"image", "nginx:1.25"}}) == "image: nginx:1.25");
  CHECK(json_to_yaml(json{{"v", "1.2.3"}}) == "v: 1.2.3");
  CHECK(json_to_yaml(json{{"d", "30s"}}) == "d: 30s");
}

TEST_CASE("json_to_yaml round-trips through yaml-cpp", "[yaml]") {
  json j = {
      {"name", "demo"},
      {"numbers", {0, -7, 536870912, 9007199254740993LL, 0.5, 1e20, -2.25}},
      {"bools", {true, false}},
      {"nothing", nullptr},
      {"empty_map", json::object()},
      {"empty_list", json::array()},
      {"strings",
       {"plain",    "a: b",  "- dash", "#hash", "trailing ", " leading",       "multi\nline\n", "tab\there",
        "quote\"s", "it's",  "[x]",    "{y}",   "*alias",    "&anchor",        "!tag",          "%pct",
        "@at",      "`tick", "|pipe",  ">gt",   "?q",        "µs and ünïcode", "C:\\path",      "${VAR}"}},
      {"80", {{"nested", {{"deeper", {1, {{"k", "v"}}, json::array()}}}}}},
      {"yes", "map key that looks like a bool"},
      {"environment", {{"DEBUG", "true"}, {"PORT", "8080"}, {"EMPTY", ""}, {"RATIO", "0.5"}}},
  };
  json back = round_trip(j);
  CHECK(back == j);
  if (back != j) FAIL(json_to_yaml(j));
}

TEST_CASE("json_to_yaml puts the given keys first at the top level, the rest sorted", "[yaml]") {
  json project = {{"x-custom", 1},
                  {"volumes", {{"v", json::object()}}},
                  {"configs", {{"c", {{"file", "/f"}}}}},
                  {"secrets", {{"s", {{"environment", "TOKEN"}}}}},
                  {"services", {{"web", {{"image", "nginx"}, {"command", {"a"}}}}}},
                  {"networks", {{"default", {{"name", "p_default"}}}}},
                  {"name", "p"}};
  std::string yaml =
      json_to_yaml(project, {"name", "services", "networks", "volumes", "secrets", "configs", "absent"});
  std::vector<std::string> top;
  std::istringstream lines(yaml);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != ' ' && line[0] != '-') top.push_back(line.substr(0, line.find(':')));
  CHECK(top == std::vector<std::string>{"name", "services", "networks", "volumes", "secrets", "configs",
                                        "x-custom"});
  // Below the top level, keys stay sorted.
  CHECK(yaml.find("command:") < yaml.find("image:"));
  CHECK(round_trip(project) == project);
}
