// JavaScript through Duktape 2.7 (ES5.1 with some ES2015). The value of the last expression
// statement becomes the result, as in a REPL. Debian's Duktape is built without its execution
// timeout hook, so an interrupt stops spin() but not an arbitrary busy loop.
#include <duktape.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "kernel/interpreter.hpp"
#include "kernel/js_shape.hpp"
#include "kernel/js_syntax.hpp"
#include "util/base64.hpp"

namespace fleet::kernel {
namespace {

constexpr const char* kSelfKey =
    "\xff"
    "llmspellInterpreter";  // hidden symbol key

constexpr int kMaxDepth = 200;  // objects nested deeper are skipped: the C++ stack is not Duktape's
constexpr std::size_t kInspectedKeys = 40;  // an object's keys inspect lists

using nlohmann::json;

class JsInterpreter;
JsInterpreter* self_of(duk_context* ctx);

// Leaves the Duktape stack as it found it, whichever way the scope ends.
class StackGuard {
 public:
  explicit StackGuard(duk_context* ctx) : ctx_(ctx), top_(duk_get_top(ctx)) {}
  ~StackGuard() { duk_set_top(ctx_, top_); }
  StackGuard(const StackGuard&) = delete;
  StackGuard& operator=(const StackGuard&) = delete;

 private:
  duk_context* ctx_;
  duk_idx_t top_;
};

std::string string_at(duk_context* ctx, duk_idx_t index) {
  duk_size_t size = 0;
  const char* data = duk_get_lstring(ctx, index, &size);
  return data ? std::string(data, size) : std::string();
}

// Whether `key` is an own property of the object at `index` holding a value: not a getter or setter,
// which would run user code (and a Duktape error outside a protected call ends the process).
bool own_data_property(duk_context* ctx, duk_idx_t index, const std::string& key) {
  index = duk_normalize_index(ctx, index);
  duk_push_lstring(ctx, key.data(), key.size());
  duk_get_prop_desc(ctx, index, 0);
  bool data = duk_is_object(ctx, -1) && duk_has_prop_string(ctx, -1, "value");
  duk_pop(ctx);
  return data;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  });
}

// The user's globals as a state: each object or array gets an id the first time it is met. Only
// plain objects (their prototype is Object.prototype or null) and arrays are saved, with their own
// enumerable properties; getters are not called.
class JsEncoder {
 public:
  JsEncoder(duk_context* ctx, const std::unordered_map<void*, std::string>& builtins, void* object_prototype,
            Checkpoint& out)
      : ctx_(ctx), builtins_(builtins), object_prototype_(object_prototype), out_(out) {}

