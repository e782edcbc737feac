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

void Client::remove_image(const std::string& name, bool force) {
  Call c{.method = "DELETE", .path = "/images/" + path_segment(name), .what = "remove image " + name};
  c.query.flag("force", force);
  call(std::move(c));
}

}  // namespace fleet::engine
