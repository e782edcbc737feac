// Every label the fleet puts on engine objects, in one place. Labels are the source of truth:
// what the fleet knows about a container it reads back from them, so a manager that was killed
// loses nothing. Compose's own labels are set too, so `docker compose ps` and Debian's
// `docker-compose ps` see the fleet's containers as their own.
#pragma once

namespace fleet::labels {

// The fleet's reserved prefix: user labels under it are refused.
inline constexpr const char* kPrefix = "dev.llmspell.fleet.";

// On every container the fleet creates. Membership is decided by these as written on the container:
// a label the container only inherited from its image never counts (observe.hpp).
inline constexpr const char* kManaged = "dev.llmspell.fleet.managed";  // "true"
inline constexpr const char* kOrigin = "dev.llmspell.fleet.origin";    // "compose" or "spawned"

// On every kernel container, spawned or a replica of a compose service.
inline constexpr const char* kKernel = "dev.llmspell.fleet.kernel";       // "true"
inline constexpr const char* kKernelId = "dev.llmspell.fleet.kernel-id";  // e.g. "kernel-3f9a1c2b"
inline constexpr const char* kLanguage = "dev.llmspell.fleet.language";   // lua, javascript
inline constexpr const char* kConfig = "dev.llmspell.fleet.config";  // config file name, e.g. openai.toml
inline constexpr const char* kOwner = "dev.llmspell.fleet.owner";    // who asked for it (an OS user name)
// The identity of the template a spawned kernel is a replica of: find and the warm pool match on it.
inline constexpr const char* kTemplate = "dev.llmspell.fleet.template";
// On kernels made for a warm pool (the template's identity). Labels are fixed at creation, so what
// changes later is in the name: llmspell-filling-<id> while it starts, llmspell-<id> once it is
// ready (paused) or handed out, llmspell-<id>--<owner> once its owner is known.
inline constexpr const char* kPool = "dev.llmspell.fleet.pool";
// On kernels run for a Jupyter client by `kernel-launch`: the connection file it was given. Such a
// kernel is that client's session: find never hands it out, and a launcher restarted with the same
// file replaces it.
inline constexpr const char* kLauncher = "dev.llmspell.fleet.launcher";

// On images the fleet built: who, and the sha256 of the build context (same content: same image).
inline constexpr const char* kBuiltBy = "dev.llmspell.fleet.built-by";  // "llmspell-fleet"
inline constexpr const char* kContextHash = "dev.llmspell.fleet.context-hash";

// Compose's labels (docker/compose pkg/api/labels.go).
inline constexpr const char* kComposeProject = "com.docker.compose.project";
inline constexpr const char* kComposeService = "com.docker.compose.service";
inline constexpr const char* kComposeNumber = "com.docker.compose.container-number";
inline constexpr const char* kComposeOneoff = "com.docker.compose.oneoff";
inline constexpr const char* kComposeConfigHash = "com.docker.compose.config-hash";
inline constexpr const char* kComposeWorkingDir = "com.docker.compose.project.working_dir";
inline constexpr const char* kComposeConfigFiles = "com.docker.compose.project.config_files";
inline constexpr const char* kComposeVersion = "com.docker.compose.version";
inline constexpr const char* kComposeNetwork = "com.docker.compose.network";
inline constexpr const char* kComposeVolume = "com.docker.compose.volume";
inline constexpr const char* kComposeImage =
    "com.docker.compose.image";  // image id the container was made from

// The compose version the labels claim: the one Debian ships, whose `ps` reads them.
inline constexpr const char* kComposeVersionValue = "1.29.2";

}  // namespace fleet::labels
