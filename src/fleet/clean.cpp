// clean: down with volumes, the images the project built, and what dead test runs left behind.
#include "fleet/labels.hpp"
#include "fleet/project.hpp"
#include "fleet/reaper.hpp"

namespace fleet {

CleanResult clean(ProjectContext& ctx) {
  CleanResult r;
  r.down = down(ctx, {.volumes = true});
  for (const auto& image :
       ctx.client.list_images({{"label",
                                {std::string(labels::kBuiltBy) + "=llmspell-fleet",
                                 std::string(labels::kComposeProject) + "=" + ctx.project.name}}})) {
    try {
      ctx.client.remove_image(image.id, true);
      ++r.images;
      ctx.progress({"Image " + (image.repo_tags.empty() ? image.id : image.repo_tags.front()), "Removed",
                    ProgressEvent::Kind::Done});
    } catch (const engine::NotFoundError&) {
    }
  }
  r.test_leftovers = reap_dead_test_runs(ctx.client);
  return r;
}

}  // namespace fleet
