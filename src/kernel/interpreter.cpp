#include "kernel/interpreter.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "util/base64.hpp"

namespace fleet::kernel {

std::unique_ptr<Interpreter> make_lua_interpreter();
std::unique_ptr<Interpreter> make_javascript_interpreter();

std::unique_ptr<Interpreter> make_interpreter(const std::string& language) {
  if (language == "lua") return make_lua_interpreter();
  if (language == "javascript" || language == "js") return make_javascript_interpreter();
  return nullptr;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) lines.push_back(line);
  return lines;
}

void check_state_outline(const nlohmann::json& state, const std::string& language) {
  if (!state.is_object()) throw std::invalid_argument("a state is a JSON object");
  if (state.value("format", "") != kStateFormat)
    throw std::invalid_argument(std::string("not a state of format ") + kStateFormat);
  auto from = state.find("language");
  if (from == state.end() || !from->is_string()) throw std::invalid_argument("the state names no language");
  if (*from != language)
    throw std::invalid_argument("a " + from->get<std::string>() + " state cannot be restored into " +
                                language);
  if (!state.contains("globals") || !state["globals"].is_object())
    throw std::invalid_argument("the state's globals are not an object");
  if (!state.contains("tables") || !state["tables"].is_array())
    throw std::invalid_argument("the state's tables are not an array");
  // Every global is on the interpreter's stack at once while a state loads: past this, refused.
  if (state["globals"].size() > kMaxStateGlobals)
    throw std::invalid_argument("the state has more than " + std::to_string(kMaxStateGlobals) + " globals");
  for (const auto& table : state["tables"])
    if (!table.is_object()) throw std::invalid_argument("a table of the state is not an object");
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t more = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 4;
    if (more == 4 || (more > 0 && i + more >= text.size())) return false;
    std::uint32_t code = more == 0 ? c : c & (0x3f >> more);
    for (std::size_t k = 1; k <= more; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 0x2) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // No overlong forms, no surrogates (CESU-8), nothing past U+10FFFF.
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[more] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return false;
    i += more + 1;
  }
  return true;
}

Completion identifier_before(const std::string& code, std::size_t cursor) {
  cursor = std::min(cursor, code.size());
  std::size_t start = cursor;
  while (start > 0) {
    unsigned char c = static_cast<unsigned char>(code[start - 1]);
    if (!std::isalnum(c) && c != '_' && c != '.') break;
    --start;
  }
  return {{}, start, cursor};
}

std::string identifier_at(const std::string& code, std::size_t cursor) {
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  cursor = std::min(cursor, code.size());
  std::size_t end = cursor;
  while (end < code.size() && name_char(code[end])) ++end;
  std::size_t start = cursor;
  while (start > 0 && name_char(code[start - 1])) --start;
  if (start == end) {
    // The cursor just after "name(" or "name( ": the call being written.
    std::size_t before = cursor;
    while (before > 0 && std::isspace(static_cast<unsigned char>(code[before - 1]))) --before;
    if (before == 0 || code[before - 1] != '(') return "";
    end = before - 1;
    while (end > 0 && std::isspace(static_cast<unsigned char>(code[end - 1]))) --end;
    start = end;
    while (start > 0 && name_char(code[start - 1])) --start;
  }
  std::string name = code.substr(start, end - start);
  while (!name.empty() && name.back() == '.') name.pop_back();
  while (!name.empty() && name.front() == '.') name.erase(0, 1);
  return name;
}

std::vector<std::string> split_dotted(const std::string& name) {
  std::vector<std::string> parts;
  std::stringstream s(name);
  for (std::string part; std::getline(s, part, '.');) parts.push_back(part);
  return parts;
}

nlohmann::json display_bundle(const std::string& mime, const std::string& text) {
  // As Jupyter's message schema has it: type/subtype of word characters, '-', '+' and '.'.
  auto token = [](std::string_view t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' || c == '.';
    });
  };
  auto slash = mime.find('/');
  if (slash == std::string::npos || !token(std::string_view(mime).substr(0, slash)) ||
      !token(std::string_view(mime).substr(slash + 1)))
    throw std::invalid_argument("\"" + mime + "\" is not a MIME type (such as text/html)");
  if (!valid_utf8(text)) throw std::invalid_argument("the value to display is not UTF-8 text");
  bool is_json =
      mime == "application/json" || (mime.size() > 5 && mime.compare(mime.size() - 5, 5, "+json") == 0);
  if (!is_json) return {{mime, text}};
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) throw std::invalid_argument("the value to display as " + mime + " is not JSON");
  return {{mime, std::move(parsed)}};
}

nlohmann::json encode_state_float(double d) {
  if (std::isnan(d)) return {{"float", "nan"}};
  if (std::isinf(d)) return {{"float", d > 0 ? "inf" : "-inf"}};
  return d;
}

double decode_state_float(const std::string& name) {
  if (name == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (name == "inf") return std::numeric_limits<double>::infinity();
  if (name == "-inf") return -std::numeric_limits<double>::infinity();
  throw std::invalid_argument("no such float: " + name);
}

nlohmann::json encode_state_string(std::string_view text) {
  if (valid_utf8(text)) return std::string(text);
  return {{"bytes", util::base64_encode(text)}};
}

}  // namespace fleet::kernel
