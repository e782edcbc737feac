#include "fleet/settings.hpp"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "fleet/errors.hpp"
#include "util/units.hpp"

#include <functional>

namespace fleet {

PortRange PortRange::parse(const std::string& text, const std::string& what) {
  auto dash = text.find('-');
  auto number = [&](const std::string& part) {
    if (part.empty() || part.size() > 5 || part.find_first_not_of("0123456789") != std::string::npos)
      throw InvalidInput(what + ": \"" + text + "\" is not a port range like 9555-9999");
    return std::stoi(part);
  };
  if (dash == std::string::npos)
    throw InvalidInput(what + ": \"" + text + "\" is not a port range like 9555-9999");
  PortRange r{number(text.substr(0, dash)), number(text.substr(dash + 1))};
  if (r.first < 1 || r.last > 65535 || r.last < r.first + 4)
    throw InvalidInput(what + ": \"" + text + "\" must hold at least five ports within 1-65535");
  return r;
}

DrainSettings DrainSettings::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object())
    throw std::invalid_argument(where + ": must be a table of timeout_seconds, checkpoint_before_drain");
  DrainSettings d;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = where + "." + it.key();
    if (it.key() == "timeout_seconds") {
      if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 3600)
        throw std::invalid_argument(key + ": must be a whole number of seconds from 0 to 3600");
      d.timeout_seconds = it->get<int>();
    } else if (it.key() == "checkpoint_before_drain") {
      if (!it->is_boolean()) throw std::invalid_argument(key + ": must be true or false");
      d.checkpoint_before_drain = it->get<bool>();
    } else {
      throw std::invalid_argument(key + ": unknown key (known: timeout_seconds, checkpoint_before_drain)");
    }
  }
  return d;
}

nlohmann::json DrainSettings::to_json() const {
  return {{"timeout_seconds", timeout_seconds}, {"checkpoint_before_drain", checkpoint_before_drain}};
}

namespace {

// A TOML value as JSON, for the settings that share their reading with compose's x-fleet.
nlohmann::json json_of(const toml::node& node) {
  if (auto* t = node.as_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : *t) j[std::string(k.str())] = json_of(v);
    return j;
  }
  if (auto* a = node.as_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : *a) j.push_back(json_of(v));
    return j;
  }
  if (auto v = node.value<bool>(); node.is_boolean()) return *v;
  if (node.is_integer()) return *node.value<std::int64_t>();
  if (node.is_floating_point()) return *node.value<double>();
  if (node.is_string()) return *node.value<std::string>();
  return nullptr;
}

void read_kernels(const toml::table& section, KernelDefaults& k,
                  const std::function<std::string(const toml::node&, const std::string&)>& where) {
  for (const auto& [key_name, value] : section) {
    const std::string key = "kernels." + std::string(key_name.str());
    auto text = [&]() -> std::string {
      if (!value.is_string()) throw InvalidInput(where(value, key) + ": must be a string");
      return value.as_string()->get();
    };
    if (key == "kernels.language") {
      k.language = text();
    } else if (key == "kernels.config") {
      k.config = text();
    } else if (key == "kernels.image") {
      k.image = text();
    } else if (key == "kernels.memory") {
      auto bytes = util::parse_size(text());
      if (!bytes) throw InvalidInput(where(value, key) + ": \"" + text() + "\" is not a size (e.g. 512m)");
      k.memory = *bytes;
    } else if (key == "kernels.cpus") {
      auto cpus = value.value<double>();
      if (!cpus || !(*cpus > 0)) throw InvalidInput(where(value, key) + ": must be a number above 0");
      k.cpus = *cpus;
    } else if (key == "kernels.pids_limit") {
      auto pids = value.value<std::int64_t>();
      if (!pids || *pids < 1) throw InvalidInput(where(value, key) + ": must be a whole number above 0");
      k.pids_limit = *pids;
    } else if (key == "kernels.port_range") {
      k.ports = PortRange::parse(text(), where(value, key));
    } else if (key == "kernels.publish_ip") {
      k.publish_ip = text();
      in_addr address{};
      if (::inet_pton(AF_INET, k.publish_ip.c_str(), &address) != 1)
        throw InvalidInput(where(value, key) + ": \"" + k.publish_ip + "\" is not an IPv4 address");
    } else {
      throw InvalidInput(
          where(value, key) +
          ": unknown key (known: language, config, image, memory, cpus, pids_limit, port_range, "
          "publish_ip)");
    }
  }
}

// "file:12: " of a where() text.
std::string path_and_line(const std::string& located, const std::string& key) {
  return located.substr(0, located.size() - key.size());
}

