// Every label the fleet puts on engine objects, in one place. Labels are the source of truth:
// what the fleet knows about a kernel it reads back from them, so a restarted manager loses nothing.
#pragma once

namespace fleet::labels {

// The reserved prefix: user labels under it are refused.
inline constexpr const char* kPrefix = "dev.llmspell.fleet.";

inline constexpr const char* kKernel = "dev.llmspell.fleet.kernel";       // "true" on every kernel container
inline constexpr const char* kKernelId = "dev.llmspell.fleet.kernel-id";  // e.g. "kernel-3f9a1c2b"
inline constexpr const char* kLanguage = "dev.llmspell.fleet.language";   // lua, javascript
inline constexpr const char* kConfig = "dev.llmspell.fleet.config";     // config file name, e.g. openai.toml
inline constexpr const char* kBuiltBy = "dev.llmspell.fleet.built-by";  // on images the fleet built

}  // namespace fleet::labels
