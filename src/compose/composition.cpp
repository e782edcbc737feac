#include "compose/composition.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "compose/error.hpp"

namespace fleet::compose {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file, const std::string& referrer, int line, const std::string& key) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ComposeError(referrer, line, key, "cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

YamlNode scalar(std::string value, int line) {
  YamlNode n;
  n.kind = YamlNode::Kind::Scalar;
  n.scalar = std::move(value);
  n.line = line;
  return n;
}

// --- paths of another folder -------------------------------------------------------------------

bool needs_rebase(const std::string& p) {
  return !p.empty() && p.front() != '/' && p.front() != '~' && p.front() != '$' &&
         p.find("://") == std::string::npos && p.rfind("git@", 0) != 0;
}

void rebase_scalar(YamlNode& n, const fs::path& dir) {
  if (n.is_scalar() && needs_rebase(n.scalar)) n.scalar = (dir / n.scalar).lexically_normal().string();
}

// A path or list of paths, short or long form ({path: ...}).
void rebase_paths(YamlNode& n, const fs::path& dir) {
  if (n.is_scalar()) rebase_scalar(n, dir);
  if (n.is_seq())
    for (auto& item : n.items) {
      if (item.is_map()) {
        if (auto* p = item.find("path")) rebase_scalar(*p, dir);
      } else {
        rebase_scalar(item, dir);
      }
    }
}

// The keys of a service that name host paths, made absolute against `dir`.
void rebase_service(YamlNode& service, const fs::path& dir) {
  if (!service.is_map()) return;
  if (auto* build = service.find("build")) {
    if (build->is_scalar()) rebase_scalar(*build, dir);
    if (auto* context = build->find("context")) rebase_scalar(*context, dir);
  }
  for (const char* key : {"env_file", "label_file"})
    if (auto* n = service.find(key)) rebase_paths(*n, dir);
  if (auto* extends = service.find("extends"); extends && extends->is_map())
    if (auto* file = extends->find("file")) rebase_scalar(*file, dir);
  if (auto* volumes = service.find("volumes"); volumes && volumes->is_seq())
    for (auto& v : volumes->items) {
      if (v.is_scalar() && !v.scalar.empty() && v.scalar.front() == '.') {
        auto colon = v.scalar.find(':');
        if (colon != std::string::npos)
          v.scalar = (dir / v.scalar.substr(0, colon)).lexically_normal().string() + v.scalar.substr(colon);
      } else if (v.is_map()) {
        const YamlNode* type = v.find("type");
        if (auto* source = v.find("source"); source && type && type->is_scalar() && type->scalar == "bind")
          rebase_scalar(*source, dir);
      }
    }
}

void rebase_file_objects(YamlNode& root, const fs::path& dir) {
  for (const char* section : {"secrets", "configs"})
    if (auto* defs = root.find(section); defs && defs->is_map())
      for (auto& e : defs->entries)
        if (auto* file = e.value.find("file")) rebase_scalar(*file, dir);
}

// --- merging -------------------------------------------------------------------------------------

// Lists of KEY=VALUE (environment, labels, args...) read as mappings so that they merge by key.
const std::set<std::string> kKeyValueKeys = {
    "services.*.environment",   "services.*.labels",      "services.*.annotations",
    "services.*.sysctls",       "services.*.build.args",  "services.*.build.labels",
    "services.*.deploy.labels", "services.*.storage_opt", "services.*.logging.options"};
// Lists of names read as mappings (a list entry is a key with no settings).
const std::set<std::string> kNameListKeys = {"services.*.networks", "services.*.depends_on"};
// Replaced whole, never merged.
const std::set<std::string> kReplacedKeys = {"services.*.command", "services.*.entrypoint",
                                             "services.*.healthcheck.test"};

YamlNode as_mapping(const YamlNode& n, bool key_value) {
  if (!n.is_seq()) return n;
  YamlNode out;
  out.kind = YamlNode::Kind::Mapping;
  out.line = n.line;
  for (const auto& item : n.items) {
    if (!item.is_scalar()) return n;  // not this shape: the parser will say what is wrong
    std::string key = item.scalar;
    YamlNode value;
    value.line = item.line;
    if (!key_value) value.kind = YamlNode::Kind::Mapping;  // a named network or dependency, no settings
    if (key_value) {
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = scalar(key.substr(eq + 1), item.line);
        value.interpolated = item.interpolated;
        key = key.substr(0, eq);
      }
    }
    out.erase(key);
    out.entries.push_back({key, item.line, value});
  }
  return out;
}

