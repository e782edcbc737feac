#include "kernel/js_syntax.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <vector>

namespace fleet::kernel {
namespace {

enum class Kind { kName, kNumber, kString, kTemplate, kRegex, kPunct };

struct Token {
  Kind kind;
  std::size_t begin;
  std::size_t end;
};

bool name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '_' || c == '$' ||
         c == '\\' || u >= 0x80;  // \u escapes and UTF-8 letters belong to names
}

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Keywords after which a `/` starts a regular expression, as after an operator.
bool operator_keyword(std::string_view word) {
  static constexpr std::array<std::string_view, 13> kWords = {"return", "typeof", "instanceof", "in",   "new",
                                                              "delete", "void",   "throw",      "case", "do",
                                                              "else",   "yield",  "await"};
  return std::find(kWords.begin(), kWords.end(), word) != kWords.end();
}

// Longest first, so that `=>` is told from `=`, `==` and `>=`; any other punctuator is one character.
constexpr std::string_view kPunctuators[] = {
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "=>", "==", "!=", "<=", ">=", "&&",
    "||",   "++",  "--",  "+=",  "-=",  "*=",  "/=",  "%=",  "&=", "|=", "^=", "<<", ">>", "**"};

class Lexer {
 public:
  explicit Lexer(std::string_view code) : code_(code) {}

  std::vector<Token> tokens() {
    std::vector<Token> out;
    while (skip_space_and_comments(), pos_ < code_.size()) {
      std::size_t begin = pos_;
      char c = code_[pos_];
      Kind kind = Kind::kPunct;
      if (c == '"' || c == '\'') {
        skip_string(c);
        kind = Kind::kString;
      } else if (c == '`') {
        skip_template();
        kind = Kind::kTemplate;
      } else if (digit(c) || (c == '.' && pos_ + 1 < code_.size() && digit(code_[pos_ + 1]))) {
        // Exponents, hex digits and suffixes are all name characters; `1.5e+3` splits at `+`, which
        // is harmless: only `/` after a number matters here.
        while (pos_ < code_.size() && (name_char(code_[pos_]) || code_[pos_] == '.')) ++pos_;
        kind = Kind::kNumber;
      } else if (name_char(c)) {
        while (pos_ < code_.size() && name_char(code_[pos_])) ++pos_;
        kind = Kind::kName;
      } else if (c == '/' && regex_allowed(out) && skip_regex()) {
        kind = Kind::kRegex;
      } else {
        skip_punctuator();
      }
      out.push_back({kind, begin, pos_});
    }
    return out;
  }

 private:
  void skip_space_and_comments() {
    while (pos_ < code_.size()) {
      if (code_.compare(pos_, 2, "//") == 0) {
        while (pos_ < code_.size() && code_[pos_] != '\n') ++pos_;
      } else if (code_.compare(pos_, 2, "/*") == 0) {
        std::size_t close = code_.find("*/", pos_ + 2);
        pos_ = close == std::string_view::npos ? code_.size() : close + 2;
      } else if (static_cast<unsigned char>(code_[pos_]) <= ' ') {
        ++pos_;
      } else {
        return;
      }
    }
  }

  // An unterminated string ends at its line's end, where the engine will report it.
  void skip_string(char quote) {
    ++pos_;
    while (pos_ < code_.size() && code_[pos_] != quote && code_[pos_] != '\n')
      pos_ += code_[pos_] == '\\' ? 2 : 1;
    pos_ = std::min(pos_ + 1, code_.size());
  }

  // The whole literal, `${...}` parts included: Duktape cannot run it anyway, so it is left as written.
  void skip_template() {
    ++pos_;
    while (pos_ < code_.size() && code_[pos_] != '`') {
      if (code_[pos_] == '\\') {
        pos_ += 2;
      } else if (code_.compare(pos_, 2, "${") == 0) {
        pos_ += 2;
        skip_substitution();
      } else {
        ++pos_;
      }
    }
    pos_ = std::min(pos_ + 1, code_.size());
  }

