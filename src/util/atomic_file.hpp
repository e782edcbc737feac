// Files other processes read while we rewrite them (connection files, state): written to a
// temporary beside the target, flushed to disk, then renamed over it, so a reader sees the old
// content or the new, never half of either.
#pragma once

#include <filesystem>
#include <string_view>

namespace fleet::util {

// Throws std::runtime_error naming the path and the system's reason.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);

}  // namespace fleet::util
