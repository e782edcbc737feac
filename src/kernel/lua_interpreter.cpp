// Lua 5.4. A chunk that compiles as `return <code>` is an expression and its values become the
// result, as in Lua's own REPL; a cell whose last line is an expression returns that line's values
// (as a notebook cell does); anything else runs as statements.
#include <lua.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>

#include "kernel/interpreter.hpp"
#include "util/base64.hpp"

namespace fleet::kernel {
namespace {

constexpr const char* kSelfKey = "llmspell.interpreter";
constexpr int kMaxDepth = 200;              // tables nested deeper are skipped: the C++ stack is not Lua's
constexpr std::size_t kInspectedKeys = 40;  // a table's keys inspect lists

using nlohmann::json;

// Leaves the Lua stack as it found it, whichever way the scope ends.
class StackGuard {
 public:
  explicit StackGuard(lua_State* L) : L_(L), top_(lua_gettop(L)) {}
  ~StackGuard() { lua_settop(L_, top_); }
  StackGuard(const StackGuard&) = delete;
  StackGuard& operator=(const StackGuard&) = delete;

 private:
  lua_State* L_;
  int top_;
};

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The user's globals as a state: each table gets an id the first time it is met.
class LuaEncoder {
 public:
  LuaEncoder(lua_State* L, const std::unordered_map<const void*, std::string>& builtins, Checkpoint& out)
      : L_(L), builtins_(builtins), out_(out) {}

  static bool encodable(int type) {
    return type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TBOOLEAN || type == LUA_TTABLE;
  }

  // The value at `index`; null when it cannot be saved (then listed as skipped under `path`).
  json value(int index, const std::string& path, int depth) {
    index = lua_absindex(L_, index);
    switch (lua_type(L_, index)) {
      case LUA_TNUMBER:
        if (lua_isinteger(L_, index)) return static_cast<std::int64_t>(lua_tointeger(L_, index));
        return encode_state_float(lua_tonumber(L_, index));
      case LUA_TSTRING: {
        std::size_t size = 0;
        const char* data = lua_tolstring(L_, index, &size);
        return encode_state_string({data, size});
      }
      case LUA_TBOOLEAN:
        return static_cast<bool>(lua_toboolean(L_, index));
      case LUA_TTABLE:
        return table(index, path, depth);
      default:
        out_.skipped.push_back({path, luaL_typename(L_, index)});
        return nullptr;
    }
  }

  json tables() { return std::move(tables_); }

 private:
  json table(int index, const std::string& path, int depth) {
    const void* identity = lua_topointer(L_, index);
    if (auto b = builtins_.find(identity); b != builtins_.end()) return {{"builtin", b->second}};
    if (auto seen = ids_.find(identity); seen != ids_.end()) return {{"ref", seen->second}};
    if (depth > kMaxDepth || !lua_checkstack(L_, 8)) {
      out_.skipped.push_back({path, "table nested too deep"});
      return nullptr;
    }
    // Numbered before its entries are: a cycle back to it finds the id.
    std::size_t id = tables_.size();
    ids_.emplace(identity, id);
    tables_.push_back(json::object());
    if (lua_getmetatable(L_, index)) {
      lua_pop(L_, 1);
      out_.skipped.push_back({path, "metatable"});
    }
    json array = json::array(), fields = json::object(), pairs = json::array();
    // 1..n as long as the values can be saved; every other key goes through lua_next.
    lua_Integer n = 0;
    for (;; ++n) {
      int type = lua_rawgeti(L_, index, n + 1);
      if (!encodable(type)) {
        lua_pop(L_, 1);
        break;
      }
      json v = value(-1, path + "[" + std::to_string(n + 1) + "]", depth + 1);
      lua_pop(L_, 1);
      if (v.is_null()) {  // nested too deep: listed once, when lua_next meets it below
        out_.skipped.pop_back();
        break;
      }
      array.push_back(std::move(v));
    }
    lua_pushnil(L_);
    while (lua_next(L_, index)) {
      int key_type = lua_type(L_, -2);
      if (key_type == LUA_TNUMBER && lua_isinteger(L_, -2) && lua_tointeger(L_, -2) >= 1 &&
          lua_tointeger(L_, -2) <= n) {
        lua_pop(L_, 1);
        continue;
      }
      std::string name = entry_name(path, -2);
      if (key_type == LUA_TSTRING) {
        std::size_t size = 0;
        const char* data = lua_tolstring(L_, -2, &size);  // a string already: lua_next is not disturbed
        std::string key(data, size);
        if (valid_utf8(key)) {
          json v = value(-1, name, depth + 1);
          if (!v.is_null()) fields[key] = std::move(v);
          lua_pop(L_, 1);
          continue;
        }
      }
      if (!encodable(key_type)) {
        out_.skipped.push_back({name, std::string(luaL_typename(L_, -2)) + " key"});
      } else if (json v = value(-1, name, depth + 1); !v.is_null()) {
        json k = value(-2, name + " (key)", depth + 1);
        if (!k.is_null()) pairs.push_back({std::move(k), std::move(v)});
      }
      lua_pop(L_, 1);
    }
    json& t = tables_[id];
    if (!array.empty()) t["array"] = std::move(array);
    if (!fields.empty()) t["fields"] = std::move(fields);
    if (!pairs.empty()) t["pairs"] = std::move(pairs);
    return {{"ref", id}};
  }

