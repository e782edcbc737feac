// clean: down with volumes, the images the project's services build, and what dead test runs left
// behind. An image still used by a container outside the project (a spawned kernel) is kept.
#include <set>

#include "fleet/labels.hpp"
#include "fleet/operations.hpp"
#include "fleet/reaper.hpp"

namespace fleet {

CleanReport clean(Context& ctx, const compose::Project& p) {
  CleanReport r;
  r.down = down(ctx, p, {.volumes = true});
  std::set<std::string> tags;
  for (const auto& [name, s] : p.services)
    if (s.build) tags.insert(s.image);
  for (const auto& tag : tags) {
    try {
      engine::ImageInspect image = ctx.client.inspect_image(tag);
      if (!image.labels.count(labels::kBuiltBy)) continue;  // not ours to remove
      ctx.client.remove_image(image.id, false);
      ++r.images;
      ctx.progress({"Image " + tag, "Removed", ProgressEvent::Kind::Done});
    } catch (const engine::NotFoundError&) {
    } catch (const engine::ConflictError& e) {
      ctx.warn("Image " + tag, std::string("kept: ") + e.daemon_message());
    }
  }
  r.images += remove_replaced_images(ctx);
  r.test_leftovers = reap_dead_test_runs(ctx.client);
  return r;
}

}  // namespace fleet
