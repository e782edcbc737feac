// What a compose file pulls from other places, put in place before its keys are read: the
// resources of `include`d files, and the `extends` base of each service merged under the service's
// own keys (compose's merge rules: mappings merge, command/entrypoint/healthcheck.test replace,
// key=value lists merge by key, other lists append without duplicates, `!reset` removes and
// `!override` replaces). Paths relative to another file are made absolute against its folder.
#pragma once

#include <filesystem>
#include <vector>

#include "compose/interpolate.hpp"
#include "compose/yaml_tree.hpp"

namespace fleet::compose {

// Rewrites `root` (the tree of `file`) in place. `stack` holds the files being included, to refuse
// cycles; `included` collects every file pulled in. Throws ComposeError naming the file at fault.
void resolve_composition(YamlNode& root, const std::filesystem::path& file, const Environment& env,
                         std::vector<std::filesystem::path>& included,
                         std::vector<std::filesystem::path> stack = {});

// Reads an included file's tree as a project of its own, throwing what loading it alone would
// (loader.cpp).
void validate_included(const YamlNode& tree, const std::filesystem::path& file,
                       const std::filesystem::path& project_dir, const Environment& env);

// Merges `over` onto `base` as compose merges a service onto the one it extends; `path` is the
// key path of `base` with the service name as "*" ("services.*").
YamlNode merge_nodes(const YamlNode& base, const YamlNode& over, const std::string& path);

}  // namespace fleet::compose
