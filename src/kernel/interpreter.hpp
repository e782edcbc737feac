// A language behind the kernel. One instance holds the state that persists across executions, and
// can save the user's part of it as JSON (a checkpoint) and load it into another instance.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::kernel {

struct ExecutionError {
  std::string ename;
  std::string evalue;
  std::vector<std::string> traceback;
};

struct ExecutionResult {
  std::optional<std::string> value;  // text/plain of a final expression or return value
  std::optional<ExecutionError> error;
};

struct LanguageInfo {
  std::string name;  // "lua", "javascript"
  std::string version;
  std::string mimetype;
  std::string file_extension;
  std::string pygments_lexer;
};

struct Completion {
  std::vector<std::string> matches;
  std::size_t cursor_start = 0;
  std::size_t cursor_end = 0;
};

// A global (or an entry inside one: "t.f", "t[2]") a checkpoint leaves out, with its type.
struct Skipped {
  std::string name;
  std::string type;  // "function", "userdata", "thread", "metatable" (the table itself is kept), ...
};

// The user's globals: the names created after the interpreter was, with values that are numbers,
// strings, booleans and tables (objects, arrays) of them, nested, cycles and shared references
// included. The state is JSON:
//   {"format": "llmspell-state/1", "language": "lua", "globals": {NAME: VALUE}, "tables": [TABLE]}
// VALUE: a JSON string, boolean, integer or float (Lua keeps the two apart: 3 and 3.0), null (JS),
//   or an object with one key: {"ref": I} (tables[I]), {"float": "nan"|"inf"|"-inf"},
//   {"bytes": BASE64} (a string that is not UTF-8), {"builtin": NAME} (a table of the language's own,
//   such as `string` or `Math`, by reference), {"undefined": true} (JS).
// TABLE: {"array": [VALUE], "fields": {KEY: VALUE}, "pairs": [[VALUE, VALUE]]}, each part optional:
//   array holds keys 1..n (Lua) or the indexes of a JS array, fields string keys, pairs any other keys
//   (Lua only). Each table is written once; every further reference to it is a ref.
struct Checkpoint {
  nlohmann::json state;
  std::vector<Skipped> skipped;
};

inline constexpr const char* kStateFormat = "llmspell-state/1";

// An answer to the code's request for a line of input.
struct Input {
  enum class Status { ok, not_allowed, interrupted } status = Status::not_allowed;
  std::string value;
};

// Where running code sends what it shows, and asks for input. A member left empty drops the output
// (or, for input, refuses it).
struct ExecutionIo {
  std::function<void(const std::string& stream, const std::string& text)> stream;  // "stdout", "stderr"
  std::function<void(const nlohmann::json& data)> display;                         // a MIME bundle
  std::function<void(bool wait)> clear_output;
  // Blocks until the user answers, the client does not allow input, or an interrupt comes.
  std::function<Input(const std::string& prompt, bool password)> input;

  void write(const std::string& name, const std::string& text) const {
    if (stream) stream(name, text);
  }
  Input ask(const std::string& prompt, bool password) const {
    return input ? input(prompt, password) : Input{};
  }
};

// What display(value, mime) sends in both languages: {mime: text}, the text parsed for a JSON type
// ("application/json", "...+json"). Throws std::invalid_argument for a malformed MIME type, JSON
// that does not parse, or text that is not UTF-8.
nlohmann::json display_bundle(const std::string& mime, const std::string& text);

// The error both languages raise for input the client does not allow.
inline constexpr const char* kInputNotAllowed =
    "input was requested, but this client does not answer input requests (allow_stdin is false)";

class Interpreter {
 public:
  virtual ~Interpreter() = default;

  // Runs `code`; `io` receives everything the code prints or displays, as it does, and answers its
  // requests for input.
  virtual ExecutionResult execute(const std::string& code, const ExecutionIo& io) = 0;
  // "complete", "incomplete" or "invalid".
  virtual std::string is_complete(const std::string& code) = 0;
  // Global names that start with the identifier before `cursor`.
  virtual Completion complete(const std::string& code, std::size_t cursor) = 0;
  // text/plain about the global (or member of one: "string.format") at `cursor`; nothing when the
  // name is not there. Runs no user code.
  virtual std::optional<std::string> inspect(const std::string& code, std::size_t cursor) = 0;
  virtual LanguageInfo language() const = 0;

  virtual Checkpoint checkpoint() = 0;
  // Sets the state's globals (others stay as they are) and returns their names, sorted. Throws
  // std::invalid_argument, changing nothing, for a malformed state or one of another language.
  virtual std::vector<std::string> restore(const nlohmann::json& state) = 0;

  // Set from another thread to stop a running execution with a KeyboardInterrupt-like error.
  std::atomic<bool> interrupt_requested{false};
};

// "lua" or "javascript" (also "js"); nullptr for anything else.
std::unique_ptr<Interpreter> make_interpreter(const std::string& language);

inline constexpr std::size_t kMaxStateGlobals = 100000;
// Throws std::invalid_argument unless `state` has the format's outline and is for `language`.
void check_state_outline(const nlohmann::json& state, const std::string& language);
// Whether a string can be written as a JSON string as it is.
bool valid_utf8(std::string_view text);
// The state format's scalars both languages share: a number that JSON cannot hold ({"float":
// "nan"|"inf"|"-inf"}, else the number) and a string that is not UTF-8 ({"bytes": base64}).
nlohmann::json encode_state_float(double d);
double decode_state_float(const std::string& name);  // std::invalid_argument for another name
nlohmann::json encode_state_string(std::string_view text);

// Text split at newlines (a traceback's lines).
std::vector<std::string> split_lines(const std::string& text);

// The identifier ending at `cursor` (letters, digits, '_' and '.'), for completion.
Completion identifier_before(const std::string& code, std::size_t cursor);
// The dotted name around `cursor`, or the one before an opening parenthesis there ("print(" with
// the cursor at the end): what to inspect. Empty when there is none.
std::string identifier_at(const std::string& code, std::size_t cursor);
// "a.b.c" as {"a", "b", "c"}.
std::vector<std::string> split_dotted(const std::string& name);

}  // namespace fleet::kernel
