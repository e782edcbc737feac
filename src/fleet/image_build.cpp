// One identity for each image the fleet builds: every path that builds llmspell:latest (make
// docker-up's `build`, `build --context`, `up` and `spawn` when it is missing) sends the same
// context with the same labels, so none of them makes running kernels look outdated. The context's
// sha256 is a label: a rebuild of unchanged content keeps the image, and an image a rebuild replaced
// is removed once nothing uses it.
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "util/sha256.hpp"
#include "util/tar.hpp"

namespace fleet {

ImageBuild image_build_of(const compose::BuildSpec& spec, const std::string& tag, bool no_cache) {
  return {.context = spec.context,
          .dockerfile = spec.dockerfile_inline.empty() ? spec.dockerfile : kInlineDockerfile,
          .tag = tag,
          .no_cache = no_cache || spec.no_cache,
          .dockerfile_inline = spec.dockerfile_inline,
          .args = spec.args,
          .labels = spec.labels,
          .cache_from = spec.cache_from,
          .extra_hosts = spec.extra_hosts,
          .tags = spec.tags,
          .network = spec.network,
          .target = spec.target,
          .shm_size = spec.shm_size,
          .pull = spec.pull};
}

namespace {
// What else decides the image besides the context: part of its identity. Empty for a plain build, so
// the kernel image's identity is what it always was.
std::string build_settings(const ImageBuild& b) {
  nlohmann::json j = nlohmann::json::object();
  if (!b.args.empty()) j["args"] = b.args;
  if (!b.labels.empty()) j["labels"] = b.labels;
  if (!b.cache_from.empty()) j["cache_from"] = b.cache_from;
  if (!b.extra_hosts.empty()) j["extra_hosts"] = b.extra_hosts;
  if (!b.network.empty()) j["network"] = b.network;
  if (!b.target.empty()) j["target"] = b.target;
  if (b.shm_size) j["shm_size"] = *b.shm_size;
  if (b.pull) j["pull"] = true;
  return j.empty() ? std::string() : j.dump() + "\n";
}
}  // namespace

BuildReport::Image build_image(Context& ctx, const ImageBuild& b) {
  const bool inline_file = !b.dockerfile_inline.empty();
  if (!inline_file && !std::filesystem::is_regular_file(b.context / b.dockerfile))
    throw InvalidInput("no " + b.dockerfile + " in the build context " + b.context.string() +
                       (b.context.string().find("docker/kernel") != std::string::npos
                            ? " (the kernel's context is staged by `make build`)"
                            : ""));
  for (const auto& [key, value] : b.labels)
    if (key.rfind(labels::kPrefix, 0) == 0)
      throw InvalidInput("build label " + key + " uses the fleet's reserved prefix " + labels::kPrefix);
  util::TarWriter context;
  context.add_tree(b.context);
  // Added last: an archive's later entry wins, so a file of that name in the context cannot shadow it.
  if (inline_file) context.add_file(b.dockerfile, b.dockerfile_inline);
  const std::string tar = context.finish();
  const std::string hash = util::sha256_hex(b.dockerfile + "\n" + build_settings(b) + tar);
  const std::string object = "Image " + b.tag;

  auto tag_all = [&](const std::string& id) {
    for (const auto& extra : b.tags) {
      ctx.client.tag_image(id, extra);
      ctx.progress({"Image " + extra, "Tagged", ProgressEvent::Kind::Done});
    }
  };
  std::string previous;
  try {
    engine::ImageInspect existing = ctx.client.inspect_image(b.tag);
    previous = existing.id;
    auto label = existing.labels.find(labels::kContextHash);
    if (!b.no_cache && label != existing.labels.end() && label->second == hash) {
      tag_all(existing.id);
      return {b.tag, existing.id, false};
    }
  } catch (const engine::NotFoundError&) {
  }

  ctx.progress({object, "Building", ProgressEvent::Kind::Working});
  engine::Labels image_labels = b.labels;
  image_labels[labels::kBuiltBy] = "llmspell-fleet";
  image_labels[labels::kContextHash] = hash;
  std::string id =
      ctx.client.build_image(tar,
                             {.tag = b.tag,
                              .dockerfile = b.dockerfile,
                              .labels = image_labels,
                              .no_cache = b.no_cache,
                              .build_args = b.args,
                              .cache_from = b.cache_from,
                              .extra_hosts = b.extra_hosts,
                              .network_mode = b.network,
                              .target = b.target,
                              .shm_size = b.shm_size,
                              .pull = b.pull},
                             [&](std::string_view line) {
                               ctx.progress({object, std::string(line), ProgressEvent::Kind::Working});
                             });
  ctx.progress({object, "Built", ProgressEvent::Kind::Done});
  tag_all(id);
  if (!previous.empty() && previous != id) remove_replaced_images(ctx);
  return {b.tag, id, true};
}

int remove_replaced_images(Context& ctx) {
  int removed = 0;
  for (const auto& image : ctx.client.list_images(
           {{"dangling", {"true"}}, {"label", {std::string(labels::kBuiltBy) + "=llmspell-fleet"}}})) {
    try {
      ctx.client.remove_image(image.id, false);
      ++removed;
    } catch (const engine::NotFoundError&) {
    } catch (const engine::ConflictError&) {
      // Still the image of a container (one not yet recreated): removed by a later run.
    }
  }
  return removed;
}

std::string ensure_kernel_image(Context& ctx, const std::string& tag) {
  try {
    engine::ImageInspect image = ctx.client.inspect_image(tag);
    check_image_labels(image, tag);
    return image.id;
  } catch (const engine::NotFoundError&) {
    // Only the fleet's own kernel image is built when missing; any other name is most likely a typo
    // and must not become a new tag of the kernel image.
    if (tag != ctx.settings.kernels.image)
      throw InvalidInput("image " + tag + " is not on this engine (only the kernel image, " +
                         ctx.settings.kernels.image + ", is built when missing)");
    return build_image(ctx, {.context = ctx.home.kernel_context, .tag = tag}).id;
  }
}

void check_image_labels(const engine::ImageInspect& image, const std::string& name) {
  for (const char* key : {labels::kManaged, labels::kOrigin, labels::kKernel, labels::kKernelId,
                          labels::kOwner, labels::kTemplate})
    if (image.labels.count(key))
      throw InvalidInput("image " + name + " carries the fleet's container label " + key +
                         " (made by `docker commit` of a fleet container?): its containers could not be told "
                         "from the fleet's own; build the image instead");
}

}  // namespace fleet