TemplateSettings read_template(
    const std::string& name, const toml::table& section,
    const std::function<std::string(const toml::node&, const std::string&)>& where) {
  TemplateSettings t{.name = name};
  for (const auto& [key_name, value] : section) {
    const std::string k(key_name.str());
    const std::string key = "templates." + name + "." + k;
    auto text = [&]() -> std::string {
      if (!value.is_string()) throw InvalidInput(where(value, key) + ": must be a string");
      return value.as_string()->get();
    };
    try {
      if (k == "language") {
        t.language = text();
      } else if (k == "config") {
        t.config = text();
      } else if (k == "image") {
        t.image = text();
      } else if (k == "memory") {
        auto bytes = util::parse_size(text());
        if (!bytes) throw InvalidInput(where(value, key) + ": \"" + text() + "\" is not a size (e.g. 512m)");
        t.memory = *bytes;
      } else if (k == "cpus") {
        auto cpus = value.value<double>();
        if (!cpus || !(*cpus > 0)) throw InvalidInput(where(value, key) + ": must be a number above 0");
        t.cpus = *cpus;
      } else if (k == "warm_pool") {
        t.warm_pool = pool::Settings::from_json(json_of(value), key);
      } else if (k == "graceful_drain") {
        t.graceful_drain = DrainSettings::from_json(json_of(value), key);
      } else if (k == "idle_cull_seconds") {
        auto seconds = value.value<std::int64_t>();
        if (!value.is_integer() || *seconds < 0 || *seconds > 30LL * 86400)
          throw InvalidInput(where(value, key) + ": must be a whole number of seconds (0: off)");
        t.idle_cull_seconds = static_cast<int>(*seconds);
      } else {
        throw InvalidInput(where(value, key) +
                           ": unknown key (known: language, config, image, memory, cpus, warm_pool, "
                           "graceful_drain, idle_cull_seconds; autoscaling is for compose services)");
      }
    } catch (const std::invalid_argument& e) {  // the pool's own checks name the key: add where it is
      throw InvalidInput(path_and_line(where(value, key), key) + e.what());
    }
  }
  if (t.language.empty() || t.config.empty())
    throw InvalidInput(where(section, "templates." + name) + ": a template names its language and config");
  return t;
}

template <typename Where>
SwarmSettings read_swarm(const toml::table& table, const Where& where) {
  SwarmSettings swarm;
  for (const auto& [k, value] : table) {
    const std::string key = "swarm." + std::string(k.str());
    if (key != "swarm.nodes") throw InvalidInput(where(value, key) + ": unknown key (known: nodes)");
    const toml::array* list = value.as_array();
    if (!list)
      throw InvalidInput(where(value, key) + ": must be a list of engine endpoints (unix:// or tcp://)");
    for (const auto& item : *list) {
      auto endpoint = item.value<std::string>();
      if (!endpoint || (endpoint->rfind("unix://", 0) != 0 && endpoint->rfind("tcp://", 0) != 0))
        throw InvalidInput(where(item, key) +
                           ": each node is an engine endpoint (unix:///path or tcp://host:port)");
      swarm.nodes.push_back(*endpoint);
    }
  }
  return swarm;
}

}  // namespace

FleetSettings load_settings(const FleetHome& home) {
  FleetSettings settings;
  const char* other = std::getenv("LLMSPELL_FLEET_SETTINGS");
  auto path = other && *other ? std::filesystem::path(other) : home.configs_dir / kSettingsFile;
  if (std::filesystem::exists(path)) {
    toml::table table;
    try {
      table = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
      throw InvalidInput(path.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                         std::string(e.description()));
    }
    auto where = [&](const toml::node& node, const std::string& key) {
      return path.string() + ":" + std::to_string(node.source().begin.line) + ": " + key;
    };
    for (const auto& [section, node] : table) {
      const std::string name(section.str());
      if (name == "kernels" && node.is_table()) {
        read_kernels(*node.as_table(), settings.kernels, where);
      } else if (name == "templates" && node.is_table()) {
        for (const auto& [template_name, template_node] : *node.as_table()) {
          if (!template_node.is_table())
            throw InvalidInput(where(template_node, "templates." + std::string(template_name.str())) +
                               ": must be a table");
          settings.templates.push_back(
              read_template(std::string(template_name.str()), *template_node.as_table(), where));
        }
      } else if (name == "swarm" && node.is_table()) {
        settings.swarm = read_swarm(*node.as_table(), where);
      } else {
        throw InvalidInput(where(node, name) +
                           ": unknown section (known: [kernels], [templates.NAME], [swarm])");
      }
    }
  } else if (other && *other) {
    throw InvalidInput("LLMSPELL_FLEET_SETTINGS=" + std::string(other) + ": no such file");
  }
  if (const char* ports = std::getenv("LLMSPELL_FLEET_PORTS"); ports && *ports)
    settings.kernels.ports = PortRange::parse(ports, "LLMSPELL_FLEET_PORTS");
  // Node endpoints, comma separated: a test swarm's come and go with it.
  if (const char* nodes = std::getenv("LLMSPELL_FLEET_SWARM_NODES"); nodes && *nodes) {
    settings.swarm.nodes.clear();
    std::string list = nodes;
    for (std::size_t at = 0; at <= list.size();) {
      auto comma = std::min(list.find(',', at), list.size());
      if (comma > at) settings.swarm.nodes.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  }
  return settings;
}

}  // namespace fleet
