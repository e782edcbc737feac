#include "fleet/settings.hpp"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <cstdlib>

#include "fleet/errors.hpp"
#include "util/units.hpp"

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

FleetSettings load_settings(const FleetHome& home) {
  FleetSettings settings;
  auto path = home.configs_dir / kSettingsFile;
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
      if (section.str() != "kernels" || !node.is_table())
        throw InvalidInput(where(node, std::string(section.str())) + ": unknown section (known: [kernels])");
      KernelDefaults& k = settings.kernels;
      for (const auto& [key_name, value] : *node.as_table()) {
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
          if (!bytes)
            throw InvalidInput(where(value, key) + ": \"" + text() + "\" is not a size (e.g. 512m)");
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
          throw InvalidInput(where(value, key) +
                             ": unknown key (known: language, config, image, memory, cpus, pids_limit, "
                             "port_range, publish_ip)");
        }
      }
    }
  }
  if (const char* ports = std::getenv("LLMSPELL_FLEET_PORTS"); ports && *ports)
    settings.kernels.ports = PortRange::parse(ports, "LLMSPELL_FLEET_PORTS");
  return settings;
}

}  // namespace fleet
