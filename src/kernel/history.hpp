// The kernel's input history, served as ipykernel serves history_request: entries numbered by
// session (1 for the kernel's first, one more after each restart) and line (the execution count),
// the output (a result's text/plain) kept beside the input. Held in memory, the newest kHistoryLimit.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::kernel {

inline constexpr std::size_t kHistoryLimit = 10000;

struct HistoryEntry {
  int session = 0;
  long line = 0;
  std::string input;
  std::optional<std::string> output;
};

class History {
 public:
  int session() const { return session_; }
  void new_session() { ++session_; }
  void add(long line, std::string input, std::optional<std::string> output);

  // The last n entries, oldest first.
  std::vector<HistoryEntry> tail(std::size_t n) const;
  // Lines start <= line < stop (no stop: to the end) of a session: 0 is the current one, a negative
  // number counts back from it.
  std::vector<HistoryEntry> range(int session, long start, std::optional<long> stop) const;
  // Entries whose input matches the glob `pattern` (as SQLite's GLOB: *, ?, [...], case-sensitive),
  // oldest first; unique keeps the latest of equal inputs; n keeps the last n.
  std::vector<HistoryEntry> search(std::string_view pattern, std::optional<std::size_t> n, bool unique) const;

 private:
  int session_ = 1;
  std::deque<HistoryEntry> entries_;
};

// A history_reply's "history": [session, line, input] or, with output, [session, line, [input, output]].
nlohmann::json history_json(const std::vector<HistoryEntry>& entries, bool output);

// SQLite's GLOB: '*' any run, '?' one character, "[a-z]" and "[^...]" classes; case-sensitive.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace fleet::kernel
