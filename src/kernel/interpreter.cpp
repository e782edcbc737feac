#include "kernel/interpreter.hpp"

#include <cctype>
#include <sstream>

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

}  // namespace fleet::kernel
