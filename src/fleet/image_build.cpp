#include "fleet/image_build.hpp"

#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "util/tar.hpp"

namespace fleet {

std::string build_image(engine::Client& client, const ImageBuildOptions& options,
                        const engine::ProgressSink& progress) {
  if (!std::filesystem::is_regular_file(options.context / "Dockerfile"))
    throw InvalidInput("no Dockerfile in the build context " + options.context.string() +
                       " (the kernel's context is staged by `make build`)");
  util::TarWriter context;
  context.add_tree(options.context);
  return client.build_image(
      context.finish(),
      {.tag = options.tag, .labels = {{labels::kBuiltBy, "llmspell-fleet"}}, .no_cache = options.no_cache},
      progress);
}

}  // namespace fleet
