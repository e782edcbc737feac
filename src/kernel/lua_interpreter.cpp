// Lua 5.4. A chunk that compiles as `return <code>` is an expression and its values become the
// result, as in Lua's own REPL; a cell whose last line is an expression returns that line's values
// (as a notebook cell does); anything else runs as statements.
#include <lua.hpp>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "kernel/interpreter.hpp"

namespace fleet::kernel {
namespace {

constexpr const char* kSelfKey = "llmspell.interpreter";

class LuaInterpreter;
LuaInterpreter* self_of(lua_State* L);

class LuaInterpreter : public Interpreter {
 public:
  LuaInterpreter() : L_(luaL_newstate()) {
    if (!L_) throw std::bad_alloc();
    luaL_openlibs(L_);
    lua_pushlightuserdata(L_, this);
    lua_setfield(L_, LUA_REGISTRYINDEX, kSelfKey);
    lua_register(L_, "print", &LuaInterpreter::lua_print);
    lua_register(L_, "spin", &LuaInterpreter::lua_spin);
    // io.write goes to the same stream as print.
    lua_getglobal(L_, "io");
    lua_pushcfunction(L_, &LuaInterpreter::lua_write);
    lua_setfield(L_, -2, "write");
    lua_pop(L_, 1);
    // Checked every 10000 instructions: lets an interrupt stop a busy loop.
    lua_sethook(L_, &LuaInterpreter::hook, LUA_MASKCOUNT, 10000);
  }
  ~LuaInterpreter() override { lua_close(L_); }

  ExecutionResult execute(const std::string& code, const Print& print) override {
    print_ = &print;
    interrupt_requested = false;
    interrupted_ = false;
    ExecutionResult result;
    int base = lua_gettop(L_);
    lua_pushcfunction(L_, &LuaInterpreter::traceback_handler);
    std::string as_expression = "return " + code;
    std::string last_returned = with_last_line_returned(code);
    if (luaL_loadbuffer(L_, as_expression.data(), as_expression.size(), "=cell") != LUA_OK &&
        (lua_pop(L_, 1), last_returned.empty() || luaL_loadbuffer(L_, last_returned.data(),
                                                                  last_returned.size(), "=cell") != LUA_OK)) {
      if (!last_returned.empty()) lua_pop(L_, 1);
      if (luaL_loadbuffer(L_, code.data(), code.size(), "=cell") != LUA_OK) {
        result.error = ExecutionError{"SyntaxError", lua_tostring(L_, -1), {}};
        result.error->traceback = {std::string("SyntaxError: ") + result.error->evalue};
        lua_settop(L_, base);
        print_ = nullptr;
        return result;
      }
    }
    if (lua_pcall(L_, 0, LUA_MULTRET, base + 1) != LUA_OK) {
      std::string text = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "error object is not a string";
      auto lines = split_lines(text);
      std::string ename = interrupted_ ? "KeyboardInterrupt" : "LuaError";
      result.error = ExecutionError{ename, lines.empty() ? text : lines.front(), lines};
    } else if (int n = lua_gettop(L_) - (base + 1); n > 0) {
      std::string joined;
      for (int i = 1; i <= n; ++i) {
        if (i > 1) joined += '\t';
        joined += luaL_tolstring(L_, base + 1 + i, nullptr);
        lua_pop(L_, 1);
      }
      result.value = joined;
    }
    lua_settop(L_, base);
    print_ = nullptr;
    return result;
  }

  // "a\nb\nexpr" as "a\nb\nreturn expr" when the last line is an expression; empty otherwise.
  std::string with_last_line_returned(const std::string& code) {
    std::string trimmed = code;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
    auto nl = trimmed.rfind('\n');
    if (nl == std::string::npos) return "";
    std::string last = "return " + trimmed.substr(nl + 1);
    if (luaL_loadbuffer(L_, last.data(), last.size(), "=cell") != LUA_OK) {
      lua_pop(L_, 1);
      return "";
    }
    lua_pop(L_, 1);
    return trimmed.substr(0, nl + 1) + last;
  }

