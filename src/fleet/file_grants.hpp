// Secrets and configs in containers, as compose v2 places them outside swarm: one backed by a file is
// bind-mounted read-only at its target (uid, gid and mode ignored, as compose does); one whose content
// the fleet holds (an environment secret or config, an inline config) is copied into the created
// container before it starts, with its mode (default 0444) and owner. The content is never put into
// labels, errors or progress: only the grant's key and target are named.
#pragma once

#include <string>
#include <vector>

#include "compose/model.hpp"
#include "engine/api.hpp"

namespace fleet {

enum class GrantKind { Secret, Config };

// "secrets" or "configs": the key in the file.
const char* grant_key(GrantKind kind);
// Where the grant lands: its target, else /run/secrets/<source> (secrets) or /<source> (configs); a
// relative target is taken under that base.
std::string grant_target(GrantKind kind, const compose::FileGrant& grant);
// The top-level definition a grant names; throws InvalidInput when there is none.
const compose::FileObjectDef& grant_definition(const compose::Project& project, GrantKind kind,
                                               const compose::FileGrant& grant);

// Bind strings ("<file>:<target>:ro") for the service's file-backed grants.
std::vector<std::string> grant_binds(const compose::Project& project, const compose::Service& service);

// The service's grants whose content is copied in, as one tar to extract at "/" (missing parent
// folders are made by the engine, root-owned 0755). Empty string when there is none.
std::string grant_archive(const compose::Project& project, const compose::Service& service);
// Copies them into container `id` (created, not started). Errors name the grant, never its content.
void put_grants(engine::Api& client, const compose::Project& project, const compose::Service& service,
                const std::string& id);

// What `up` refuses before anything is created (external, undefined, a missing file or variable, a
// read-only service asked to receive a copy) and what it warns about (uid/gid/mode on a file grant).
void check_grants(const compose::Project& project, const compose::Service& service,
                  std::vector<std::string>& warnings);

}  // namespace fleet
