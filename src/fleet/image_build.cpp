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

BuildReport::Image build_image(Context& ctx, const ImageBuild& b) {
  if (!std::filesystem::is_regular_file(b.context / b.dockerfile))
    throw InvalidInput("no " + b.dockerfile + " in the build context " + b.context.string() +
                       (b.context.string().find("docker/kernel") != std::string::npos
                            ? " (the kernel's context is staged by `make build`)"
                            : ""));
  util::TarWriter context;
  context.add_tree(b.context);
  const std::string tar = context.finish();
  const std::string hash = util::sha256_hex(b.dockerfile + "\n" + tar);
  const std::string object = "Image " + b.tag;

  std::string previous;
  try {
    engine::ImageInspect existing = ctx.client.inspect_image(b.tag);
    previous = existing.id;
    auto label = existing.labels.find(labels::kContextHash);
    if (!b.no_cache && label != existing.labels.end() && label->second == hash)
      return {b.tag, existing.id, false};
  } catch (const engine::NotFoundError&) {
  }

  ctx.progress({object, "Building", ProgressEvent::Kind::Working});
  std::string id =
      ctx.client.build_image(tar,
                             {.tag = b.tag,
                              .dockerfile = b.dockerfile,
                              .labels = {{labels::kBuiltBy, "llmspell-fleet"}, {labels::kContextHash, hash}},
                              .no_cache = b.no_cache},
                             [&](std::string_view line) {
                               ctx.progress({object, std::string(line), ProgressEvent::Kind::Working});
                             });
  ctx.progress({object, "Built", ProgressEvent::Kind::Done});
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
