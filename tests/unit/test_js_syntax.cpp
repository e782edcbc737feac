// Arrow functions lowered to ES5 for Duktape: the text each form becomes, and that the kernel's
// JavaScript interpreter (which lowers every cell) runs it with the value ES2015 gives.
#include <catch2/catch.hpp>

#include <algorithm>

#include "kernel/interpreter.hpp"
#include "kernel/js_syntax.hpp"

using fleet::kernel::lower_arrow_functions;

namespace {
// The cell's value, or its error as "ename: evalue".
std::string run(const std::string& code) {
  auto js = fleet::kernel::make_interpreter("javascript");
  auto result = js->execute(code, fleet::kernel::ExecutionIo{});
  if (result.error) return result.error->ename + ": " + result.error->evalue;
  return result.value.value_or("undefined");
}

void check(const std::string& code, const std::string& lowered, const std::string& value) {
  INFO(code);
  CHECK(lower_arrow_functions(code) == lowered);
  CHECK(run(code) == value);
}
}  // namespace

TEST_CASE("code without arrows comes back byte for byte", "[js-syntax]") {
  for (std::string code : {"", "  \n", "var a = 1 >= 2, b = a == 3; // ok\r\n", "x = y\n/* c */\t\n",
                           "'unterminated", "/* open comment", "f(a)(b) >>= 2; `t ${u}`"}) {
    CHECK(lower_arrow_functions(code) == code);
  }
}

TEST_CASE("one parameter, parenthesized parameters, none", "[js-syntax]") {
  check("[1,2,3].map(x => x*2)", "[1,2,3].map((function (x) { return (x*2); }).bind(this))", "[2,4,6]");
  check("var add = (a, b) => a + b; add(2, 3)",
        "var add = (function (a, b) { return (a + b); }).bind(this); add(2, 3)", "5");
  check("var f = () => 42; f()", "var f = (function () { return (42); }).bind(this); f()", "42");
  check("var f = (a)=>a; f(1)", "var f = (function (a) { return (a); }).bind(this); f(1)", "1");
}

TEST_CASE("block bodies keep their statements", "[js-syntax]") {
  check("var f = (a) => { var b = a * 2; return b + 1; }; f(4)",
        "var f = (function (a) { var b = a * 2; return b + 1; }).bind(this); f(4)", "9");
  check("var g = x => { if (x) { return 'yes'; } return 'no'; }; g(0)",
        "var g = (function (x) { if (x) { return 'yes'; } return 'no'; }).bind(this); g(0)", "\"no\"");
}

TEST_CASE("nested arrows, in bodies and in arguments", "[js-syntax]") {
  check("var add = a => b => a + b; add(1)(2)",
        "var add = (function (a) { return ((function (b) { return (a + b); }).bind(this)); }).bind(this); "
        "add(1)(2)",
        "3");
  check("[[1, 2], [3]].map(xs => xs.map(x => x * 10))",
        "[[1, 2], [3]].map((function (xs) { return (xs.map((function (x) { return (x * 10); }).bind(this))); "
        "}).bind(this))",
        "[[10,20],[30]]");
  check("var h = n => { return [n].map(m => m + 1)[0]; }; h(1)",
        "var h = (function (n) { return [n].map((function (m) { return (m + 1); }).bind(this))[0]; "
        "}).bind(this); "
        "h(1)",
        "2");
}

TEST_CASE("arrows as call arguments, in arrays, assigned, returned, invoked at once", "[js-syntax]") {
  check("[3, 1, 2].sort((a, b) => a - b)", "[3, 1, 2].sort((function (a, b) { return (a - b); }).bind(this))",
        "[1,2,3]");
  check("[x => x + 1, y => y * 2].map(f => f(3))",
        "[(function (x) { return (x + 1); }).bind(this), (function (y) { return (y * 2); }).bind(this)]"
        ".map((function (f) { return (f(3)); }).bind(this))",
        "[4,6]");
  check("function mk(n) { return x => x + n; } mk(5)(1)",
        "function mk(n) { return (function (x) { return (x + n); }).bind(this); } mk(5)(1)", "6");
  check("(x => x + 1)(2)", "((function (x) { return (x + 1); }).bind(this))(2)", "3");
  check("var o = {f: x => x, g: 1}; o.f(o.g)",
        "var o = {f: (function (x) { return (x); }).bind(this), g: 1}; o.f(o.g)", "1");
}