  // "t.name", "t[3]", "t[?]": how the entry with the key at `key` is listed when skipped.
  std::string entry_name(const std::string& path, int key) {
    switch (lua_type(L_, key)) {
      case LUA_TSTRING: {
        std::string k = lua_tostring(L_, key);
        return is_identifier(k) ? path + "." + k : path + "[" + json(encode_state_string(k)).dump() + "]";
      }
      case LUA_TNUMBER:
        if (lua_isinteger(L_, key)) return path + "[" + std::to_string(lua_tointeger(L_, key)) + "]";
        return path + "[" + std::to_string(lua_tonumber(L_, key)) + "]";
      case LUA_TBOOLEAN:
        return path + (lua_toboolean(L_, key) ? "[true]" : "[false]");
      default:
        return path + "[?]";
    }
  }

  lua_State* L_;
  const std::unordered_map<const void*, std::string>& builtins_;
  Checkpoint& out_;
  std::unordered_map<const void*, std::size_t> ids_;
  json tables_ = json::array();
};

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
    lua_register(L_, "display", &LuaInterpreter::lua_display);
    lua_register(L_, "clear_output", &LuaInterpreter::lua_clear_output);
    // The process's own stdin and stdout are not the user's: io's streams go to the client.
    lua_getglobal(L_, "io");
    lua_pushcfunction(L_, &LuaInterpreter::lua_write);
    lua_setfield(L_, -2, "write");
    lua_pushcfunction(L_, &LuaInterpreter::lua_read);
    lua_setfield(L_, -2, "read");
    for (const char* name : {"stdout", "stderr", "stdin"}) {
      push_stream(name);
      lua_setfield(L_, -2, name);
    }
    lua_pop(L_, 1);
    // Checked every 10000 instructions: lets an interrupt stop a busy loop.
    lua_sethook(L_, &LuaInterpreter::hook, LUA_MASKCOUNT, 10000);
    take_baseline();
  }
  ~LuaInterpreter() override { lua_close(L_); }

