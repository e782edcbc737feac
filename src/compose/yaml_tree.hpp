// YAML read into a plain tree that keeps line numbers, with what yaml-cpp 0.7 lets through refused
// here: duplicate keys, aliases that contain themselves, alias bombs, a second document, files
// that are too big or not UTF-8, nesting too deep. Merge keys (<<) are resolved: keys written in
// the mapping win, and in a list of aliases earlier ones win.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleet::compose {

struct YamlNode {
  enum class Kind { Null, Scalar, Sequence, Mapping };
  struct Entry;
  Kind kind = Kind::Null;
  std::string scalar;
  bool quoted = false;          // a quoted scalar is always a string ("1.0", "yes")
  bool interpolated = false;    // variables already replaced (an included file, with its own env)
  std::string tag;              // "!reset" or "!override" (compose's merge tags); others are dropped
  std::vector<YamlNode> items;  // Sequence
  std::vector<Entry> entries;   // Mapping, in file order, keys unique
  int line = 0;                 // 1-based

  const YamlNode* find(std::string_view key) const;
  YamlNode* find(std::string_view key);
  void erase(std::string_view key);
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_map() const { return kind == Kind::Mapping; }
  bool is_seq() const { return kind == Kind::Sequence; }
  bool is_null() const { return kind == Kind::Null; }
};

struct YamlNode::Entry {
  std::string key;
  int line = 0;
  YamlNode value;
};

struct YamlLimits {
  std::size_t max_bytes = 1 << 20;
  std::size_t max_nodes = 100'000;
  int max_depth = 64;
};

// Throws ComposeError naming `file` (for messages) and the line.
YamlNode parse_yaml(std::string_view text, const std::string& file, const YamlLimits& limits = {});

}  // namespace fleet::compose