  // Up to the `}` closing a template's `${`, over nested braces, strings and templates.
  void skip_substitution() {
    int depth = 0;
    while (skip_space_and_comments(), pos_ < code_.size()) {
      char c = code_[pos_];
      if (c == '"' || c == '\'') {
        skip_string(c);
      } else if (c == '`') {
        skip_template();
      } else {
        ++pos_;
        if (c == '{') ++depth;
        if (c == '}' && depth-- == 0) return;
      }
    }
  }

  // Whether a `/` here starts a regular expression, judged by the token before it as JavaScript
  // tokenizers do: after a value (a name, number, literal, `)` or `]`) it divides.
  bool regex_allowed(const std::vector<Token>& before) const {
    if (before.empty()) return true;
    const Token& t = before.back();
    std::string_view text = code_.substr(t.begin, t.end - t.begin);
    switch (t.kind) {
      case Kind::kName:
        return operator_keyword(text);
      case Kind::kPunct:
        return text != ")" && text != "]" && text != "++" && text != "--";
      default:
        return false;
    }
  }

  // False, consuming nothing, when the line ends first: then the `/` was a division after all.
  bool skip_regex() {
    std::size_t p = pos_ + 1;
    bool in_class = false;
    for (; p < code_.size() && code_[p] != '\n'; ++p) {
      char c = code_[p];
      if (c == '\\') {
        ++p;
      } else if (c == '[') {
        in_class = true;
      } else if (c == ']') {
        in_class = false;
      } else if (c == '/' && !in_class) {
        break;
      }
    }
    if (p >= code_.size() || code_[p] != '/') return false;
    pos_ = p + 1;
    while (pos_ < code_.size() && name_char(code_[pos_])) ++pos_;  // flags
    return true;
  }

  void skip_punctuator() {
    for (std::string_view p : kPunctuators) {
      if (code_.compare(pos_, p.size(), p) == 0) {
        pos_ += p.size();
        return;
      }
    }
    ++pos_;
  }

  std::string_view code_;
  std::size_t pos_ = 0;
};

// One arrow function by token indexes: parameters first..arrow-1, `=>` at arrow, body body..last.
struct Arrow {
  std::size_t first;
  std::size_t arrow;
  std::size_t body;
  std::size_t last;
  bool block;
};

class Lowering {
 public:
  explicit Lowering(std::string_view code) : code_(code), tokens_(Lexer(code).tokens()) {
    match_brackets();
    arrow_from_.assign(tokens_.size(), kNone);
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (!is(i, "=>")) continue;
      if (auto a = arrow_at(i)) {
        arrow_from_[a->first] = arrows_.size();
        arrows_.push_back(*a);
      }
    }
  }

  std::string run() {
    if (tokens_.empty()) return std::string(code_);
    std::string out(code_.substr(0, tokens_.front().begin));
    emit(0, tokens_.size(), out);
    out += code_.substr(tokens_.back().end);
    return out;
  }

 private:
  std::string_view text(std::size_t i) const {
    return code_.substr(tokens_[i].begin, tokens_[i].end - tokens_[i].begin);
  }
  bool is(std::size_t i, std::string_view punct) const {
    return i < tokens_.size() && tokens_[i].kind == Kind::kPunct && text(i) == punct;
  }
  // The whitespace and comments before token i.
  std::string_view gap(std::size_t i) const {
    return code_.substr(tokens_[i - 1].end, tokens_[i].begin - tokens_[i - 1].end);
  }

