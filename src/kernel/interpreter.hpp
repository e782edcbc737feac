// A language behind the kernel. One instance holds the state that persists across executions.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

class Interpreter {
 public:
  using Print = std::function<void(const std::string& text)>;
  virtual ~Interpreter() = default;

  // Runs `code`; `print` receives everything the code prints, as it prints it.
  virtual ExecutionResult execute(const std::string& code, const Print& print) = 0;
  // "complete", "incomplete" or "invalid".
  virtual std::string is_complete(const std::string& code) = 0;
  // Global names that start with the identifier before `cursor`.
  virtual Completion complete(const std::string& code, std::size_t cursor) = 0;
  virtual LanguageInfo language() const = 0;

  // Set from another thread to stop a running execution with a KeyboardInterrupt-like error.
  std::atomic<bool> interrupt_requested{false};
};

// "lua" or "javascript" (also "js"); nullptr for anything else.
std::unique_ptr<Interpreter> make_interpreter(const std::string& language);

// Text split at newlines (a traceback's lines).
std::vector<std::string> split_lines(const std::string& text);

// The identifier ending at `cursor` (letters, digits, '_' and '.'), for completion.
Completion identifier_before(const std::string& code, std::size_t cursor);

}  // namespace fleet::kernel
