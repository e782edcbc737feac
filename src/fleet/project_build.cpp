// build: the images of the selected services that have a build section, offline through the engine.
#include <set>

#include "fleet/errors.hpp"
#include "fleet/operations.hpp"

namespace fleet {

BuildReport build(Context& ctx, const compose::Project& p, const compose::SelectionRequest& request,
                  bool no_cache) {
  auto selection = compose::select_services(p, request);
  BuildReport report;
  std::set<std::string> images;
  for (const auto& name : selection.targeted) {
    const compose::Service& s = p.services.at(name);
    if (!s.build || !images.insert(s.image).second) continue;  // services sharing an image build it once
    report.images.push_back(build_image(ctx, {.context = s.build->context,
                                              .dockerfile = s.build->dockerfile,
                                              .tag = s.image,
                                              .no_cache = no_cache}));
  }
  return report;
}

}  // namespace fleet