// What makes two list items the same: a volume's or secret's target, else the whole text.
std::string identity(const YamlNode& item, const std::string& path) {
  if (path == "services.*.volumes") {
    if (item.is_map()) {
      const YamlNode* t = item.find("target");
      return t && t->is_scalar() ? t->scalar : "";
    }
    std::stringstream ss(item.scalar);
    std::vector<std::string> parts;
    for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
    return parts.size() >= 2 ? parts[1] : item.scalar;
  }
  if (path == "services.*.secrets" || path == "services.*.configs") {
    if (item.is_map()) {
      const YamlNode* t = item.find("target");
      const YamlNode* s = item.find("source");
      return t && t->is_scalar() ? t->scalar : (s && s->is_scalar() ? s->scalar : "");
    }
    return item.scalar;
  }
  if (item.is_scalar()) return item.scalar;
  return "";  // mappings in other lists: never the same
}

}  // namespace

namespace {
// `build: ./dir` is `build: {context: ./dir}`, so a string and a mapping merge.
YamlNode as_build_mapping(const YamlNode& n) {
  if (!n.is_scalar()) return n;
  YamlNode out;
  out.kind = YamlNode::Kind::Mapping;
  out.line = n.line;
  out.entries.push_back({"context", n.line, n});
  return out;
}
std::string scalar_at(const YamlNode& n, std::string_view key) {
  const YamlNode* v = n.find(key);
  return v && v->is_scalar() ? v->scalar : "";
}
}  // namespace

YamlNode merge_nodes(const YamlNode& base, const YamlNode& over, const std::string& path) {
  if (over.tag == "!override" || kReplacedKeys.count(path)) return over;
  // Extension keys are replaced whole, as compose does (x-fleet's opt-ins are not inherited piecemeal).
  if (auto dot = path.rfind('.'); path.compare(dot == std::string::npos ? 0 : dot + 1, 2, "x-") == 0)
    return over;
  if (path == "services.*.build")
    return merge_nodes(as_build_mapping(base), as_build_mapping(over), "services.*.build.");
  // Another log driver's options mean nothing to this one.
  if (path == "services.*.logging" && base.is_map() && over.is_map() && !scalar_at(over, "driver").empty() &&
      scalar_at(over, "driver") != scalar_at(base, "driver"))
    return over;
  if (kKeyValueKeys.count(path) || kNameListKeys.count(path))
    return merge_nodes(as_mapping(base, kKeyValueKeys.count(path) > 0),
                       as_mapping(over, kKeyValueKeys.count(path) > 0),
                       path + ".");  // merged as mappings, below
  if (base.is_map() && over.is_map()) {
    YamlNode out = base;
    out.line = over.line;
    const std::string prefix = path.empty() || path.back() == '.' ? path : path + ".";
    for (const auto& e : over.entries) {
      if (e.value.tag == "!reset") {
        out.erase(e.key);
        continue;
      }
      YamlNode* existing = out.find(e.key);
      std::string child = prefix + e.key;
      if (path == "services") child = "services.*";
      if (existing)
        *existing = merge_nodes(*existing, e.value, child);
      else
        out.entries.push_back(e);
    }
    return out;
  }
  if (base.is_seq() && over.is_seq()) {
    YamlNode out = base;
    for (const auto& item : over.items) {
      std::string id = identity(item, path);
      if (!id.empty())
        std::erase_if(out.items, [&](const YamlNode& old) { return identity(old, path) == id; });
      out.items.push_back(item);
    }
    return out;
  }
  return over;
}

namespace {

// A chain of extends this long is a generated file, not a design: refused before it exhausts the stack.
constexpr std::size_t kMaxExtendsDepth = 64;

class Composer {
 public:
  Composer(const fs::path& file, const Environment& env, std::vector<fs::path>& included,
           std::vector<fs::path> stack)
      : file_(fs::absolute(file).lexically_normal()),
        shown_(file.string()),
        env_(env),
        included_(included),
        stack_(std::move(stack)) {
    stack_.push_back(file_);
  }

  void run(YamlNode& root) {
    if (auto* include = root.find("include")) {
      includes(root, *include);
      root.erase("include");
    }
    if (auto* services = root.find("services"); services && services->is_map()) {
      // Each from the file as written: a service extending one that extends another sees the chain.
      const YamlNode written = *services;
      std::vector<std::pair<fs::path, std::string>> chain;
      for (auto& e : services->entries)
        if (e.value.is_map() && e.value.find("extends"))
          e.value = extended(written, e.key, file_, chain, e.line);
    }
    drop_resets(root);  // after the merges that !reset acts on
  }

 private:
  [[noreturn]] void fail(const std::string& file, int line, const std::string& key,
                         const std::string& message) {
    throw ComposeError(file, line, key, message);
  }

