// Volume endpoints.
#include "engine/client.hpp"

namespace fleet::engine {

VolumeInfo Client::create_volume(const std::string& name, const Labels& labels, const std::string& driver,
                                 const std::map<std::string, std::string>& driver_opts) {
  nlohmann::json body = {{"Name", name}, {"Driver", driver}, {"Labels", labels}};
  if (!driver_opts.empty()) body["DriverOpts"] = driver_opts;
  return call_json(json_call("POST", "/volumes/create", body, "create volume " + name)).get<VolumeInfo>();
}

std::vector<VolumeInfo> Client::list_volumes(const Filters& filters) {
  Call c{.path = "/volumes", .what = "list volumes"};
  c.query.filters(filters);
  nlohmann::json j = call_json(std::move(c));
  if (!j.contains("Volumes") || j["Volumes"].is_null()) return {};
  return j["Volumes"].get<std::vector<VolumeInfo>>();
}

void Client::remove_volume(const std::string& name, bool force) {
  Call c{.method = "DELETE", .path = "/volumes/" + path_segment(name), .what = "remove volume " + name};
  c.query.flag("force", force);
  call(std::move(c));
}

}  // namespace fleet::engine
