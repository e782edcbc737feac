// build: the images of the selected services that have a build section, offline through the engine.
#include <set>

#include "fleet/errors.hpp"
#include "fleet/operations.hpp"
#include "fleet/service_checks.hpp"

namespace fleet {

BuildReport build(Context& ctx, const compose::Project& p, const compose::SelectionRequest& request,
                  bool no_cache) {
  auto selection = compose::select_services(p, request);
  // Nothing is built when one build asks for what the classic builder cannot do.
  if (auto refused = unsupported_build_keys(p, selection.targeted); !refused.empty()) {
    std::string message;
    for (const auto& line : refused) message += (message.empty() ? "" : "\n") + line;
    throw InvalidInput(message);
  }
  BuildReport report;
  std::set<std::string> images;
  for (const auto& name : selection.targeted) {
    const compose::Service& s = p.services.at(name);
    if (!s.build || !images.insert(s.image).second) continue;  // services sharing an image build it once
    report.images.push_back(build_image(ctx, image_build_of(*s.build, s.image, no_cache)));
  }
  return report;
}

}  // namespace fleet
