// Network endpoints.
#include "engine/client.hpp"

namespace fleet::engine {

std::string Client::create_network(const NetworkCreateOptions& options) {
  nlohmann::json body = {{"Name", options.name},         {"Driver", options.driver},
                         {"Internal", options.internal}, {"Attachable", options.attachable},
                         {"CheckDuplicate", true},       {"Labels", options.labels}};
  if (options.enable_ipv6) body["EnableIPv6"] = true;
  if (!options.options.empty()) body["Options"] = options.options;
  if (options.ipam) {
    nlohmann::json config = nlohmann::json::array();
    for (const auto& pool : options.ipam->config) {
      nlohmann::json c = nlohmann::json::object();
      if (!pool.subnet.empty()) c["Subnet"] = pool.subnet;
      if (!pool.ip_range.empty()) c["IPRange"] = pool.ip_range;
      if (!pool.gateway.empty()) c["Gateway"] = pool.gateway;
      if (!pool.aux_addresses.empty()) c["AuxiliaryAddresses"] = pool.aux_addresses;
      config.push_back(c);
    }
    body["IPAM"] = {{"Driver", options.ipam->driver.empty() ? "default" : options.ipam->driver},
                    {"Config", config},
                    {"Options", options.ipam->options}};
  }
  return call_json(json_call("POST", "/networks/create", body, "create network " + options.name))
      .at("Id")
      .get<std::string>();
}

NetworkInfo Client::inspect_network(const std::string& id) {
  return call_json({.path = "/networks/" + path_segment(id), .what = "inspect network " + id})
      .get<NetworkInfo>();
}

std::vector<NetworkInfo> Client::list_networks(const Filters& filters) {
  Call c{.path = "/networks", .what = "list networks"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<NetworkInfo>>();
}

void Client::remove_network(const std::string& id) {
  call({.method = "DELETE", .path = "/networks/" + path_segment(id), .what = "remove network " + id});
}

void Client::connect_network(const std::string& network, const std::string& container,
                             const std::vector<std::string>& aliases) {
  nlohmann::json body = {{"Container", container}};
  if (!aliases.empty()) body["EndpointConfig"] = {{"Aliases", aliases}};
  call(json_call("POST", "/networks/" + path_segment(network) + "/connect", body,
                 "connect container " + container + " to network " + network));
}

void Client::connect_endpoint(const std::string& network, const std::string& container,
                              const nlohmann::json& endpoint_settings) {
  nlohmann::json body = {{"Container", container}};
  if (endpoint_settings.is_object() && !endpoint_settings.empty()) body["EndpointConfig"] = endpoint_settings;
  call(json_call("POST", "/networks/" + path_segment(network) + "/connect", body,
                 "connect container " + container + " to network " + network));
}

void Client::disconnect_network(const std::string& network, const std::string& container, bool force) {
  call(json_call("POST", "/networks/" + path_segment(network) + "/disconnect",
                 {{"Container", container}, {"Force", force}},
                 "disconnect container " + container + " from network " + network));
}

}  // namespace fleet::engine