  // The value at `index`; nothing when it cannot be saved (then listed as skipped under `path`).
  std::optional<json> value(duk_idx_t index, const std::string& path, int depth) {
    index = duk_normalize_index(ctx_, index);
    switch (duk_get_type(ctx_, index)) {
      case DUK_TYPE_UNDEFINED:
        return json{{"undefined", true}};
      case DUK_TYPE_NULL:
        return json(nullptr);
      case DUK_TYPE_BOOLEAN:
        return json(static_cast<bool>(duk_get_boolean(ctx_, index)));
      case DUK_TYPE_NUMBER: {
        double d = duk_get_number(ctx_, index);
        if (!std::isfinite(d)) return encode_state_float(d);
        // Integral numbers as JSON integers: easier to read, and the same number once restored.
        if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0 && !(d == 0 && std::signbit(d)))
          return json(static_cast<std::int64_t>(d));
        return json(d);
      }
      case DUK_TYPE_STRING:
        return encode_state_string(string_at(ctx_, index));  // Duktape keeps non-BMP characters as CESU-8
      case DUK_TYPE_OBJECT:
        if (duk_is_function(ctx_, index)) break;
        return object(index, path, depth);
      default:
        break;
    }
    out_.skipped.push_back({path, type_name(index)});
    return std::nullopt;
  }

  json tables() { return std::move(tables_); }

 private:
  std::string type_name(duk_idx_t index) {
    switch (duk_get_type(ctx_, index)) {
      case DUK_TYPE_OBJECT:
        return duk_is_function(ctx_, index) ? "function" : "object";
      case DUK_TYPE_BUFFER:
        return "buffer";
      case DUK_TYPE_POINTER:
        return "pointer";
      case DUK_TYPE_LIGHTFUNC:
        return "function";
      default:
        return "unknown";
    }
  }

  // Own enumerable data properties with their keys, in order; accessors are listed as skipped.
  std::vector<std::string> own_keys(duk_idx_t index) {
    std::vector<std::string> keys;
    duk_enum(ctx_, index, DUK_ENUM_OWN_PROPERTIES_ONLY);
    while (duk_next(ctx_, -1, 0)) {
      keys.push_back(string_at(ctx_, -1));
      duk_pop(ctx_);
    }
    duk_pop(ctx_);
    return keys;
  }

  std::optional<json> object(duk_idx_t index, const std::string& path, int depth) {
    void* identity = duk_get_heapptr(ctx_, index);
    if (auto b = builtins_.find(identity); b != builtins_.end()) return json{{"builtin", b->second}};
    if (auto seen = ids_.find(identity); seen != ids_.end()) return json{{"ref", seen->second}};
    bool array = duk_is_array(ctx_, index);
    if (!array) {
      duk_get_prototype(ctx_, index);
      void* prototype = duk_is_object(ctx_, -1) ? duk_get_heapptr(ctx_, -1) : nullptr;
      duk_pop(ctx_);
      if (prototype && prototype != object_prototype_) {
        out_.skipped.push_back({path, "object with a prototype (" + class_name(index) + ")"});
        return std::nullopt;
      }
    }
    if (depth > kMaxDepth || !duk_check_stack(ctx_, 8)) {
      out_.skipped.push_back({path, "object nested too deep"});
      return std::nullopt;
    }
    // Numbered before its properties are: a cycle back to it finds the id.
    std::size_t id = tables_.size();
    ids_.emplace(identity, id);
    tables_.push_back(json::object());
    json elements = json::array(), fields = json::object();
    duk_size_t length = array ? duk_get_length(ctx_, index) : 0;
    for (duk_size_t i = 0; i < length; ++i) {
      std::string name = path + "[" + std::to_string(i) + "]";
      if (!data_property(index, std::to_string(i))) {
        elements.push_back(json{{"undefined", true}});  // a hole, or a getter: not called
        continue;
      }
      duk_get_prop_index(ctx_, index, static_cast<duk_uarridx_t>(i));
      auto v = value(-1, name, depth + 1);
      duk_pop(ctx_);
      elements.push_back(v ? std::move(*v) : json{{"undefined", true}});
    }
    for (const std::string& key : own_keys(index)) {
      if (array && is_index_below(key, length)) continue;
      std::string name =
          is_identifier(key) ? path + "." + key : path + "[" + json(encode_state_string(key)).dump() + "]";
      if (!data_property(index, key)) {
        out_.skipped.push_back({name, "accessor"});
        continue;
      }
      duk_get_prop_lstring(ctx_, index, key.data(), key.size());
      auto v = value(-1, name, depth + 1);
      duk_pop(ctx_);
      if (!v) continue;
      if (!valid_utf8(key)) {
        out_.skipped.push_back({name, "key that is not UTF-8"});
        continue;
      }
      fields[key] = std::move(*v);
    }
    json& t = tables_[id];
    if (array) t["array"] = std::move(elements);
    if (!fields.empty() || !array) t["fields"] = std::move(fields);
    return json{{"ref", id}};
  }

  bool data_property(duk_idx_t index, const std::string& key) { return own_data_property(ctx_, index, key); }

  static bool is_index_below(const std::string& key, duk_size_t length) {
    if (key.empty() || key.size() > 10 || !std::all_of(key.begin(), key.end(), ::isdigit)) return false;
    if (key.size() > 1 && key[0] == '0') return false;
    return std::stoull(key) < length;
  }

  // The name of the prototype's constructor, read from data properties only.
  std::string class_name(duk_idx_t index) {
    std::string name = "object";
    duk_get_prototype(ctx_, index);
    if (duk_is_object(ctx_, -1) && data_property(-1, "constructor")) {
      duk_get_prop_string(ctx_, -1, "constructor");
      if (duk_is_function(ctx_, -1) && data_property(-1, "name")) {
        duk_get_prop_string(ctx_, -1, "name");
        if (duk_is_string(ctx_, -1) && duk_get_length(ctx_, -1) > 0) name = string_at(ctx_, -1);
        duk_pop(ctx_);
      }
      duk_pop(ctx_);
    }
    duk_pop(ctx_);
    return name;
  }

  duk_context* ctx_;
  const std::unordered_map<void*, std::string>& builtins_;
  void* object_prototype_;
  Checkpoint& out_;
  std::unordered_map<void*, std::size_t> ids_;
  json tables_ = json::array();
};