  // `!reset` on a key nobody extends: the key is simply absent.
  static void drop_resets(YamlNode& n) {
    if (n.is_map()) {
      std::erase_if(n.entries, [](const YamlNode::Entry& e) { return e.value.tag == "!reset"; });
      for (auto& e : n.entries) drop_resets(e.value);
    } else if (n.is_seq()) {
      for (auto& item : n.items) drop_resets(item);
    }
  }

  // --- extends
  // The service `name` of `services` (a tree of `file`) with its extends chain merged in.
  YamlNode extended(const YamlNode& services, const std::string& name, const fs::path& file,
                    std::vector<std::pair<fs::path, std::string>>& chain, int line) {
    const YamlNode* node = services.find(name);
    const std::string where = file == file_ ? shown_ : file.string();
    if (!node) fail(where, line, "services", "extends names service \"" + name + "\", which is not defined");
    if (!node->is_map()) return *node;
    if (std::find(chain.begin(), chain.end(), std::make_pair(file, name)) != chain.end())
      fail(where, line, "services." + name + ".extends", "extends loops back to service \"" + name + "\"");
    const YamlNode* ext = node->find("extends");
    if (!ext) return *node;
    const std::string key = "services." + name + ".extends";
    std::string base_name;
    fs::path base_file = file;
    if (ext->is_scalar()) {
      base_name = ext->scalar;
    } else if (ext->is_map()) {
      for (const auto& e : ext->entries) {
        if (!e.value.is_scalar()) fail(where, e.line, key + "." + e.key, "must be a single value");
        if (e.key == "service")
          base_name = e.value.scalar;
        else if (e.key == "file")
          base_file = (file.parent_path() / expand(e.value, where, key + ".file")).lexically_normal();
        else
          fail(where, e.line, key + "." + e.key, "unknown key (service, file are)");
      }
    } else {
      fail(where, ext->line, key, "must be a service name or a mapping with service and file");
    }
    if (base_name.empty()) fail(where, ext->line, key, "needs the service to extend");

    if (chain.size() >= kMaxExtendsDepth)
      fail(where, ext->line, key,
           "extends goes deeper than " + std::to_string(kMaxExtendsDepth) + " services");
    chain.emplace_back(file, name);
    YamlNode base;
    if (base_file == file) {
      base = extended(services, base_name, file, chain, ext->line);
    } else {
      YamlNode other = parse_yaml(read_text(base_file, where, ext->line, key + ".file"), base_file.string());
      const YamlNode* other_services = other.find("services");
      if (!other_services || !other_services->is_map())
        fail(base_file.string(), 0, "services", "has no services, so nothing to extend");
      base = extended(*other_services, base_name, base_file, chain, ext->line);
      rebase_service(base, base_file.parent_path());
    }
    chain.pop_back();
    if (!base.is_map()) fail(where, ext->line, key, "service \"" + base_name + "\" is not a mapping");
    YamlNode own = *node;
    own.erase("extends");
    base.erase("extends");
    return merge_nodes(base, own, "services.*");
  }

  std::string expand(const YamlNode& n, const std::string& where, const std::string& key) const {
    if (n.interpolated) return n.scalar;
    try {
      return interpolate(n.scalar, env_);
    } catch (const std::invalid_argument& e) {
      throw ComposeError(where, n.line, key, e.what());
    }
  }

  // --- include
  void includes(YamlNode& root, const YamlNode& list) {
    if (!list.is_seq()) fail(shown_, list.line, "include", "must be a list of files");
    for (std::size_t i = 0; i < list.items.size(); ++i) {
      const YamlNode& item = list.items[i];
      const std::string key = "include[" + std::to_string(i) + "]";
      std::vector<fs::path> files, env_files;
      fs::path project_dir;
      if (item.is_scalar()) {
        files.push_back(file_.parent_path() / expand(item, shown_, key));
      } else if (item.is_map()) {
        for (const auto& e : item.entries) {
          const std::string k = key + "." + e.key;
          auto paths = [&](const YamlNode& v) {
            std::vector<fs::path> out;
            if (v.is_scalar())
              out.push_back(file_.parent_path() / expand(v, shown_, k));
            else if (v.is_seq())
              for (const auto& p : v.items) {
                if (!p.is_scalar()) fail(shown_, p.line, k, "must be a file name");
                out.push_back(file_.parent_path() / expand(p, shown_, k));
              }
            else
              fail(shown_, e.line, k, "must be a file or a list of files");
            return out;
          };
          if (e.key == "path")
            files = paths(e.value);
          else if (e.key == "env_file")
            env_files = paths(e.value);
          else if (e.key == "project_directory") {
            if (!e.value.is_scalar()) fail(shown_, e.line, k, "must be one folder");
            project_dir = paths(e.value).front();
          } else
            fail(shown_, e.line, k, "unknown key (path, env_file, project_directory are)");
        }
      } else {
        fail(shown_, item.line, key, "must be a file or a mapping with path");
      }
      if (files.empty()) fail(shown_, item.line, key, "needs a path");
      for (auto& f : files) f = f.lexically_normal();
      if (project_dir.empty()) project_dir = files.front().parent_path();
      include_one(root, files, project_dir.lexically_normal(), env_files, item.line, key);
    }
  }