  // partner_[i]: the index of the bracket matching bracket i; unmatched brackets have none.
  void match_brackets() {
    partner_.assign(tokens_.size(), kNone);
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (is(i, "(") || is(i, "[") || is(i, "{")) {
        open.push_back(i);
      } else if (is(i, ")") || is(i, "]") || is(i, "}")) {
        if (open.empty()) continue;
        partner_[i] = open.back();
        partner_[open.back()] = i;
        open.pop_back();
      }
    }
  }

  std::optional<Arrow> arrow_at(std::size_t arrow) const {
    if (arrow == 0 || arrow + 1 >= tokens_.size()) return std::nullopt;
    std::size_t first = arrow - 1;
    if (is(first, ")")) {
      if (partner_[first] == kNone) return std::nullopt;
      first = partner_[first];
    } else if (tokens_[first].kind != Kind::kName) {
      return std::nullopt;
    }
    std::size_t body = arrow + 1;
    if (is(body, "{")) {
      if (partner_[body] == kNone) return std::nullopt;
      return Arrow{first, arrow, body, partner_[body], true};
    }
    std::size_t last = expression_end(body);
    if (last < body) return std::nullopt;  // `=>` right before a closing bracket: nothing to return
    return Arrow{first, arrow, body, last, false};
  }

  // The last token of an expression body starting at `body`.
  std::size_t expression_end(std::size_t body) const {
    int questions = 0;
    for (std::size_t i = body; i < tokens_.size(); ++i) {
      if (is(i, ")") || is(i, "]") || is(i, "}") || is(i, ",") || is(i, ";")) return i - 1;
      if (is(i, ":") && questions-- == 0) return i - 1;
      if (is(i, "?")) ++questions;
      if (i > body && semicolon_inserted_before(i)) return i - 1;
      if (partner_[i] != kNone && partner_[i] > i) i = partner_[i];  // over a bracketed part
    }
    return tokens_.size() - 1;
  }

  // Whether a line break before token i ends the statement: the token before can end an expression
  // and token i cannot continue one (JavaScript's automatic semicolon insertion, approximately).
  bool semicolon_inserted_before(std::size_t i) const {
    if (gap(i).find('\n') == std::string_view::npos) return false;
    auto ends_value = [&](std::size_t k) {
      if (tokens_[k].kind == Kind::kName) return !operator_keyword(text(k));
      if (tokens_[k].kind != Kind::kPunct) return true;
      return is(k, ")") || is(k, "]") || is(k, "}") || is(k, "++") || is(k, "--");
    };
    auto starts_statement = [&](std::size_t k) {
      if (tokens_[k].kind == Kind::kName) return text(k) != "in" && text(k) != "instanceof";
      if (tokens_[k].kind != Kind::kPunct) return true;
      return is(k, "{") || is(k, "!") || is(k, "~") || is(k, "++") || is(k, "--");
    };
    return ends_value(i - 1) && starts_statement(i);
  }

  // Tokens begin..end-1 with the text between them, arrows rewritten.
  void emit(std::size_t begin, std::size_t end, std::string& out) const {
    for (std::size_t i = begin; i < end;) {
      if (i > begin) out += gap(i);
      std::size_t a = arrow_from_[i];
      if (a != kNone && arrows_[a].last < end) {
        emit_arrow(arrows_[a], out);
        i = arrows_[a].last + 1;
      } else {
        out += text(i);
        ++i;
      }
    }
  }

  void emit_arrow(const Arrow& a, std::string& out) const {
    out += "(function ";
    if (tokens_[a.first].kind == Kind::kName) {
      out += "(" + std::string(text(a.first)) + ")";
    } else {
      emit(a.first, a.arrow, out);
    }
    // What stood around `=>` stays (line breaks, comments); plain spaces become one.
    std::string around = std::string(gap(a.arrow)) + std::string(gap(a.body));
    bool plain = around.find_first_not_of(" \t") == std::string::npos;
    out += plain ? " " : around;
    if (a.block) {
      emit(a.body, a.last + 1, out);
    } else {
      out += "{ return (";
      emit(a.body, a.last + 1, out);
      out += "); }";
    }
    out += ").bind(this)";
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::string_view code_;
  std::vector<Token> tokens_;
  std::vector<std::size_t> partner_;
  std::vector<Arrow> arrows_;
  std::vector<std::size_t> arrow_from_;  // by the index of an arrow's first token, into arrows_
};

}  // namespace

std::string lower_arrow_functions(std::string_view code) {
  if (code.find("=>") == std::string_view::npos) return std::string(code);
  return Lowering(code).run();
}

}  // namespace fleet::kernel
