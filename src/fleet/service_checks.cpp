#include "fleet/service_checks.hpp"

#include <filesystem>
#include <set>

#include "fleet/container_spec.hpp"
#include "fleet/errors.hpp"
#include "fleet/file_grants.hpp"

namespace fleet {
namespace {

[[noreturn]] void refuse(const compose::Project& p, const std::string& path, const std::string& message) {
  int line = p.line_of(path);
  // The first line the loader recorded for the service when the key itself has none.
  if (!line) line = p.line_of(path.substr(0, path.find('.', path.find('.') + 1)));
  throw InvalidInput(p.source_name + (line ? ":" + std::to_string(line) : std::string()) + ": " + path +
                     ": " + message);
}

// Settings a container sharing another's network namespace cannot have: the engine would refuse them
// at create ("conflicting options"), after earlier services were already created.
void check_shared_network(const compose::Project& p, const compose::Service& s) {
  if (!shares_network(s)) return;
  const std::string path = "services." + s.name;
  const std::string why = " cannot be set with network_mode " + s.network_mode +
                          " (the container uses that container's network namespace)";
  if (!s.ports.empty()) refuse(p, path + ".ports", "published ports" + why);
  if (!s.expose.empty()) refuse(p, path + ".expose", "exposed ports" + why);
  if (!s.hostname.empty()) refuse(p, path + ".hostname", "a hostname" + why);
  if (!s.domainname.empty()) refuse(p, path + ".domainname", "a domain name" + why);
  if (!s.mac_address.empty()) refuse(p, path + ".mac_address", "a MAC address" + why);
  if (!s.dns.empty()) refuse(p, path + ".dns", "DNS servers" + why);
  if (!s.dns_search.empty()) refuse(p, path + ".dns_search", "DNS search domains" + why);
  if (!s.dns_opt.empty()) refuse(p, path + ".dns_opt", "DNS options" + why);
  if (!s.extra_hosts.empty()) refuse(p, path + ".extra_hosts", "extra hosts" + why);
  if (!s.links.empty()) refuse(p, path + ".links", "links" + why);
  if (!s.external_links.empty()) refuse(p, path + ".external_links", "links" + why);
  if (!s.networks.empty()) refuse(p, path + ".networks", "networks" + why);
}

void check_references(const compose::Project& p, const compose::Service& s) {
  const std::string path = "services." + s.name;
  auto service_named = [&](const std::string& key, const std::string& name) {
    if (!p.services.count(name)) refuse(p, path + "." + key, "refers to undefined service \"" + name + "\"");
  };
  for (const char* key : {"network_mode", "pid", "ipc"}) {
    const std::string& mode = key[0] == 'n' ? s.network_mode : key[0] == 'p' ? s.pid : s.ipc;
    if (mode.rfind("service:", 0) == 0) service_named(key, mode.substr(8));
    if ((mode.rfind("service:", 0) == 0 && mode.size() == 8) || mode == "container:")
      refuse(p, path + "." + key, "\"" + mode + "\" names nothing");
  }
  // A private IPC namespace (the engine's default) cannot be joined: the donor has to offer it.
  if (s.ipc.rfind("service:", 0) == 0) {
    const auto& donor = p.services.at(s.ipc.substr(8));
    if (donor.ipc != "shareable")
      refuse(p, path + ".ipc",
             s.ipc + " needs services." + donor.name +
                 ".ipc: shareable (the engine gives every container a private IPC namespace by default)");
  }
  for (const auto& raw : s.links) service_named("links", raw.substr(0, raw.find(':')));
  for (const auto& raw : s.volumes_from) {
    if (raw.rfind("container:", 0) == 0) {
      if (raw.size() == 10 || raw[10] == ':')
        refuse(p, path + ".volumes_from", "\"" + raw + "\" names no container");
      continue;
    }
    service_named("volumes_from", raw.substr(0, raw.find(':')));
    auto colon = raw.find(':');
    if (colon != std::string::npos && raw.substr(colon + 1) != "ro" && raw.substr(colon + 1) != "rw")
      refuse(p, path + ".volumes_from", "\"" + raw + "\": the mode is ro or rw");
  }
}

void check_mounts(const compose::Project& p, const compose::Service& s) {
  for (const auto& v : s.volumes)
    if (v.type == "bind" && !v.create_host_path && !std::filesystem::exists(v.source))
      refuse(p, "services." + s.name + ".volumes",
             v.source + " does not exist and create_host_path is false (nothing was created)");
}

void check_mac_addresses(const compose::Project& p, const compose::Service& s, engine::ApiVersion api) {
  if (s.networks.empty() || shares_network(s)) return;
  const auto keys = networks_by_priority(s);
  const std::string path = "services." + s.name;
  const auto& primary = s.networks.at(keys.front());
  if (!s.mac_address.empty() && !primary.mac_address.empty() && s.mac_address != primary.mac_address)
    refuse(p, path + ".mac_address",
           "the service-level mac_address should have the same value as network " + keys.front() + "'s");
  if (api < engine::ApiVersion{1, 44})
    for (std::size_t i = 1; i < keys.size(); ++i)
      if (!s.networks.at(keys[i]).mac_address.empty())
        refuse(p, path + ".networks." + keys[i] + ".mac_address",
               "a MAC address on a network other than the primary one (" + keys.front() +
                   ") needs Engine API 1.44; this engine speaks " + api.str());
}

}  // namespace

void check_services(const compose::Project& p, const compose::Selection& sel, engine::ApiVersion api,
                    std::vector<std::string>& warnings) {
  for (const auto& name : sel.targeted) {
    const compose::Service& s = p.services.at(name);
    const std::string path = "services." + name;
    if (!s.annotations.empty() && api < engine::ApiVersion{1, 43})
      refuse(p, path + ".annotations." + s.annotations.begin()->first,
             "annotations need Engine API 1.43; this engine speaks " + api.str() +
                 " and would drop them without a word");
    if (s.healthcheck && s.healthcheck->start_interval_ns)
      warnings.push_back(path + ".healthcheck.start_interval: needs Engine API 1.44; this engine speaks " +
                         api.str() + " and ignores it (start_period still applies)");
    check_shared_network(p, s);
    check_references(p, s);
    check_mounts(p, s);
    check_mac_addresses(p, s, api);
    check_grants(p, s, warnings);
  }
}

void check_networks(const compose::Project& p, const compose::Selection& sel, engine::ApiVersion api) {
  std::set<std::string> seen;
  for (const auto& name : sel.targeted)
    for (const auto& [key, attachment] : p.services.at(name).networks) {
      if (!seen.insert(key).second) continue;
      const auto& n = p.networks.at(key);
      if (n.external) continue;
      if (n.enable_ipv4 && !*n.enable_ipv4 && api < engine::ApiVersion{1, 47})
        refuse(p, "networks." + key + ".enable_ipv4",
               "an IPv6-only network needs Engine API 1.47; this engine speaks " + api.str());
    }
}

std::vector<std::string> unsupported_build_keys(const compose::Project& p,
                                                const std::vector<std::string>& services) {
  std::vector<std::string> out;
  for (const auto& name : services) {
    const auto& s = p.services.at(name);
    if (!s.build) continue;
    for (const auto& key : s.build->unsupported) {
      std::string short_key = key.rfind("build.", 0) == 0 ? key.substr(6) : key;
      out.push_back("services." + name + "." + (key.rfind("build.", 0) == 0 ? key : "build." + key) +
                    ": the engine's classic builder cannot use " + short_key + " (needs BuildKit)");
    }
  }
  return out;
}

}  // namespace fleet