class JsInterpreter : public Interpreter {
 public:
  JsInterpreter() : ctx_(duk_create_heap_default()) {
    if (!ctx_) throw std::bad_alloc();
    duk_push_global_stash(ctx_);
    duk_push_pointer(ctx_, this);
    duk_put_prop_string(ctx_, -2, kSelfKey);
    duk_pop(ctx_);
    duk_push_c_function(ctx_, &JsInterpreter::js_print, DUK_VARARGS);
    duk_put_global_string(ctx_, "print");
    duk_push_c_function(ctx_, &JsInterpreter::js_spin, 1);
    duk_put_global_string(ctx_, "spin");
    duk_push_c_function(ctx_, &JsInterpreter::js_input, 1);
    duk_put_global_string(ctx_, "input");
    duk_push_c_function(ctx_, &JsInterpreter::js_display, 2);
    duk_put_global_string(ctx_, "display");
    duk_push_c_function(ctx_, &JsInterpreter::js_clear_output, 1);
    duk_put_global_string(ctx_, "clear_output");
    duk_push_object(ctx_);
    // As Node has it: log and info to stdout, warn and error to stderr (magic 1).
    for (const char* name : {"log", "info", "warn", "error"}) {
      duk_push_c_function(ctx_, &JsInterpreter::js_print, DUK_VARARGS);
      duk_set_magic(ctx_, -1, name[0] == 'w' || name[0] == 'e' ? 1 : 0);
      duk_put_prop_string(ctx_, -2, name);
    }
    duk_put_global_string(ctx_, "console");
    take_baseline();
  }
  ~JsInterpreter() override { duk_destroy_heap(ctx_); }

  ExecutionResult execute(const std::string& code, const ExecutionIo& io) override {
    io_ = &io;
    interrupt_requested = false;
    interrupted_ = false;
    ExecutionResult result;
    std::string es5 = lower_arrow_functions(code);
    if (duk_peval_lstring(ctx_, es5.data(), es5.size()) != 0) {
      result.error = describe_error(-1);
    } else if (!duk_is_undefined(ctx_, -1)) {
      result.value = render(-1);
    }
    duk_pop(ctx_);
    io_ = nullptr;
    return result;
  }

  std::string is_complete(const std::string& code) override {
    // Judged as it would run: arrow functions lowered first.
    const std::string es5 = lower_arrow_functions(code);
    int failed = duk_pcompile_lstring(ctx_, DUK_COMPILE_EVAL, es5.data(), es5.size());
    duk_pop(ctx_);
    if (!failed) return "complete";
    return js_shape(code) == JsShape::open ? "incomplete" : "invalid";
  }

  Completion complete(const std::string& code, std::size_t cursor) override {
    Completion c = identifier_before(code, cursor);
    std::string word = code.substr(c.cursor_start, c.cursor_end - c.cursor_start);
    auto dot = word.rfind('.');
    std::string object_path = dot == std::string::npos ? "" : word.substr(0, dot);
    std::string prefix = dot == std::string::npos ? word : word.substr(dot + 1);
    duk_push_global_object(ctx_);
    std::stringstream path(object_path);
    for (std::string part; !object_path.empty() && std::getline(path, part, '.');) {
      if (!duk_is_object(ctx_, -1)) break;
      duk_get_prop_string(ctx_, -1, part.c_str());
      duk_remove(ctx_, -2);
    }
    // The object's own names and its prototypes', up to Object.prototype: what every object has
    // (toString, hasOwnProperty, ...) would crowd out what this one has.
    for (bool first = true;
         duk_is_object(ctx_, -1) && (first || duk_get_heapptr(ctx_, -1) != object_prototype_);
         first = false) {
      duk_enum(ctx_, -1, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_NONENUMERABLE);
      while (duk_next(ctx_, -1, 0)) {
        std::string key = duk_safe_to_string(ctx_, -1);
        if (key.rfind(prefix, 0) == 0 && key.front() != '\xff')
          c.matches.push_back(object_path.empty() ? key : object_path + "." + key);
        duk_pop(ctx_);
      }
      duk_pop(ctx_);
      duk_get_prototype(ctx_, -1);
      duk_remove(ctx_, -2);
    }
    duk_pop(ctx_);
    std::sort(c.matches.begin(), c.matches.end());
    c.matches.erase(std::unique(c.matches.begin(), c.matches.end()), c.matches.end());
    return c;
  }

