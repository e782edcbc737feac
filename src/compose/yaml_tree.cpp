#include "compose/yaml_tree.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "compose/error.hpp"

namespace fleet::compose {
namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) return false;
    for (int k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) >> 6) != 2) return false;
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

class Converter {
 public:
  Converter(const std::string& file, const YamlLimits& limits) : file_(file), limits_(limits) {}

  YamlNode convert(const YAML::Node& node, int depth) {
    int line = node.Mark().line + 1;
    if (++visited_ > limits_.max_nodes)
      fail(line, "more than " + std::to_string(limits_.max_nodes) + " nodes (an alias bomb?)");
    if (depth > limits_.max_depth)
      fail(line, "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    for (const auto& ancestor : ancestors_)
      if (ancestor.is(node)) fail(line, "an alias refers to a node that contains it");
    YamlNode out;
    out.line = line;
    if (node.Tag() == "!reset" || node.Tag() == "!override") out.tag = node.Tag();
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.kind = YamlNode::Kind::Null;
        return out;
      case YAML::NodeType::Scalar:
        out.kind = YamlNode::Kind::Scalar;
        out.scalar = node.Scalar();
        out.quoted = node.Tag() == "!";  // yaml-cpp tags quoted scalars "!"
        return out;
      case YAML::NodeType::Sequence:
        out.kind = YamlNode::Kind::Sequence;
        ancestors_.push_back(node);
        for (const auto& item : node) out.items.push_back(convert(item, depth + 1));
        ancestors_.pop_back();
        return out;
      case YAML::NodeType::Map:
        out.kind = YamlNode::Kind::Mapping;
        ancestors_.push_back(node);
        convert_mapping(node, out, depth);
        ancestors_.pop_back();
        return out;
    }
    return out;
  }

 private:
  void convert_mapping(const YAML::Node& node, YamlNode& out, int depth) {
    std::vector<YamlNode> merges;
    for (const auto& kv : node) {
      int key_line = kv.first.Mark().line + 1;
      if (!kv.first.IsScalar()) fail(key_line, "a mapping key must be a plain value");
      const std::string key = kv.first.Scalar();
      if (key == "<<" && kv.first.Tag() != "!") {
        YamlNode merged = convert(kv.second, depth + 1);
        if (merged.is_map()) {
          merges.push_back(std::move(merged));
        } else if (merged.is_seq()) {
          for (auto& item : merged.items) {
            if (!item.is_map()) fail(key_line, "<< merges mappings only");
            merges.push_back(std::move(item));
          }
        } else {
          fail(key_line, "<< merges mappings only");
        }
        continue;
      }
      for (const auto& existing : out.entries)
        if (existing.key == key)
          fail(key_line,
               "duplicate key \"" + key + "\" (first at line " + std::to_string(existing.line) + ")");
      out.entries.push_back({key, key_line, convert(kv.second, depth + 1)});
    }
    // Keys written here win over merged ones; among merged mappings the earlier one wins.
    for (auto& source : merges)
      for (auto& entry : source.entries)
        if (!out.find(entry.key)) out.entries.push_back(std::move(entry));
  }

  [[noreturn]] void fail(int line, const std::string& message) {
    throw ComposeError(file_, line, "", message);
  }

  const std::string& file_;
  YamlLimits limits_;
  std::size_t visited_ = 0;
  std::vector<YAML::Node> ancestors_;
};

}  // namespace

const YamlNode* YamlNode::find(std::string_view key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

YamlNode* YamlNode::find(std::string_view key) {
  for (auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

void YamlNode::erase(std::string_view key) {
  std::erase_if(entries, [&](const Entry& e) { return e.key == key; });
}

YamlNode parse_yaml(std::string_view text, const std::string& file, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw ComposeError(file, 0, "", "larger than " + std::to_string(limits.max_bytes) + " bytes");
  if (!valid_utf8(text)) throw ComposeError(file, 0, "", "not valid UTF-8");
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    // At the end of input yaml-cpp points one line past the last: name the last line instead.
    int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) +
                (text.empty() || text.back() == '\n' ? 0 : 1);
    throw ComposeError(file, std::min(e.mark.line + 1, std::max(lines, 1)), "",
                       "YAML syntax error: " + e.msg);
  }
  if (documents.empty() || documents.front().IsNull()) throw ComposeError(file, 0, "", "the file is empty");
  if (documents.size() > 1)
    throw ComposeError(file, documents[1].Mark().line + 1, "",
                       "a second YAML document is not allowed (one compose file, one document)");
  Converter converter(file, limits);
  YamlNode root = converter.convert(documents.front(), 0);
  if (!root.is_map()) throw ComposeError(file, root.line, "", "the top level must be a mapping");
  return root;
}

}  // namespace fleet::compose
