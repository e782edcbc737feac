// JavaScript through Duktape 2.7 (ES5.1 with some ES2015). The value of the last expression
// statement becomes the result, as in a REPL. Debian's Duktape is built without its execution
// timeout hook, so an interrupt stops spin() but not an arbitrary busy loop.
#include <duktape.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "kernel/interpreter.hpp"

namespace fleet::kernel {
namespace {

constexpr const char* kSelfKey =
    "\xff"
    "llmspellInterpreter";  // hidden symbol key

class JsInterpreter;
JsInterpreter* self_of(duk_context* ctx);

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
    duk_push_object(ctx_);
    for (const char* name : {"log", "info", "warn", "error"}) {
      duk_push_c_function(ctx_, &JsInterpreter::js_print, DUK_VARARGS);
      duk_put_prop_string(ctx_, -2, name);
    }
    duk_put_global_string(ctx_, "console");
  }
  ~JsInterpreter() override { duk_destroy_heap(ctx_); }

  ExecutionResult execute(const std::string& code, const Print& print) override {
    print_ = &print;
    interrupt_requested = false;
    interrupted_ = false;
    ExecutionResult result;
    if (duk_peval_lstring(ctx_, code.data(), code.size()) != 0) {
      result.error = describe_error(-1);
    } else if (!duk_is_undefined(ctx_, -1)) {
      result.value = render(-1);
    }
    duk_pop(ctx_);
    print_ = nullptr;
    return result;
  }

  std::string is_complete(const std::string& code) override {
    int failed = duk_pcompile_lstring(ctx_, DUK_COMPILE_EVAL, code.data(), code.size());
    std::string message = failed ? duk_safe_to_string(ctx_, -1) : "";
    duk_pop(ctx_);
    if (!failed) return "complete";
    return message.find("end of input") != std::string::npos ? "incomplete" : "invalid";
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
    if (duk_is_object(ctx_, -1)) {
      duk_enum(ctx_, -1, DUK_ENUM_INCLUDE_NONENUMERABLE);
      while (duk_next(ctx_, -1, 0)) {
        std::string key = duk_safe_to_string(ctx_, -1);
        if (key.rfind(prefix, 0) == 0 && key.front() != '\xff')
          c.matches.push_back(object_path.empty() ? key : object_path + "." + key);
        duk_pop(ctx_);
      }
      duk_pop(ctx_);
    }
    duk_pop(ctx_);
    std::sort(c.matches.begin(), c.matches.end());
    c.matches.erase(std::unique(c.matches.begin(), c.matches.end()), c.matches.end());
    return c;
  }

  LanguageInfo language() const override {
    long v = DUK_VERSION;
    std::string version =
        std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
    return {"javascript", version, "application/javascript", ".js", "javascript"};
  }

 private:
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

  static duk_ret_t js_print(duk_context* ctx) {
    std::string line;
    duk_idx_t n = duk_get_top(ctx);
    for (duk_idx_t i = 0; i < n; ++i) {
      if (i) line += ' ';
      line += duk_safe_to_string(ctx, i);
    }
    JsInterpreter* self = self_of(ctx);
    if (self && self->print_) (*self->print_)(line + "\n");
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
  const Print* print_ = nullptr;
  bool interrupted_ = false;
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
