// Checkpoints of the user's globals in Lua and JavaScript: round trips into a fresh interpreter
// (nesting, integers and floats, cycles, shared references), what is skipped, what is refused.
#include <catch2/catch.hpp>

#include <algorithm>

#include "kernel/interpreter.hpp"

using namespace fleet::kernel;
using nlohmann::json;

namespace {

std::string value_of(Interpreter& in, const std::string& code) {
  ExecutionResult r = in.execute(code, ExecutionIo{});
  if (r.error) return "error: " + r.error->evalue;
  return r.value.value_or("");
}

// Checkpointed, written as text and read back (as it travels), restored into a fresh interpreter.
std::unique_ptr<Interpreter> round_trip(Interpreter& from, const std::string& language,
                                        std::vector<std::string>* restored = nullptr) {
  json state = json::parse(from.checkpoint().state.dump());
  auto to = make_interpreter(language);
  auto names = to->restore(state);
  if (restored) *restored = names;
  return to;
}

bool skipped(const Checkpoint& c, const std::string& name, const std::string& type) {
  return std::any_of(c.skipped.begin(), c.skipped.end(),
                     [&](const Skipped& s) { return s.name == name && s.type == type; });
}

}  // namespace

TEST_CASE("lua: nested tables, integers and floats survive a checkpoint", "[kernel][checkpoint][lua]") {
  auto lua = make_interpreter("lua");
  value_of(*lua, "x = {a = 1, b = {'two', 3}}\nn = 7\nf = 2.0\ns = 'hé'\nok = true\nbig = math.maxinteger");
  value_of(*lua, "odd = {[1.5] = 'float key', [true] = 'bool key', [10] = 'sparse', 'first'}");
  value_of(*lua, "weird = {nan = 0/0, inf = 1/0, ninf = -1/0}\nbytes = '\\255\\0x'");
  std::vector<std::string> names;
  auto back = round_trip(*lua, "lua", &names);
  CHECK(names == std::vector<std::string>{"big", "bytes", "f", "n", "odd", "ok", "s", "weird", "x"});
  CHECK(value_of(*back, "x.b[1]") == "two");
  CHECK(value_of(*back, "x.b[2]") == "3");
  CHECK(value_of(*back, "math.type(x.b[2])") == "integer");
  CHECK(value_of(*back, "math.type(x.a)") == "integer");
  CHECK(value_of(*back, "math.type(f)") == "float");
  CHECK(value_of(*back, "f") == "2.0");
  CHECK(value_of(*back, "n") == "7");
  CHECK(value_of(*back, "big == math.maxinteger") == "true");
  CHECK(value_of(*back, "s") == "hé");
  CHECK(value_of(*back, "ok") == "true");
  CHECK(value_of(*back, "odd[1.5] .. odd[true] .. odd[10] .. odd[1]") == "float keybool keysparsefirst");
  CHECK(value_of(*back, "weird.nan ~= weird.nan and weird.inf == math.huge and weird.ninf == -math.huge") ==
        "true");
  CHECK(value_of(*back, "bytes == '\\255\\0x'") == "true");
}

TEST_CASE("lua: cycles and shared references survive; functions are skipped by name",
          "[kernel][checkpoint][lua]") {
  auto lua = make_interpreter("lua");
  value_of(*lua, "t = {}\nt.self = t\nshared = {v = 1}\na = {one = shared, two = shared}\nb = shared");
  value_of(*lua,
           "f = function() end\nx = {g = print, n = 1, list = {1, print, 3}}\nco = coroutine.create(f)");
  value_of(*lua, "lib = {s = string}\nm = setmetatable({k = 1}, {})");
  Checkpoint c = lua->checkpoint();
  CHECK(skipped(c, "f", "function"));
  CHECK(skipped(c, "x.g", "function"));
  CHECK(skipped(c, "x.list[2]", "function"));
  CHECK(skipped(c, "co", "thread"));
  CHECK(skipped(c, "m", "metatable"));
  CHECK_FALSE(c.state["globals"].contains("f"));
  CHECK(c.state["globals"]["lib"].is_object());
  auto back = round_trip(*lua, "lua");
  CHECK(value_of(*back, "t.self == t") == "true");
  CHECK(value_of(*back, "t.self.self.self == t") == "true");
  CHECK(value_of(*back, "a.one == a.two and a.one == b") == "true");
  value_of(*back, "b.v = 5");
  CHECK(value_of(*back, "a.two.v") == "5");
  CHECK(value_of(*back, "x.n") == "1");
  CHECK(value_of(*back, "x.g") == "nil");
  // The array part stops before the function; the entry after it is kept by its key.
  CHECK(value_of(*back, "x.list[1], x.list[2], x.list[3]") == "1\tnil\t3");
  CHECK(value_of(*back, "lib.s == string") == "true");  // the fresh interpreter's own string table
  CHECK(value_of(*back, "m.k") == "1");
  CHECK(value_of(*back, "f") == "nil");
}

