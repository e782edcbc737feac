// Lua and JavaScript behind the kernel: output, values, errors, state, completeness, completion,
// interrupts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "kernel/interpreter.hpp"

using namespace fleet::kernel;

namespace {
struct Run {
  ExecutionResult result;
  std::string printed;
};

Run run(Interpreter& in, const std::string& code) {
  Run r;
  ExecutionIo io;
  io.stream = [&](const std::string&, const std::string& text) { r.printed += text; };
  r.result = in.execute(code, io);
  return r;
}
}  // namespace

TEST_CASE("lua: print streams, expressions give values, statements none, state persists", "[kernel][lua]") {
  auto lua = make_interpreter("lua");
  REQUIRE(lua);
  Run p = run(*lua, "print(1+1)");
  CHECK(p.printed == "2\n");
  CHECK_FALSE(p.result.value);
  CHECK(run(*lua, "6*7").result.value == "42");
  CHECK_FALSE(run(*lua, "x = 10").result.value);
  CHECK(run(*lua, "x * 2").result.value == "20");
  CHECK(run(*lua, "return 1, 'a', nil").result.value == "1\ta\tnil");
  CHECK(run(*lua, "io.write('a', 'b')").printed == "ab");
  CHECK(run(*lua, "print('x', 2, true)").printed == "x\t2\ttrue\n");
  CHECK(lua->language().name == "lua");
}

TEST_CASE("lua: a cell whose last line is an expression gives that line's value, as a notebook does",
          "[kernel][lua]") {
  auto lua = make_interpreter("lua");
  Run cell = run(*lua, "x = 6*7\nprint('hi')\nx\n");
  CHECK(cell.printed == "hi\n");
  CHECK(cell.result.value == "42");
  CHECK(run(*lua, "local y = 2\ny + 1").result.value == "3");  // locals of the cell are in scope
  CHECK_FALSE(run(*lua, "z = 1\nz = z + 1").result.value);     // statements all the way: no value
  CHECK_FALSE(run(*lua, "for i = 1, 2 do\n  print(i)\nend").result.value);
  CHECK(run(*lua, "t = {\n  1,\n  2 }\n#t").result.value == "2");
  Run broken = run(*lua, "a = 1\nb = = 2");
  REQUIRE(broken.result.error);
  CHECK(broken.result.error->ename == "SyntaxError");
}

TEST_CASE("lua: errors carry a traceback and the interpreter keeps serving", "[kernel][lua]") {
  auto lua = make_interpreter("lua");
  Run e = run(*lua, "error('boom')");
  REQUIRE(e.result.error);
  CHECK(e.result.error->ename == "LuaError");
  CHECK(e.result.error->evalue == "cell:1: boom");
  CHECK(e.result.error->traceback.size() > 1);
  Run s = run(*lua, "for i=1,");
  REQUIRE(s.result.error);
  CHECK(s.result.error->ename == "SyntaxError");
  CHECK(run(*lua, "1 + 1").result.value == "2");
}

TEST_CASE("lua: completeness and completion", "[kernel][lua]") {
  auto lua = make_interpreter("lua");
  CHECK(lua->is_complete("x = 1") == "complete");
  CHECK(lua->is_complete("6*7") == "complete");
  CHECK(lua->is_complete("for i=1,3 do") == "incomplete");
  CHECK(lua->is_complete("x = = 1") == "invalid");
  run(*lua, "my_value = 1; my_other = 2");
  Completion c = lua->complete("print(my_", 9);
  CHECK(c.matches == std::vector<std::string>{"my_other", "my_value"});
  CHECK(c.cursor_start == 6);
  CHECK(c.cursor_end == 9);
  CHECK(lua->complete("string.up", 9).matches == std::vector<std::string>{"string.upper"});
}

TEST_CASE("javascript: print and console.log stream, values render as a REPL shows them", "[kernel][js]") {
  auto js = make_interpreter("javascript");
  REQUIRE(js);
  CHECK(run(*js, "print(1+1)").printed == "2\n");
  CHECK(run(*js, "console.log('a', 3)").printed == "a 3\n");
  CHECK(run(*js, "6*7").result.value == "42");
  CHECK(run(*js, "'str'").result.value == "\"str\"");
  CHECK(run(*js, "({a: [1, 2]})").result.value == "{\"a\":[1,2]}");
  CHECK_FALSE(run(*js, "var x = 10").result.value);
  CHECK(run(*js, "x * 2").result.value == "20");
  CHECK(run(*js, "function f(a) { return a * 3 } f(5)").result.value == "15");
  CHECK(js->language().name == "javascript");
}

TEST_CASE("javascript: errors, completeness and completion", "[kernel][js]") {
  auto js = make_interpreter("js");
  Run e = run(*js, "nosuch.x");
  REQUIRE(e.result.error);
  CHECK(e.result.error->ename == "ReferenceError");
  CHECK_FALSE(e.result.error->traceback.empty());
  Run t = run(*js, "throw new TypeError('bad type')");
  REQUIRE(t.result.error);
  CHECK(t.result.error->ename == "TypeError");
  CHECK(t.result.error->evalue == "bad type");
  CHECK(run(*js, "1 + 1").result.value == "2");
  CHECK(js->is_complete("function g() {") == "incomplete");
  CHECK(js->is_complete("var a = 1;") == "complete");
  CHECK(js->is_complete("var = ;") == "invalid");
  // Inherited names count too (constructor comes from Object.prototype).
  auto cons = js->complete("cons", 4).matches;
  CHECK(std::find(cons.begin(), cons.end(), "console") != cons.end());
  CHECK(std::all_of(cons.begin(), cons.end(), [](const std::string& m) { return m.rfind("cons", 0) == 0; }));
  CHECK(js->complete("Math.fl", 7).matches == std::vector<std::string>{"Math.floor"});
}

TEST_CASE("an interrupt stops spin() in both languages and a busy Lua loop", "[kernel][interrupt]") {
  for (const char* language : {"lua", "javascript"}) {
    INFO(language);
    auto in = make_interpreter(language);
    std::thread interrupter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      in->interrupt_requested = true;
    });
    Run r = run(*in, "spin(60)");
    interrupter.join();
    REQUIRE(r.result.error);
    CHECK(r.result.error->ename == "KeyboardInterrupt");
    CHECK(run(*in, "1 + 2").result.value == "3");  // still serving
  }
  auto lua = make_interpreter("lua");
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    lua->interrupt_requested = true;
  });
  Run r = run(*lua, "while true do end");
  interrupter.join();
  REQUIRE(r.result.error);
  CHECK(r.result.error->ename == "KeyboardInterrupt");
}

TEST_CASE("unknown languages are refused", "[kernel]") {
  CHECK_FALSE(make_interpreter("python"));
  CHECK_FALSE(make_interpreter(""));
}
