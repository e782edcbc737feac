#include "kernel/js_shape.hpp"

#include <cctype>
#include <string>

namespace fleet::kernel {
namespace {

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// Whether a '/' here starts a regular expression rather than dividing: after an operator, an
// opening bracket, the start, or a keyword that takes an expression.
bool regex_may_start(char previous, const std::string& previous_word) {
  if (previous == 0) return true;
  if (word_char(previous))
    return previous_word == "return" || previous_word == "typeof" || previous_word == "case" ||
           previous_word == "in" || previous_word == "of" || previous_word == "delete" ||
           previous_word == "void" || previous_word == "throw" || previous_word == "new";
  return std::string_view("(,=:[!&|?{};+-*%<>~^").find(previous) != std::string_view::npos;
}

}  // namespace

JsShape js_shape(std::string_view code) {
  // Expected closers; '`' marks a template literal's ${...}, whose '}' goes back into the template.
  std::string open;
  char previous = 0;  // the last significant character outside strings and comments
  std::string previous_word;
  std::size_t i = 0;
  auto in_template = [&]() {  // scans template text up to its end or a ${; false at end of input
    for (; i < code.size(); ++i) {
      if (code[i] == '\\') {
        ++i;
      } else if (code[i] == '`') {
        ++i;
        previous = '`';
        return true;
      } else if (code[i] == '$' && i + 1 < code.size() && code[i + 1] == '{') {
        open += '`';
        i += 2;
        previous = '{';
        return true;
      }
    }
    return false;
  };
  while (i < code.size()) {
    char c = code[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < code.size() && code[i + 1] == '/') {
      while (i < code.size() && code[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < code.size() && code[i + 1] == '*') {
      auto end = code.find("*/", i + 2);
      if (end == std::string_view::npos) return JsShape::open;
      i = end + 2;
      continue;
    }
    if (c == '"' || c == '\'') {
      for (++i; i < code.size() && code[i] != c; ++i) {
        if (code[i] == '\\')
          ++i;
        else if (code[i] == '\n')
          return JsShape::unbalanced;  // a string cannot span lines
      }
      if (i >= code.size()) return JsShape::open;
      ++i;
      previous = c;
      continue;
    }
    if (c == '`') {
      ++i;
      if (!in_template()) return JsShape::open;
      continue;
    }
    if (c == '/' && regex_may_start(previous, previous_word)) {
      bool in_class = false;
      for (++i; i < code.size() && code[i] != '\n' && (in_class || code[i] != '/'); ++i) {
        if (code[i] == '\\')
          ++i;
        else if (code[i] == '[')
          in_class = true;
        else if (code[i] == ']')
          in_class = false;
      }
      ++i;
      previous = '/';
      previous_word.clear();
      continue;
    }
    if (word_char(c)) {
      std::size_t start = i;
      while (i < code.size() && word_char(code[i])) ++i;
      previous_word = std::string(code.substr(start, i - start));
      previous = code[i - 1];
      continue;
    }
    ++i;
    previous = c;
    previous_word.clear();
    if (c == '(')
      open += ')';
    else if (c == '[')
      open += ']';
    else if (c == '{')
      open += '}';
    else if (c == ')' || c == ']' || c == '}') {
      if (open.empty()) return JsShape::unbalanced;
      char expected = open.back();
      open.pop_back();
      if (expected == '`' && c == '}') {
        if (!in_template()) return JsShape::open;
      } else if (expected != c) {
        return JsShape::unbalanced;
      }
    }
  }
  return open.empty() ? JsShape::closed : JsShape::open;
}

}  // namespace fleet::kernel