TEST_CASE("lua and javascript: tables nested too deep are cut, the rest restores", "[kernel][checkpoint]") {
  auto lua = make_interpreter("lua");
  value_of(*lua, "deep = {}\nlocal t = deep\nfor i = 1, 300 do t.next = {}; t = t.next end");
  value_of(*lua, "list = {}\nlocal t = list\nfor i = 1, 300 do t[1] = {}; t = t[1] end");
  Checkpoint c = lua->checkpoint();
  CHECK(std::count_if(c.skipped.begin(), c.skipped.end(),
                      [](const Skipped& s) { return s.type == "table nested too deep"; }) == 2);
  auto back = round_trip(*lua, "lua");
  CHECK(value_of(*back, "type(deep.next.next.next)") == "table");
  CHECK(value_of(*back, "type(list[1][1][1])") == "table");

  auto js = make_interpreter("javascript");
  value_of(*js, "var deep = []; var t = deep; for (var i = 0; i < 300; i++) { t[0] = []; t = t[0]; }");
  Checkpoint j = js->checkpoint();
  CHECK(std::count_if(j.skipped.begin(), j.skipped.end(),
                      [](const Skipped& s) { return s.type == "object nested too deep"; }) == 1);
  auto js_back = round_trip(*js, "javascript");
  CHECK(value_of(*js_back, "Array.isArray(deep[0][0][0])") == "true");
}

TEST_CASE("lua: a checkpoint holds only the user's globals", "[kernel][checkpoint][lua]") {
  auto lua = make_interpreter("lua");
  Checkpoint empty = lua->checkpoint();
  CHECK(empty.state["globals"] == json::object());
  CHECK(empty.state["tables"] == json::array());
  CHECK(empty.skipped.empty());
  CHECK(empty.state["format"] == kStateFormat);
  CHECK(empty.state["language"] == "lua");
  value_of(*lua, "mine = 1\nprint = print");  // a reassigned builtin is still the interpreter's own
  CHECK(lua->checkpoint().state["globals"] == json{{"mine", 1}});
}

TEST_CASE("lua: malformed states and states of another language are refused, changing nothing",
          "[kernel][checkpoint][lua]") {
  auto lua = make_interpreter("lua");
  value_of(*lua, "keep = 1");
  json good = lua->checkpoint().state;
  auto refused = [&](json state, const std::string& why) {
    INFO(state.dump());
    CHECK_THROWS_WITH(lua->restore(state), Catch::Contains(why));
    CHECK(value_of(*lua, "keep") == "1");
  };
  refused(json::array(), "JSON object");
  refused({{"format", "other"}}, "format");
  json js = good;
  js["language"] = "javascript";
  refused(js, "a javascript state cannot be restored into lua");
  json bad = good;
  bad["globals"] = {{"keep", 2}, {"y", {{"ref", 3}}}};
  refused(bad, "ref to no table");
  bad["globals"] = {{"keep", 2}, {"y", nullptr}};
  refused(bad, "not a Lua value");
  bad["globals"] = {{"keep", 2}, {"print", 1}};
  refused(bad, "interpreter's own global");
  bad["globals"] = {{"keep", 2}, {"y", {{"ref", 0}}}};
  bad["tables"] = json::parse(R"([{"array": "not an array"}])");
  refused(bad, "malformed state");
  bad["tables"] = json::parse(R"([{"pairs": [[1]]}])");
  refused(bad, "[key, value]");
  bad["tables"] = json::parse(R"([{"pairs": [[{"float": "nan"}, 1]]}])");
  refused(bad, "NaN");
  bad["tables"] = json::array();
  bad["globals"] = {{"y", {{"bytes", "!!"}}}};
  refused(bad, "");
}