TEST_CASE(
    "an expression body ends at a comma, semicolon, closing bracket, ':' of a '?', line break or the end",
    "[js-syntax]") {
  check("var f = () => ({a: 1}); f().a", "var f = (function () { return (({a: 1})); }).bind(this); f().a",
        "1");
  check(
      "var f = true ? x => 1 : x => 2; f()",
      "var f = true ? (function (x) { return (1); }).bind(this) : (function (x) { return (2); }).bind(this); "
      "f()",
      "1");
  check("var f = x => x ? 'a' : 'b'; f(0)",
        "var f = (function (x) { return (x ? 'a' : 'b'); }).bind(this); f(0)", "\"b\"");
  check("var f = x => x * 3", "var f = (function (x) { return (x * 3); }).bind(this)", "undefined");
  check("var f = x => x + 1\nvar y = f(1)\ny",
        "var f = (function (x) { return (x + 1); }).bind(this)\nvar y = f(1)\ny", "2");
  check("var f = x => x\n  .toString()\nf(12).length",
        "var f = (function (x) { return (x\n  .toString()); }).bind(this)\nf(12).length", "2");
}

TEST_CASE("arrows see the enclosing this", "[js-syntax]") {
  check("var o = {v: 7, f: function () { return [1, 2].map(x => x * this.v); }}; o.f()",
        "var o = {v: 7, f: function () { return [1, 2].map((function (x) { return (x * this.v); "
        "}).bind(this)); "
        "}}; o.f()",
        "[7,14]");
  CHECK(run("var o = {v: 3, f: function () { return (() => () => this.v)()(); }}; o.f()") == "3");
}

TEST_CASE("=> inside strings, comments, regular expressions and templates is left alone", "[js-syntax]") {
  std::string literals =
      "var s = \"=>\", t = '(a) => b'; // x => y\n"
      "/* z => w */ var r = /=>/; s + t + r.source";
  check(literals, literals, "\"=>(a) => b=>\"");
  check("var f = x => \"=>\" + x; f(1)", "var f = (function (x) { return (\"=>\" + x); }).bind(this); f(1)",
        "\"=>1\"");
  // After a value `/` divides; after `(` or `=` it starts a regular expression.
  check("var k = 10 / 2, f = x => x / 5; f(k)",
        "var k = 10 / 2, f = (function (x) { return (x / 5); }).bind(this); f(k)", "1");
  check("[1].map(x => 'a=>b'.split(/=>/).length + x)",
        "[1].map((function (x) { return ('a=>b'.split(/=>/).length + x); }).bind(this))", "[3]");
  check("var r = /[/]=>/; var f = a => r.test(a); f('/=>')",
        "var r = /[/]=>/; var f = (function (a) { return (r.test(a)); }).bind(this); f('/=>')", "true");
  // Templates are ES2015 too: whatever they hold stays as written, for Duktape to report.
  std::string templates = "`x => ${[1].map(y => y)}`";
  CHECK(lower_arrow_functions(templates) == templates);
}

TEST_CASE("line breaks stay where they were, so errors name the user's lines", "[js-syntax]") {
  std::string code =
      "var f = x =>\n"
      "  x + 1;\n"
      "var g = (a,\n"
      "  b) => {\n"
      "  return a + b;\n"
      "};\n"
      "f(g(1, 2)) + notDefined;\n";
  std::string lowered = lower_arrow_functions(code);
  CHECK(lowered ==
        "var f = (function (x) \n"
        "  { return (x + 1); }).bind(this);\n"
        "var g = (function (a,\n"
        "  b) {\n"
        "  return a + b;\n"
        "}).bind(this);\n"
        "f(g(1, 2)) + notDefined;\n");
  CHECK(std::count(lowered.begin(), lowered.end(), '\n') == std::count(code.begin(), code.end(), '\n'));
  auto js = fleet::kernel::make_interpreter("javascript");
  auto result = js->execute(code, fleet::kernel::ExecutionIo{});
  REQUIRE(result.error);
  CHECK(result.error->ename == "ReferenceError");
  std::string traceback;
  for (const auto& line : result.error->traceback) traceback += line + "\n";
  INFO(traceback);
  CHECK(traceback.find("(eval:7)") != std::string::npos);
}