  std::optional<std::string> inspect(const std::string& code, std::size_t cursor) override {
    std::string name = identifier_at(code, cursor);
    if (name.empty()) return std::nullopt;
    StackGuard guard(ctx_);
    duk_push_global_object(ctx_);
    for (const std::string& part : split_dotted(name))
      if (!duk_is_object(ctx_, -1) || !push_data_property(part)) return std::nullopt;
    return name + ": " + describe(-1);
  }

  Checkpoint checkpoint() override {
    StackGuard guard(ctx_);
    Checkpoint out;
    JsEncoder encoder(ctx_, builtins_, object_prototype_, out);
    json globals = json::object();
    duk_push_global_object(ctx_);
    duk_idx_t global = duk_get_top_index(ctx_);
    duk_enum(ctx_, global, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_NONENUMERABLE);
    std::vector<std::string> names;
    while (duk_next(ctx_, -1, 0)) {
      std::string name = string_at(ctx_, -1);
      if (!baseline_.count(name) && valid_utf8(name)) names.push_back(name);
      duk_pop(ctx_);
    }
    duk_pop(ctx_);
    for (const std::string& name : names) {
      if (!own_data_property(ctx_, global, name)) {
        out.skipped.push_back({name, "accessor"});
        continue;
      }
      duk_get_prop_lstring(ctx_, global, name.data(), name.size());
      if (auto v = encoder.value(-1, name, 0)) globals[name] = std::move(*v);
      duk_pop(ctx_);
    }
    out.state = {{"format", kStateFormat},
                 {"language", "javascript"},
                 {"globals", std::move(globals)},
                 {"tables", encoder.tables()}};
    return out;
  }