TEST_CASE("javascript: objects and arrays, cycles and shared references survive; functions are skipped",
          "[kernel][checkpoint][js]") {
  auto js = make_interpreter("javascript");
  value_of(*js, "var y = {n: [1, 2]}; var s = 'text'; var b = false; var z = null; var u; var half = 0.5;");
  value_of(*js, "var t = {}; t.self = t; var shared = {v: 1}; var a = {one: shared, two: shared};");
  value_of(*js, "function f() {} var o = {g: function() {}, k: 1, list: [1, f, 3]}; var m = Math;");
  value_of(*js, "var when = new Date(0); var weird = {nan: NaN, inf: -Infinity, big: 1e300};");
  value_of(*js, "var arr = [1, 2]; arr.extra = 'x';");
  Checkpoint c = js->checkpoint();
  CHECK(skipped(c, "f", "function"));
  CHECK(skipped(c, "o.g", "function"));
  CHECK(skipped(c, "o.list[1]", "function"));
  CHECK(skipped(c, "when", "object with a prototype (Date)"));
  CHECK(c.state["language"] == "javascript");
  std::vector<std::string> names;
  auto back = round_trip(*js, "javascript", &names);
  CHECK(std::find(names.begin(), names.end(), "f") == names.end());
  CHECK(value_of(*back, "y.n[1]") == "2");
  CHECK(value_of(*back, "Array.isArray(y.n) && y.n.length") == "2");
  CHECK(value_of(*back, "s + b + z + typeof u + half") == "\"textfalsenullundefined0.5\"");
  CHECK(value_of(*back, "'u' in this") == "true");
  CHECK(value_of(*back, "t.self === t") == "true");
  CHECK(value_of(*back, "a.one === a.two && a.one === shared") == "true");
  CHECK(value_of(*back, "o.k + ',' + typeof o.g + ',' + o.list.length + ',' + o.list[2]") ==
        "\"1,undefined,3,3\"");
  CHECK(value_of(*back, "m === Math") == "true");
  CHECK(value_of(*back, "typeof when") == "\"undefined\"");
  CHECK(value_of(*back, "isNaN(weird.nan) && weird.inf === -Infinity && weird.big === 1e300") == "true");
  CHECK(value_of(*back, "arr.extra + arr.length") == "\"x2\"");
}

TEST_CASE("javascript: only the user's globals; bad states refused", "[kernel][checkpoint][js]") {
  auto js = make_interpreter("js");
  CHECK(js->checkpoint().state["globals"] == json::object());
  value_of(*js, "var mine = 3;");
  CHECK(js->checkpoint().state["globals"] == json{{"mine", 3}});
  auto lua = make_interpreter("lua");
  CHECK_THROWS_WITH(js->restore(lua->checkpoint().state), Catch::Contains("a lua state cannot be restored"));
  json bad = js->checkpoint().state;
  bad["globals"]["Math"] = 1;
  CHECK_THROWS_WITH(js->restore(bad), Catch::Contains("interpreter's own global"));
  bad = js->checkpoint().state;
  bad["globals"]["o"] = {{"ref", 0}};
  bad["tables"] = json::parse(R"([{"pairs": []}])");
  CHECK_THROWS_WITH(js->restore(bad), Catch::Contains("not a JavaScript table part"));
  bad["tables"] = json::parse(R"([{"fields": {"__proto__": {"ref": 0}}}])");
  CHECK(js->restore(bad) == std::vector<std::string>{"mine", "o"});
  CHECK(value_of(*js, "Object.getPrototypeOf(o) === Object.prototype && o.__proto__ === o") == "true");
}

TEST_CASE("no user code runs in a checkpoint or restore, and what would fail is refused",
          "[kernel][checkpoint]") {
  // Lua: a strict _G in the target does not stop a restore (raw sets).
  auto lua = make_interpreter("lua");
  value_of(*lua, "a = 1");
  auto strict = make_interpreter("lua");
  value_of(*strict, "setmetatable(_G, {__newindex = function() error('strict') end})");
  CHECK(strict->restore(lua->checkpoint().state) == std::vector<std::string>{"a"});
  CHECK(value_of(*strict, "a") == "1");

  // JavaScript: a getter on the global object is not called, only listed.
  auto js = make_interpreter("javascript");
  value_of(*js,
           "var calls = 0; Object.defineProperty(this, 'acc', {get: function() { calls++; throw 1 }, "
           "enumerable: true});");
  value_of(*js, "calls = 0");  // showing the result above read every property of the global object
  Checkpoint c = js->checkpoint();
  CHECK(skipped(c, "acc", "accessor"));
  CHECK(value_of(*js, "calls") == "0");
  json state = js->checkpoint().state;
  state["globals"] = {{"k", 2}};
  auto read_only = make_interpreter("javascript");
  value_of(*read_only, "Object.defineProperty(this, 'k', {value: 1, writable: false});");
  CHECK_THROWS_WITH(read_only->restore(state), Catch::Contains("read-only"));
  CHECK(value_of(*read_only, "k") == "1");
  auto closed = make_interpreter("javascript");
  value_of(*closed, "Object.preventExtensions(this);");
  CHECK_THROWS_WITH(closed->restore(state), Catch::Contains("cannot set the globals"));
  CHECK(value_of(*closed, "1 + 1") == "2");  // still serving
}
