// Image endpoints: build from a tar context, import a rootfs, inspect, list, remove.
#include "engine/client.hpp"

namespace fleet::engine {
namespace {
// Build and import progress records: {"stream": ...}, {"status": ...}, {"aux": {"ID": ...}},
// and on failure {"error": ..., "errorDetail": {...}} with HTTP 200 already sent.
struct ProgressReader {
  const ProgressSink& progress;
  std::string image_id;
  std::string error;
  std::string last_text;
  bool operator()(const nlohmann::json& j) {
    if (j.contains("error")) {
      error = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
      return true;
    }
    if (j.contains("aux") && j["aux"].is_object() && j["aux"].contains("ID"))
      image_id = j["aux"]["ID"].get<std::string>();
    for (const char* key : {"stream", "status"}) {
      if (!j.contains(key) || !j[key].is_string()) continue;
      std::string text = j[key].get<std::string>();
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      if (text.empty()) continue;
      last_text = text;
      if (progress) progress(text);
    }
    return true;
  }
};
}  // namespace

std::string Client::build_image(const std::string& context_tar, const BuildOptions& options,
                                const ProgressSink& progress) {
  Call c{.method = "POST",
         .path = "/build",
         .body = context_tar,
         .content_type = "application/x-tar",
         .timeout = options.timeout,
         .what = "build image " + options.tag};
  if (!options.tag.empty()) c.query.add("t", options.tag);
  c.query.add("dockerfile", options.dockerfile)
      .flag("rm", true)
      .flag("forcerm", true)
      .flag("nocache", options.no_cache);
  if (!options.labels.empty()) c.query.add("labels", nlohmann::json(options.labels).dump());
  if (!options.build_args.empty()) c.query.add("buildargs", nlohmann::json(options.build_args).dump());
  if (!options.cache_from.empty()) c.query.add("cachefrom", nlohmann::json(options.cache_from).dump());
  // The classic builder reads extrahosts as one comma-separated "host:ip" list.
  if (!options.extra_hosts.empty()) {
    std::string hosts;
    for (const auto& h : options.extra_hosts) hosts += (hosts.empty() ? "" : ",") + h;
    c.query.add("extrahosts", hosts);
  }
  if (!options.network_mode.empty()) c.query.add("networkmode", options.network_mode);
  if (!options.target.empty()) c.query.add("target", options.target);
  if (options.shm_size) c.query.add("shmsize", static_cast<long long>(*options.shm_size));
  if (options.pull) c.query.flag("pull", true);
  ProgressReader reader{progress};
  call_json_lines(std::move(c), std::ref(reader));
  if (!reader.error.empty())
    throw BuildError("build image " + options.tag + ": " + reader.error, 0, reader.error);
  if (reader.image_id.empty() && !options.tag.empty()) reader.image_id = inspect_image(options.tag).id;
  return reader.image_id;
}

std::string Client::import_image(const std::string& rootfs_tar, const std::string& reference,
                                 const std::vector<std::string>& changes, const ProgressSink& progress) {
  Call c{.method = "POST",
         .path = "/images/create",
         .body = rootfs_tar,
         .content_type = "application/x-tar",
         .timeout = std::chrono::minutes(30),
         .what = "import image " + reference};
  auto colon = reference.rfind(':');
  bool has_tag = colon != std::string::npos && reference.find('/', colon) == std::string::npos;
  c.query.add("fromSrc", "-").add("repo", has_tag ? reference.substr(0, colon) : reference);
  if (has_tag) c.query.add("tag", reference.substr(colon + 1));
  for (const auto& change : changes) c.query.add("changes", change);
  ProgressReader reader{progress};
  call_json_lines(std::move(c), std::ref(reader));
  if (!reader.error.empty())
    throw BuildError("import image " + reference + ": " + reader.error, 0, reader.error);
  // The last status record of an import is the new image's id.
  return reader.last_text;
}

ImageInspect Client::inspect_image(const std::string& name) {
  return call_json({.path = "/images/" + path_segment(name) + "/json", .what = "inspect image " + name})
      .get<ImageInspect>();
}

std::vector<ImageSummary> Client::list_images(const Filters& filters) {
  Call c{.path = "/images/json", .what = "list images"};
  c.query.filters(filters);
  return call_json(std::move(c)).get<std::vector<ImageSummary>>();
}

void Client::tag_image(const std::string& source, const std::string& target) {
  // "repo:tag" splits at the last colon after the last slash (a registry's port is not a tag).
  auto colon = target.rfind(':');
  bool has_tag = colon != std::string::npos && target.find('/', colon) == std::string::npos;
  Call c{.method = "POST",
         .path = "/images/" + path_segment(source) + "/tag",
         .what = "tag image " + source + " as " + target};
  c.query.add("repo", has_tag ? target.substr(0, colon) : target)
      .add("tag", has_tag ? target.substr(colon + 1) : "latest");
  call(std::move(c));
}

void Client::pull_image(const std::string& reference, const ProgressSink& progress) {
  auto colon = reference.rfind(':');
  bool has_tag = colon != std::string::npos && reference.find('/', colon) == std::string::npos;
  Call c{.method = "POST",
         .path = "/images/create",
         .timeout = std::chrono::minutes(30),
         .what = "pull image " + reference};
  c.query.add("fromImage", has_tag ? reference.substr(0, colon) : reference)
      .add("tag", has_tag ? reference.substr(colon + 1) : "latest");
  // A failed pull may answer 200 and report the error inside the stream.
  ProgressReader reader{progress};
  call_json_lines(std::move(c), std::ref(reader));
  if (!reader.error.empty())
    throw ServerError("pull image " + reference + ": " + reader.error, 0, reader.error);
}

void Client::remove_image(const std::string& name, bool force) {
  Call c{.method = "DELETE", .path = "/images/" + path_segment(name), .what = "remove image " + name};
  c.query.flag("force", force);
  call(std::move(c));
}

}  // namespace fleet::engine