  std::string is_complete(const std::string& code) override {
    std::string as_expression = "return " + code;
    if (luaL_loadbuffer(L_, as_expression.data(), as_expression.size(), "=cell") == LUA_OK) {
      lua_pop(L_, 1);
      return "complete";
    }
    lua_pop(L_, 1);
    int status = luaL_loadbuffer(L_, code.data(), code.size(), "=cell");
    std::string message = status == LUA_OK ? "" : lua_tostring(L_, -1);
    lua_pop(L_, 1);
    if (status == LUA_OK) return "complete";
    return message.size() >= 5 && message.compare(message.size() - 5, 5, "<eof>") == 0 ? "incomplete"
                                                                                       : "invalid";
  }

  Completion complete(const std::string& code, std::size_t cursor) override {
    Completion c = identifier_before(code, cursor);
    std::string word = code.substr(c.cursor_start, c.cursor_end - c.cursor_start);
    auto dot = word.rfind('.');
    std::string table_path = dot == std::string::npos ? "" : word.substr(0, dot);
    std::string prefix = dot == std::string::npos ? word : word.substr(dot + 1);
    lua_pushglobaltable(L_);
    std::stringstream path(table_path);
    for (std::string part; !table_path.empty() && std::getline(path, part, '.');) {
      if (!lua_istable(L_, -1)) break;
      lua_getfield(L_, -1, part.c_str());
      lua_remove(L_, -2);
    }
    if (lua_istable(L_, -1)) {
      lua_pushnil(L_);
      while (lua_next(L_, -2)) {
        if (lua_type(L_, -2) == LUA_TSTRING) {
          std::string key = lua_tostring(L_, -2);
          if (key.rfind(prefix, 0) == 0)
            c.matches.push_back(table_path.empty() ? key : table_path + "." + key);
        }
        lua_pop(L_, 1);
      }
    }
    lua_pop(L_, 1);
    std::sort(c.matches.begin(), c.matches.end());
    return c;
  }

  LanguageInfo language() const override {
    return {"lua", LUA_VERSION_MAJOR "." LUA_VERSION_MINOR "." LUA_VERSION_RELEASE, "text/x-lua", ".lua",
            "lua"};
  }

 private:
  // Remembered, not parsed back out of the message: user code may raise "interrupted" itself.
  int raise_interrupt(lua_State* L) {
    interrupted_ = true;
    return luaL_error(L, "interrupted");
  }

  static int traceback_handler(lua_State* L) {
    const char* message = lua_tostring(L, 1);
    luaL_traceback(L, L, message ? message : "error", 1);
    return 1;
  }

  static void emit(lua_State* L, const std::string& text) {
    LuaInterpreter* self = self_of(L);
    if (self && self->print_) (*self->print_)(text);
  }

  static int lua_print(lua_State* L) {
    std::string line;
    int n = lua_gettop(L);
    for (int i = 1; i <= n; ++i) {
      if (i > 1) line += '\t';
      line += luaL_tolstring(L, i, nullptr);
      lua_pop(L, 1);
    }
    emit(L, line + "\n");
    return 0;
  }

  static int lua_write(lua_State* L) {
    std::string text;
    for (int i = 1; i <= lua_gettop(L); ++i) text += luaL_checkstring(L, i);
    emit(L, text);
    return 0;
  }

  // spin(seconds): busy CPU work for tests and demos; interruptible.
  static int lua_spin(lua_State* L) {
    double seconds = luaL_checknumber(L, 1);
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    volatile unsigned long work = 0;
    LuaInterpreter* self = self_of(L);
    while (std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 10000; ++i) work = work + static_cast<unsigned long>(i);
      if (self && self->interrupt_requested.exchange(false)) return self->raise_interrupt(L);
    }
    lua_pushnumber(L, seconds);
    return 1;
  }

  static void hook(lua_State* L, lua_Debug*) {
    LuaInterpreter* self = self_of(L);
    if (self && self->interrupt_requested.exchange(false)) self->raise_interrupt(L);
  }

  lua_State* L_;
  const Print* print_ = nullptr;
  bool interrupted_ = false;
};

LuaInterpreter* self_of(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kSelfKey);
  auto* self = static_cast<LuaInterpreter*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return self;
}

}  // namespace

std::unique_ptr<Interpreter> make_lua_interpreter() {
  return std::make_unique<LuaInterpreter>();
}

}  // namespace fleet::kernel
