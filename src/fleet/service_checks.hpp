// What `up` refuses before it creates anything, beyond what the loader already refused: settings this
// engine cannot carry out (by its API version), combinations the engine would reject halfway through
// a run, and secrets or configs that cannot be placed. Pure: the engine's API version is an input.
#pragma once

#include <string>
#include <vector>

#include "compose/model.hpp"
#include "compose/profiles.hpp"
#include "engine/version.hpp"

namespace fleet {

// Throws InvalidInput naming the file, line and key of the first refusal; appends warnings (settings
// the engine ignores) one line each.
void check_services(const compose::Project& project, const compose::Selection& selection,
                    engine::ApiVersion api, std::vector<std::string>& warnings);

// Networks the selected services use that this engine cannot create as written.
void check_networks(const compose::Project& project, const compose::Selection& selection,
                    engine::ApiVersion api);

// The reasons the engine's classic builder (POST /build without BuildKit) cannot honour build keys, one
// line per key of the selected services that build, e.g. "services.web.build.ssh: the engine's classic
// builder cannot use ssh (needs BuildKit)". Empty when every build can run.
std::vector<std::string> unsupported_build_keys(const compose::Project& project,
                                                const std::vector<std::string>& services);

}  // namespace fleet