  void include_one(YamlNode& root, const std::vector<fs::path>& files, const fs::path& project_dir,
                   std::vector<fs::path> env_files, int line, const std::string& key) {
    for (const auto& f : files)
      if (std::find(stack_.begin(), stack_.end(), f) != stack_.end())
        fail(shown_, line, key, "include cycle: " + f.string() + " includes itself through " + shown_);
    // The included project reads its own .env; the including project's variables win.
    if (env_files.empty() && fs::exists(project_dir / ".env")) env_files.push_back(project_dir / ".env");
    std::map<std::string, std::string> vars;
    for (const auto& e : env_files) {
      try {
        for (auto& [k, v] : parse_dotenv(read_text(e, shown_, line, key + ".env_file"))) vars[k] = v;
      } catch (const std::runtime_error& ex) {
        if (dynamic_cast<const ComposeError*>(&ex)) throw;
        fail(e.string(), 0, "", ex.what());
      }
    }
    Environment merged = env_;
    for (const auto& [k, v] : vars)
      if (!env_.get(k)) merged.set(k, v);

    // Several files of one include are one project: later files override earlier ones.
    YamlNode tree;
    for (const auto& f : files) {
      YamlNode part = parse_yaml(read_text(f, shown_, line, key), f.string());
      resolve_composition(part, f, merged, included_, stack_);
      interpolate_all(part, merged, f.string());
      tree = tree.is_null() ? part : merge_nodes(tree, part, "");
      included_.push_back(f);
    }
    if (auto* services = tree.find("services"); services && services->is_map())
      for (auto& e : services->entries) rebase_service(e.value, project_dir);
    rebase_file_objects(tree, project_dir);
    // Compose loads an included file as a project of its own: it must stand alone, and its
    // errors name it.
    validate_included(tree, files.front(), project_dir, merged);

    for (const char* section : {"services", "networks", "volumes", "secrets", "configs"}) {
      YamlNode* theirs = tree.find(section);
      if (!theirs || !theirs->is_map()) continue;
      YamlNode* mine = root.find(section);
      if (!mine) {
        root.entries.push_back({section, line, YamlNode{}});
        mine = &root.entries.back().value;
      }
      if (mine->is_null()) mine->kind = YamlNode::Kind::Mapping;
      if (!mine->is_map()) continue;  // the parser names this
      for (auto& e : theirs->entries) {
        if (const YamlNode* existing = mine->find(e.key)) {
          if (same(*existing, e.value)) continue;
          fail(shown_, line, std::string(section) + "." + e.key,
               "defined here and in the included " + files.front().string() +
                   " (an include may not redefine)");
        }
        e.line = line;  // errors about it point at the include
        mine->entries.push_back(e);
      }
    }
  }

  static bool same(const YamlNode& a, const YamlNode& b) {
    if (a.kind != b.kind || a.scalar != b.scalar || a.items.size() != b.items.size() ||
        a.entries.size() != b.entries.size())
      return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
      if (!same(a.items[i], b.items[i])) return false;
    for (std::size_t i = 0; i < a.entries.size(); ++i)
      if (a.entries[i].key != b.entries[i].key || !same(a.entries[i].value, b.entries[i].value)) return false;
    return true;
  }

  // An included file's values take its own variables: replaced now, so the parser leaves them be.
  static void interpolate_all(YamlNode& n, const Environment& env, const std::string& file) {
    if (n.is_scalar() && !n.interpolated) {
      try {
        n.scalar = interpolate(n.scalar, env);
      } catch (const std::invalid_argument& e) {
        throw ComposeError(file, n.line, "", e.what());
      }
      n.interpolated = true;
    }
    for (auto& item : n.items) interpolate_all(item, env, file);
    for (auto& e : n.entries) interpolate_all(e.value, env, file);
  }

  fs::path file_;
  std::string shown_;
  const Environment& env_;
  std::vector<fs::path>& included_;
  std::vector<fs::path> stack_;
};

}  // namespace

void resolve_composition(YamlNode& root, const fs::path& file, const Environment& env,
                         std::vector<fs::path>& included, std::vector<fs::path> stack) {
  Composer(file, env, included, std::move(stack)).run(root);
}

}  // namespace fleet::compose