  std::vector<std::string> restore(const json& state) override {
    check_state_outline(state, "javascript");
    StackGuard guard(ctx_);
    try {
      const json& tables = state["tables"];
      if (!duk_check_stack(ctx_, static_cast<duk_idx_t>(state["globals"].size()) + 8))
        throw std::invalid_argument("too many globals");
      // Every object first, then their properties (which may refer to any of them), then the
      // globals, each value pushed before any is set: a bad value changes nothing.
      duk_idx_t made = duk_push_array(ctx_);
      for (std::size_t i = 0; i < tables.size(); ++i) {
        if (tables[i].contains("array"))
          duk_push_array(ctx_);
        else
          duk_push_object(ctx_);
        duk_put_prop_index(ctx_, made, static_cast<duk_uarridx_t>(i));
      }
      for (std::size_t i = 0; i < tables.size(); ++i) {
        duk_get_prop_index(ctx_, made, static_cast<duk_uarridx_t>(i));
        duk_idx_t object = duk_get_top_index(ctx_);
        for (const auto& [part, content] : tables[i].items()) {
          if (part == "array") {
            duk_uarridx_t k = 0;
            for (const auto& v : content.get_ref<const json::array_t&>()) {
              push(v, made, tables.size());
              duk_put_prop_index(ctx_, object, k++);
            }
          } else if (part == "fields") {
            for (const auto& [key, v] : content.get_ref<const json::object_t&>()) {
              // Defined, not assigned: a "__proto__" key is a property, not a new prototype.
              duk_push_lstring(ctx_, key.data(), key.size());
              push(v, made, tables.size());
              duk_def_prop(ctx_, object,
                           DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
                               DUK_DEFPROP_SET_CONFIGURABLE);
            }
          } else {
            throw std::invalid_argument("not a JavaScript table part: \"" + part + "\"");
          }
        }
        duk_pop(ctx_);
      }
      std::vector<std::string> names;
      duk_push_global_object(ctx_);
      duk_idx_t global = duk_get_top_index(ctx_);
      for (const auto& [name, v] : state["globals"].items()) {
        if (baseline_.count(name))
          throw std::invalid_argument("\"" + name + "\" is the interpreter's own global");
        if (!settable_global(global, name))
          throw std::invalid_argument("the global \"" + name + "\" is read-only or an accessor here");
        push(v, made, tables.size());
        names.push_back(name);
      }
      // Protected: a global object the user made non-extensible fails here, not the process.
      if (duk_safe_call(ctx_, &JsInterpreter::put_globals, &names, static_cast<duk_idx_t>(names.size()), 1) !=
          0)
        throw std::invalid_argument("cannot set the globals: " + std::string(duk_safe_to_string(ctx_, -1)));
      return names;  // sorted: they come from a JSON object
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("malformed state: ") + e.what());
    }
  }

  LanguageInfo language() const override {
    long v = DUK_VERSION;
    std::string version =
        std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
    return {"javascript", version, "application/javascript", ".js", "javascript"};
  }

 private:
  // Names that exist before any user code ran, and their objects, to tell the user's globals apart.
  void take_baseline() {
    duk_push_global_object(ctx_);
    duk_enum(ctx_, -1, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_NONENUMERABLE);
    while (duk_next(ctx_, -1, 1)) {
      std::string name = string_at(ctx_, -2);
      baseline_.insert(name);
      if (duk_is_object(ctx_, -1)) builtins_.emplace(duk_get_heapptr(ctx_, -1), name);
      duk_pop_2(ctx_);
    }
    duk_pop(ctx_);
    duk_get_prop_string(ctx_, -1, "Object");
    duk_get_prop_string(ctx_, -1, "prototype");
    object_prototype_ = duk_get_heapptr(ctx_, -1);  // reachable from the global object as long as it lives
    duk_pop_3(ctx_);
  }

  // Absent, or a writable data property.
  bool settable_global(duk_idx_t global, const std::string& name) {
    duk_push_lstring(ctx_, name.data(), name.size());
    duk_get_prop_desc(ctx_, global, 0);
    bool settable = true;
    if (duk_is_object(ctx_, -1)) {
      duk_get_prop_string(ctx_, -1, "writable");  // undefined for an accessor
      settable = duk_get_boolean(ctx_, -1);
      duk_pop(ctx_);
    }
    duk_pop(ctx_);
    return settable;
  }

  // The values on top of the stack, one per name in order, set as globals.
  static duk_ret_t put_globals(duk_context* ctx, void* udata) {
    const auto& names = *static_cast<const std::vector<std::string>*>(udata);
    for (auto name = names.rbegin(); name != names.rend(); ++name)
      duk_put_global_lstring(ctx, name->data(), name->size());
    return 0;
  }

  // Pushes a state's value; objects come from the array at `made` (ids 0..count-1).
  void push(const json& v, duk_idx_t made, std::size_t count) {
    switch (v.type()) {
      case json::value_t::string: {
        const auto& text = v.get_ref<const std::string&>();
        duk_push_lstring(ctx_, text.data(), text.size());
        return;
      }
      case json::value_t::boolean:
        duk_push_boolean(ctx_, v.get<bool>());
        return;
      case json::value_t::null:
        duk_push_null(ctx_);
        return;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        duk_push_number(ctx_, v.get<double>());
        return;
      case json::value_t::object:
        if (v.size() == 1) {
          if (v.contains("ref")) {
            std::size_t id = v["ref"].get<std::size_t>();
            if (id >= count) throw std::invalid_argument("a ref to no table: " + std::to_string(id));
            duk_get_prop_index(ctx_, made, static_cast<duk_uarridx_t>(id));
            return;
          }
          if (v.contains("undefined")) {
            duk_push_undefined(ctx_);
            return;
          }
          if (v.contains("float")) {
            duk_push_number(ctx_, decode_state_float(v["float"].get<std::string>()));
            return;
          }
          if (v.contains("bytes")) {
            std::string bytes = util::base64_decode(v["bytes"].get_ref<const std::string&>());
            duk_push_lstring(ctx_, bytes.data(), bytes.size());
            return;
          }
          if (v.contains("builtin")) {
            const std::string& name = v["builtin"].get_ref<const std::string&>();
            if (!baseline_.count(name)) throw std::invalid_argument("no builtin object \"" + name + "\"");
            duk_get_global_lstring(ctx_, name.data(), name.size());
            if (!duk_is_object(ctx_, -1)) throw std::invalid_argument("no builtin object \"" + name + "\"");
            return;
          }
        }
        [[fallthrough]];
      default:
        throw std::invalid_argument("not a JavaScript value in a state: " + v.dump());
    }
  }

  // text/plain as a REPL shows it: strings quoted, objects and arrays as JSON.
  std::string render(duk_idx_t index) {
    if (duk_is_string(ctx_, index) || duk_is_object(ctx_, index)) {
      if (!duk_is_function(ctx_, index)) {
        duk_dup(ctx_, index);
        if (stringify_top()) {
          std::string text = duk_safe_to_string(ctx_, -1);
          duk_pop(ctx_);
          return text;
        }
      }
    }
    return duk_safe_to_string(ctx_, index);
  }

  // JSON.stringify the value on top of the stack (consumed); true with the text on top on success.
  bool stringify_top() {
    duk_get_global_string(ctx_, "JSON");
    duk_get_prop_string(ctx_, -1, "stringify");
    duk_remove(ctx_, -2);
    duk_insert(ctx_, -2);  // [stringify value]
    if (duk_pcall(ctx_, 1) != 0 || !duk_is_string(ctx_, -1)) {
      duk_pop(ctx_);
      return false;
    }
    return true;
  }

  ExecutionError describe_error(duk_idx_t index) {
    ExecutionError e;
    if (duk_is_error(ctx_, index)) {
      duk_get_prop_string(ctx_, index, "name");
      e.ename = duk_safe_to_string(ctx_, -1);
      duk_pop(ctx_);
      duk_get_prop_string(ctx_, index, "message");
      e.evalue = duk_safe_to_string(ctx_, -1);
      duk_pop(ctx_);
      duk_get_prop_string(ctx_, index, "stack");
      e.traceback = split_lines(duk_safe_to_string(ctx_, -1));
      duk_pop(ctx_);
    } else {
      e.ename = "Error";
      e.evalue = duk_safe_to_string(ctx_, index);
      e.traceback = {"Uncaught " + e.evalue};
    }
    if (interrupted_) e.ename = "KeyboardInterrupt";
    return e;
  }

  // The value of data property `key` of the object on top, found on it or its prototypes, pushed;
  // false (nothing pushed) when there is none or it is an accessor, whose getter is user code.
  bool push_data_property(const std::string& key) {
    duk_dup_top(ctx_);
    while (duk_is_object(ctx_, -1)) {
      duk_push_lstring(ctx_, key.data(), key.size());
      duk_get_prop_desc(ctx_, -2, 0);
      if (duk_is_object(ctx_, -1)) {
        bool data = duk_has_prop_string(ctx_, -1, "value");
        if (data) {
          duk_get_prop_string(ctx_, -1, "value");
          duk_replace(ctx_, -3);
        }
        duk_pop(ctx_);
        if (!data) duk_pop(ctx_);
        return data;
      }
      duk_pop(ctx_);
      duk_get_prototype(ctx_, -1);
      duk_remove(ctx_, -2);
    }
    duk_pop(ctx_);
    return false;
  }

  // What inspect says of the value at `index`, calling none of its methods.
  std::string describe(duk_idx_t index) {
    index = duk_normalize_index(ctx_, index);
    if (duk_is_function(ctx_, index)) {
      std::string name;
      duk_dup(ctx_, index);
      if (push_data_property("name")) {
        if (duk_is_string(ctx_, -1)) name = string_at(ctx_, -1);
        duk_pop(ctx_);
      }
      duk_pop(ctx_);
      std::string text =
          "function " + name + "(" + std::to_string(duk_get_length(ctx_, index)) + " parameters)";
      return duk_is_c_function(ctx_, index) ? text + ", built-in" : text;
    }
    if (duk_is_array(ctx_, index))
      return "array of " + std::to_string(duk_get_length(ctx_, index)) + " elements";
    if (duk_is_object(ctx_, index)) {
      std::vector<std::string> keys;
      duk_enum(ctx_, index, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_NONENUMERABLE);
      while (duk_next(ctx_, -1, 0)) {
        keys.push_back(string_at(ctx_, -1));
        duk_pop(ctx_);
      }
      duk_pop(ctx_);
      std::sort(keys.begin(), keys.end());
      std::string text = "object with " + std::to_string(keys.size()) + " own properties";
      for (std::size_t i = 0; i < keys.size() && i < kInspectedKeys; ++i) text += (i ? ", " : ": ") + keys[i];
      return keys.size() > kInspectedKeys ? text + ", ..." : text;
    }
    duk_dup(ctx_, index);
    std::string value = duk_is_string(ctx_, -1) ? "\"" + string_at(ctx_, -1) + "\"" : duk_to_string(ctx_, -1);
    duk_pop(ctx_);
    static const char* const kTypes[] = {"none", "undefined", "null", "boolean", "number", "string"};
    int type = duk_get_type(ctx_, index);
    return std::string(type >= 0 && type <= static_cast<int>(DUK_TYPE_STRING) ? kTypes[type] : "value") +
           "\n" + value;
  }

  static duk_ret_t js_print(duk_context* ctx) {
    std::string line;
    duk_idx_t n = duk_get_top(ctx);
    for (duk_idx_t i = 0; i < n; ++i) {
      if (i) line += ' ';
      line += duk_safe_to_string(ctx, i);
    }
    JsInterpreter* self = self_of(ctx);
    if (self && self->io_) self->io_->write(duk_get_current_magic(ctx) ? "stderr" : "stdout", line + "\n");
    return 0;
  }

  // input([prompt]): a line the client sends.
  static duk_ret_t js_input(duk_context* ctx) {
    JsInterpreter* self = self_of(ctx);
    Input::Status status;
    {  // Duktape raises errors with longjmp: nothing with a destructor is alive when it does.
      std::string prompt = duk_is_undefined(ctx, 0) ? "" : duk_safe_to_string(ctx, 0);
      Input in = self && self->io_ ? self->io_->ask(prompt, false) : Input{};
      status = in.status;
      if (status == Input::Status::ok) duk_push_lstring(ctx, in.value.data(), in.value.size());
    }
    if (status == Input::Status::interrupted) {
      self->interrupt_requested = false;
      self->interrupted_ = true;
      return duk_error(ctx, DUK_ERR_ERROR, "interrupted");
    }
    if (status == Input::Status::not_allowed) return duk_error(ctx, DUK_ERR_ERROR, "%s", kInputNotAllowed);
    return 1;
  }

  // display(value [, mime]): strings as they are, other values as a result shows them (JSON text
  // for a JSON type); mime text/plain by default.
  static duk_ret_t js_display(duk_context* ctx) {
    JsInterpreter* self = self_of(ctx);
    {
      std::string mime = duk_is_undefined(ctx, 1) ? "text/plain" : duk_require_string(ctx, 1);
      std::string text;
      if (duk_is_string(ctx, 0)) {
        text = string_at(ctx, 0);
      } else if (mime.find("json") == std::string::npos) {
        text = self->render(0);
      } else {
        duk_dup(ctx, 0);
        text = self->stringify_top() ? string_at(ctx, -1) : "";  // undefined has no JSON: refused below
        if (!text.empty()) duk_pop(ctx);
      }
      try {
        nlohmann::json data = display_bundle(mime, text);
        if (self->io_ && self->io_->display) self->io_->display(data);
      } catch (const std::invalid_argument& e) {
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", e.what());
      }
    }
    if (duk_get_top(ctx) > 2) return duk_throw(ctx);
    return 0;
  }

  // clear_output([wait]): wait true keeps the output until the next arrives, without flicker.
  static duk_ret_t js_clear_output(duk_context* ctx) {
    JsInterpreter* self = self_of(ctx);
    if (self && self->io_ && self->io_->clear_output) self->io_->clear_output(duk_to_boolean(ctx, 0));
    return 0;
  }

  // spin(seconds): busy CPU work for tests and demos; interruptible.
  static duk_ret_t js_spin(duk_context* ctx) {
    double seconds = duk_require_number(ctx, 0);
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    volatile unsigned long work = 0;
    JsInterpreter* self = self_of(ctx);
    while (std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 10000; ++i) work = work + static_cast<unsigned long>(i);
      if (self && self->interrupt_requested.exchange(false)) {
        self->interrupted_ = true;
        return duk_error(ctx, DUK_ERR_ERROR, "interrupted");
      }
    }
    duk_push_number(ctx, seconds);
    return 1;
  }

  duk_context* ctx_;
  const ExecutionIo* io_ = nullptr;
  bool interrupted_ = false;
  std::set<std::string> baseline_;
  std::unordered_map<void*, std::string> builtins_;
  void* object_prototype_ = nullptr;
  friend JsInterpreter* self_of(duk_context* ctx);
};

JsInterpreter* self_of(duk_context* ctx) {
  duk_push_global_stash(ctx);
  duk_get_prop_string(ctx, -1, kSelfKey);
  auto* self = static_cast<JsInterpreter*>(duk_get_pointer(ctx, -1));
  duk_pop_2(ctx);
  return self;
}

}  // namespace

std::unique_ptr<Interpreter> make_javascript_interpreter() {
  return std::make_unique<JsInterpreter>();
}

}  // namespace fleet::kernel