  ExecutionResult execute(const std::string& code, const ExecutionIo& io) override {
    io_ = &io;
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
        io_ = nullptr;
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
    io_ = nullptr;
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

  std::optional<std::string> inspect(const std::string& code, std::size_t cursor) override {
    std::string name = identifier_at(code, cursor);
    if (name.empty()) return std::nullopt;
    StackGuard guard(L_);
    // Raw lookups: an __index metamethod is user code.
    lua_pushglobaltable(L_);
    for (const std::string& part : split_dotted(name)) {
      if (!lua_istable(L_, -1)) return std::nullopt;
      lua_pushlstring(L_, part.data(), part.size());
      lua_rawget(L_, -2);
    }
    if (lua_isnil(L_, -1)) return std::nullopt;
    return name + ": " + describe(-1);
  }

  Checkpoint checkpoint() override {
    StackGuard guard(L_);
    Checkpoint out;
    LuaEncoder encoder(L_, builtins_, out);
    json globals = json::object();
    lua_pushglobaltable(L_);
    int g = lua_gettop(L_);
    lua_pushnil(L_);
    while (lua_next(L_, g)) {
      // Names only: a global table's other keys are no one's variables.
      if (lua_type(L_, -2) == LUA_TSTRING) {
        std::string name = lua_tostring(L_, -2);
        if (!baseline_.count(name) && valid_utf8(name)) {
          json v = encoder.value(-1, name, 0);
          if (!v.is_null()) globals[name] = std::move(v);
        }
      }
      lua_pop(L_, 1);
    }
    out.state = {{"format", kStateFormat},
                 {"language", "lua"},
                 {"globals", std::move(globals)},
                 {"tables", encoder.tables()}};
    return out;
  }

  std::vector<std::string> restore(const json& state) override {
    check_state_outline(state, "lua");
    StackGuard guard(L_);
    try {
      const json& tables = state["tables"];
      if (!lua_checkstack(L_, static_cast<int>(state["globals"].size()) + 8))
        throw std::invalid_argument("too many globals");
      // Every table first, then their entries (which may refer to any of them), then the globals,
      // each value pushed before any is set: a bad value changes nothing.
      lua_createtable(L_, static_cast<int>(tables.size()), 0);
      int made = lua_gettop(L_);
      for (std::size_t i = 0; i < tables.size(); ++i) {
        lua_newtable(L_);
        lua_rawseti(L_, made, static_cast<lua_Integer>(i + 1));
      }
      for (std::size_t i = 0; i < tables.size(); ++i) {
        const json& t = tables[i];
        lua_rawgeti(L_, made, static_cast<lua_Integer>(i + 1));
        int table = lua_gettop(L_);
        for (const auto& [part, content] : t.items()) {
          if (part == "array") {
            lua_Integer k = 0;
            for (const auto& v : content.get_ref<const json::array_t&>()) {
              push(v, made, tables.size());
              lua_rawseti(L_, table, ++k);
            }
          } else if (part == "fields") {
            for (const auto& [key, v] : content.get_ref<const json::object_t&>()) {
              lua_pushlstring(L_, key.data(), key.size());
              push(v, made, tables.size());
              lua_rawset(L_, table);
            }
          } else if (part == "pairs") {
            for (const auto& pair : content.get_ref<const json::array_t&>()) {
              if (!pair.is_array() || pair.size() != 2)
                throw std::invalid_argument("a pair is not [key, value]");
              push(pair[0], made, tables.size());
              if (lua_type(L_, -1) == LUA_TNUMBER && std::isnan(lua_tonumber(L_, -1)))
                throw std::invalid_argument("NaN as a table key");
              push(pair[1], made, tables.size());
              lua_rawset(L_, table);
            }
          } else {
            throw std::invalid_argument("unknown table part \"" + part + "\"");
          }
        }
        lua_pop(L_, 1);
      }
      std::vector<std::string> names;
      int first = lua_gettop(L_) + 1;
      for (const auto& [name, v] : state["globals"].items()) {
        if (baseline_.count(name))
          throw std::invalid_argument("\"" + name + "\" is the interpreter's own global");
        push(v, made, tables.size());
        names.push_back(name);
      }
      // Raw sets: a metatable the user gave _G runs no code here.
      lua_pushglobaltable(L_);
      int g = lua_gettop(L_);
      for (std::size_t i = 0; i < names.size(); ++i) {
        lua_pushlstring(L_, names[i].data(), names[i].size());
        lua_pushvalue(L_, first + static_cast<int>(i));
        lua_rawset(L_, g);
      }
      return names;  // sorted: they come from a JSON object
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("malformed state: ") + e.what());
    }
  }

  LanguageInfo language() const override {
    return {"lua", LUA_VERSION_MAJOR "." LUA_VERSION_MINOR "." LUA_VERSION_RELEASE, "text/x-lua", ".lua",
            "lua"};
  }

 private:
  // Names that exist before any user code ran, and their tables, to tell the user's globals apart.
  void take_baseline() {
    lua_pushglobaltable(L_);
    lua_pushnil(L_);
    while (lua_next(L_, -2)) {
      if (lua_type(L_, -2) == LUA_TSTRING) {
        std::string name = lua_tostring(L_, -2);
        baseline_.insert(name);
        if (lua_istable(L_, -1)) builtins_.emplace(lua_topointer(L_, -1), name);
      }
      lua_pop(L_, 1);
    }
    lua_pop(L_, 1);
  }

