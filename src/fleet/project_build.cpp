// build: the images of the selected services that have a build section, offline through the engine.
#include "fleet/errors.hpp"
#include "fleet/labels.hpp"
#include "fleet/project.hpp"
#include "util/tar.hpp"

namespace fleet {

std::vector<std::string> build(ProjectContext& ctx, const compose::SelectionRequest& request, bool no_cache) {
  auto selection = compose::select_services(ctx.project, request);
  std::vector<std::string> built;
  std::set<std::string> images;
  for (const auto& name : selection.targeted) {
    const compose::Service& s = ctx.project.services.at(name);
    if (!s.build || !images.insert(s.image).second) continue;  // services sharing an image build it once
    if (!std::filesystem::is_regular_file(s.build->context / s.build->dockerfile))
      throw InvalidInput(
          "service " + name + ": no " + s.build->dockerfile + " in " + s.build->context.string() +
          (s.build->context.string().find("/build/docker/") != std::string::npos ? " (staged by `make build`)"
                                                                                 : ""));
    util::TarWriter context;
    context.add_tree(s.build->context);
    const std::string object = "Image " + s.image;
    ctx.progress({object, "Building", ProgressEvent::Kind::Working});
    engine::BuildOptions o{
        .tag = s.image,
        .dockerfile = s.build->dockerfile,
        .labels = {{labels::kBuiltBy, "llmspell-fleet"}, {labels::kComposeProject, ctx.project.name}},
        .no_cache = no_cache};
    ctx.client.build_image(context.finish(), o, [&](std::string_view line) {
      ctx.progress({object, std::string(line), ProgressEvent::Kind::Working});
    });
    ctx.progress({object, "Built", ProgressEvent::Kind::Done});
    built.push_back(s.image);
  }
  return built;
}

}  // namespace fleet
