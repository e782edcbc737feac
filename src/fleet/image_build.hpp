// Builds the fleet's images offline through the engine: a build context directory becomes a tar
// that POST /build turns into an image. Nothing is pulled.
#pragma once

#include <filesystem>
#include <string>

#include "engine/client.hpp"

namespace fleet {

struct ImageBuildOptions {
  std::filesystem::path context;  // directory with a Dockerfile
  std::string tag = "llmspell:latest";
  bool no_cache = false;
};

// Returns the image id; progress lines go to `progress`. Throws InvalidInput for a missing context.
std::string build_image(engine::Client& client, const ImageBuildOptions& options,
                        const engine::ProgressSink& progress);

}  // namespace fleet