  // Pushes a state's value; tables come from the table at `made` (ids 0..count-1 at 1..count).
  void push(const json& v, int made, std::size_t count) {
    switch (v.type()) {
      case json::value_t::string: {
        const auto& text = v.get_ref<const std::string&>();
        lua_pushlstring(L_, text.data(), text.size());
        return;
      }
      case json::value_t::boolean:
        lua_pushboolean(L_, v.get<bool>());
        return;
      case json::value_t::number_integer:
        lua_pushinteger(L_, v.get<std::int64_t>());
        return;
      case json::value_t::number_unsigned:
        if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<lua_Integer>::max()))
          throw std::invalid_argument("an integer out of Lua's range");
        lua_pushinteger(L_, static_cast<lua_Integer>(v.get<std::uint64_t>()));
        return;
      case json::value_t::number_float:
        lua_pushnumber(L_, v.get<double>());
        return;
      case json::value_t::object:
        if (v.size() == 1) {
          if (v.contains("ref")) {
            std::size_t id = v["ref"].get<std::size_t>();
            if (id >= count) throw std::invalid_argument("a ref to no table: " + std::to_string(id));
            lua_rawgeti(L_, made, static_cast<lua_Integer>(id + 1));
            return;
          }
          if (v.contains("float")) {
            lua_pushnumber(L_, decode_state_float(v["float"].get<std::string>()));
            return;
          }
          if (v.contains("bytes")) {
            std::string bytes = util::base64_decode(v["bytes"].get_ref<const std::string&>());
            lua_pushlstring(L_, bytes.data(), bytes.size());
            return;
          }
          if (v.contains("builtin")) {
            const std::string& name = v["builtin"].get_ref<const std::string&>();
            lua_pushglobaltable(L_);
            lua_pushlstring(L_, name.data(), name.size());
            int type = lua_rawget(L_, -2);
            lua_remove(L_, -2);
            if (!baseline_.count(name) || type != LUA_TTABLE)
              throw std::invalid_argument("no builtin table \"" + name + "\"");
            return;
          }
        }
        [[fallthrough]];
      default:
        throw std::invalid_argument("not a Lua value in a state: " + v.dump());
    }
  }

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

  // What inspect says of the value at `index`, without calling any of its metamethods.
  std::string describe(int index) {
    index = lua_absindex(L_, index);
    switch (lua_type(L_, index)) {
      case LUA_TFUNCTION: {
        lua_Debug ar;
        lua_pushvalue(L_, index);
        lua_getinfo(L_, ">S", &ar);
        if (ar.what == std::string("C")) return "function (built-in)";
        return "function, defined at line " + std::to_string(ar.linedefined) + " of " + ar.short_src;
      }
      case LUA_TTABLE: {
        std::vector<std::string> keys;
        std::size_t count = 0;
        lua_pushnil(L_);
        while (lua_next(L_, index)) {
          ++count;
          if (lua_type(L_, -2) == LUA_TSTRING) keys.push_back(lua_tostring(L_, -2));
          lua_pop(L_, 1);
        }
        std::sort(keys.begin(), keys.end());
        std::string text = "table with " + std::to_string(count) + " entries";
        for (std::size_t i = 0; i < keys.size() && i < kInspectedKeys; ++i)
          text += (i ? ", " : ": ") + keys[i];
        return keys.size() > kInspectedKeys ? text + ", ..." : text;
      }
      case LUA_TNUMBER:
      case LUA_TSTRING:
      case LUA_TBOOLEAN: {
        lua_pushvalue(L_, index);  // a copy: lua_tolstring converts a number in place
        std::string value = lua_type(L_, -1) == LUA_TBOOLEAN ? (lua_toboolean(L_, -1) ? "true" : "false")
                                                             : lua_tostring(L_, -1);
        lua_pop(L_, 1);
        return std::string(luaL_typename(L_, index)) + "\n" + value;
      }
      default:
        return luaL_typename(L_, index);
    }
  }

  static void emit(lua_State* L, const std::string& text, const char* stream = "stdout") {
    LuaInterpreter* self = self_of(L);
    if (self && self->io_) self->io_->write(stream, text);
  }

  // A stand-in for io.stdout, io.stderr or io.stdin: a table with a file's methods, bound to the
  // stream's name.
  void push_stream(const char* name) {
    lua_newtable(L_);
    lua_pushstring(L_, name);
    lua_pushcclosure(L_, &LuaInterpreter::stream_write, 1);
    lua_setfield(L_, -2, "write");
    lua_pushcfunction(L_, &LuaInterpreter::stream_read);
    lua_setfield(L_, -2, "read");
    for (const char* method : {"flush", "setvbuf", "close"}) {
      lua_pushcfunction(L_, &LuaInterpreter::stream_self);
      lua_setfield(L_, -2, method);
    }
  }

  // file:write(...): the stream of the upvalue; returns the file, as Lua's does.
  static int stream_write(lua_State* L) {
    {
      std::string text;
      for (int i = 2; i <= lua_gettop(L); ++i) text += luaL_checkstring(L, i);
      emit(L, text, lua_tostring(L, lua_upvalueindex(1)));
    }
    lua_settop(L, 1);
    return 1;
  }

  static int stream_self(lua_State* L) {
    lua_settop(L, 1);
    return 1;
  }

  static int stream_read(lua_State* L) { return read_formats(L, 2); }
  static int lua_read(lua_State* L) { return read_formats(L, 1); }

  // io.read's formats, each answered by one line the client sends: "l" (the default) the line,
  // "L" with a newline, "n" its number (nil if it is none), "a" the line, a count its first bytes.
  static int read_formats(lua_State* L, int first) {
    LuaInterpreter* self = self_of(L);
    int last = std::max(lua_gettop(L), first);
    luaL_checkstack(L, last - first + 1, "too many formats");
    for (int i = first; i <= last; ++i) {
      lua_Integer count = -1;
      char format = 'l';
      if (lua_type(L, i) == LUA_TNUMBER) {
        count = luaL_checkinteger(L, i);
      } else if (!lua_isnoneornil(L, i)) {
        const char* f = luaL_checkstring(L, i);
        format = f[0] == '*' ? f[1] : f[0];
        if (format != 'l' && format != 'L' && format != 'n' && format != 'a')
          return luaL_argerror(L, i, "invalid format");
      }
      // Lua raises errors with longjmp: the line is on the Lua stack before any can be.
      Input::Status status;
      {
        Input in = self && self->io_ ? self->io_->ask("", false) : Input{};
        status = in.status;
        if (status == Input::Status::ok) {
          if (format == 'L') in.value += '\n';
          if (count >= 0)
            in.value.resize(std::min<std::size_t>(in.value.size(), static_cast<std::size_t>(count)));
          lua_pushlstring(L, in.value.data(), in.value.size());
        }
      }
      if (status == Input::Status::interrupted) {
        self->interrupt_requested = false;
        return self->raise_interrupt(L);
      }
      if (status == Input::Status::not_allowed) return luaL_error(L, "%s", kInputNotAllowed);
      if (format == 'n' && count < 0) {
        if (!lua_stringtonumber(L, lua_tostring(L, -1))) lua_pushnil(L);
        lua_remove(L, -2);
      }
    }
    return last - first + 1;
  }

  // display(value [, mime]): value as text (or JSON text for a JSON type), mime text/plain by default.
  static int lua_display(lua_State* L) {
    luaL_checkany(L, 1);
    lua_settop(L, 2);
    const char* mime = luaL_optstring(L, 2, "text/plain");
    luaL_tolstring(L, 1, nullptr);  // at 3
    {
      std::string problem;
      try {
        nlohmann::json data = display_bundle(mime, lua_tostring(L, -1));
        LuaInterpreter* self = self_of(L);
        if (self && self->io_ && self->io_->display) self->io_->display(data);
      } catch (const std::invalid_argument& e) {
        problem = e.what();
      }
      if (!problem.empty()) lua_pushstring(L, problem.c_str());  // at 4
    }
    if (lua_gettop(L) > 3) return lua_error(L);
    return 0;
  }

  // clear_output([wait]): wait true keeps the output until the next arrives, without flicker.
  static int lua_clear_output(lua_State* L) {
    LuaInterpreter* self = self_of(L);
    if (self && self->io_ && self->io_->clear_output) self->io_->clear_output(lua_toboolean(L, 1));
    return 0;
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
  const ExecutionIo* io_ = nullptr;
  bool interrupted_ = false;
  std::set<std::string> baseline_;
  std::unordered_map<const void*, std::string> builtins_;
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
