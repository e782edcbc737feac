// JSON written as YAML (yaml-cpp's emitter), for commands whose default output is YAML. Its own library
// (fleet_util_yaml) so that programs using fleet_util, the kernel among them, do not load yaml-cpp.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::util {

// The YAML reads back as the same JSON: a string a YAML reader would take for a null, a bool or a number
// ("", "null", "yes", "on", "1.5", "0x1f", "12:30", ...) is quoted, and so is any other string a plain
// scalar cannot hold. Object keys come in the JSON's (sorted) order, except that `first_keys` present
// at the top level come first, in the order given.
std::string json_to_yaml(const nlohmann::json& j, const std::vector<std::string>& first_keys = {});

}  // namespace fleet::util
