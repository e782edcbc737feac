#include "fleet/file_grants.hpp"

#include <filesystem>

#include "fleet/errors.hpp"
#include "util/tar.hpp"

namespace fleet {
namespace {

const std::vector<compose::FileGrant>& grants_of(const compose::Service& s, GrantKind kind) {
  return kind == GrantKind::Secret ? s.secrets : s.configs;
}

const std::map<std::string, compose::FileObjectDef>& definitions(const compose::Project& p, GrantKind kind) {
  return kind == GrantKind::Secret ? p.secrets : p.configs;
}

// The content the fleet copies in, or nullopt for a grant backed by a file (bind-mounted).
std::optional<std::string> copied_content(const compose::FileObjectDef& def) {
  if (def.content) return def.content;
  if (!def.environment.empty()) return def.environment_value;
  return std::nullopt;
}

bool copied(const compose::FileObjectDef& def) {
  return def.content || !def.environment.empty();
}

unsigned parse_id(const std::string& text, const std::string& path) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    throw InvalidInput(path + ": \"" + text + "\" is not a numeric id");
  return static_cast<unsigned>(std::stoul(text));
}

// The owner of a copied file: the grant's uid/gid, else the service's numeric user "uid[:gid]", else root.
std::pair<unsigned, unsigned> owner(const compose::Service& s, const compose::FileGrant& g,
                                    const std::string& path) {
  unsigned uid = 0, gid = 0;
  const auto colon = s.user.find(':');
  const std::string user = s.user.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : s.user.substr(colon + 1);
  auto numeric = [](const std::string& t) {
    return !t.empty() && t.size() <= 9 && t.find_first_not_of("0123456789") == std::string::npos;
  };
  if (numeric(user)) uid = static_cast<unsigned>(std::stoul(user));
  if (numeric(group)) gid = static_cast<unsigned>(std::stoul(group));
  if (!g.uid.empty()) uid = parse_id(g.uid, path + ".uid");
  if (!g.gid.empty()) gid = parse_id(g.gid, path + ".gid");
  return {uid, gid};
}

std::string grant_path(const compose::Service& s, GrantKind kind, const compose::FileGrant& g) {
  return "services." + s.name + "." + grant_key(kind) + "." + g.source;
}

}  // namespace

const char* grant_key(GrantKind kind) {
  return kind == GrantKind::Secret ? "secrets" : "configs";
}

std::string grant_target(GrantKind kind, const compose::FileGrant& g) {
  const std::string base = kind == GrantKind::Secret ? "/run/secrets/" : "/";
  if (g.target.empty()) return base + g.source;
  if (g.target.front() == '/') return g.target;
  return base + g.target;
}

const compose::FileObjectDef& grant_definition(const compose::Project& p, GrantKind kind,
                                               const compose::FileGrant& g) {
  const auto& defs = definitions(p, kind);
  auto it = defs.find(g.source);
  if (it == defs.end())
    throw InvalidInput(std::string(grant_key(kind)) + ": \"" + g.source +
                       "\" is not defined at the top level");
  return it->second;
}

std::vector<std::string> grant_binds(const compose::Project& p, const compose::Service& s) {
  std::vector<std::string> binds;
  for (GrantKind kind : {GrantKind::Secret, GrantKind::Config})
    for (const auto& g : grants_of(s, kind)) {
      const auto& def = grant_definition(p, kind, g);
      if (def.external || copied(def)) continue;
      binds.push_back(def.file.string() + ":" + grant_target(kind, g) + ":ro");
    }
  return binds;
}

std::string grant_archive(const compose::Project& p, const compose::Service& s) {
  util::TarWriter tar;
  bool any = false;
  for (GrantKind kind : {GrantKind::Secret, GrantKind::Config})
    for (const auto& g : grants_of(s, kind)) {
      const auto& def = grant_definition(p, kind, g);
      if (def.external || !copied(def)) continue;
      auto content = copied_content(def);
      const std::string path = grant_path(s, kind, g);
      if (!content) throw InvalidInput(path + ": environment variable " + def.environment + " is not set");
      auto [uid, gid] = owner(s, g, path);
      util::TarEntry entry;
      entry.path = grant_target(kind, g).substr(1);
      entry.content = std::move(*content);
      entry.mode = static_cast<unsigned>(g.mode.value_or(0444));
      entry.uid = uid;
      entry.gid = gid;
      tar.add(entry);
      any = true;
    }
  return any ? tar.finish() : std::string();
}

void put_grants(engine::Api& client, const compose::Project& p, const compose::Service& s,
                const std::string& id) {
  std::string tar = grant_archive(p, s);
  if (tar.empty()) return;
  try {
    client.put_archive(id, "/", tar);
  } catch (const engine::EngineError& e) {
    // The engine's message names the path and the container, never the content.
    throw OperationFailed(
        "services." + s.name +
        ": secrets and configs could not be copied into the container: " + e.daemon_message());
  }
}

void check_grants(const compose::Project& p, const compose::Service& s, std::vector<std::string>& warnings) {
  for (GrantKind kind : {GrantKind::Secret, GrantKind::Config})
    for (const auto& g : grants_of(s, kind)) {
      const std::string path = grant_path(s, kind, g);
      const auto& defs = definitions(p, kind);
      auto it = defs.find(g.source);
      if (it == defs.end())
        throw InvalidInput(path + ": " + grant_key(kind) + "." + g.source +
                           " is not defined at the top level");
      const auto& def = it->second;
      const std::string top = std::string(grant_key(kind)) + "." + g.source;
      if (def.external)
        throw InvalidInput(path + ": " + top +
                           " is external: external secrets and configs exist only in swarm mode, which the "
                           "fleet does not use");
      const std::string target = grant_target(kind, g);
      if (target.find("/../") != std::string::npos || target.ends_with("/..") || target.back() == '/')
        throw InvalidInput(path + ": target \"" + target + "\" must be a file path without \"..\"");
      if (copied(def)) {
        if (!def.content && !def.environment_value)
          throw InvalidInput(path + ": environment variable " + def.environment + " required by " + top +
                             " is not set");
        if (s.read_only)
          throw InvalidInput(path + ": cannot create " + top + " in read-only service " + s.name +
                             " (the engine copies no file into a read-only root filesystem): `file` is the "
                             "sole supported source there");
        owner(s, g, path);  // numeric uid/gid
      } else {
        if (!std::filesystem::is_regular_file(def.file))
          throw InvalidInput(path + ": " + top + " file " + def.file.string() + " does not exist");
        if (!g.uid.empty() || !g.gid.empty() || g.mode)
          warnings.push_back(path + ": uid, gid and mode are ignored for a file-backed " +
                             std::string(kind == GrantKind::Secret ? "secret" : "config") +
                             " (bind-mounted as it is, as compose does outside swarm)");
      }
    }
}

}  // namespace fleet
