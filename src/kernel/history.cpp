#include "kernel/history.hpp"

#include <set>

namespace fleet::kernel {

void History::add(long line, std::string input, std::optional<std::string> output) {
  entries_.push_back({session_, line, std::move(input), std::move(output)});
  if (entries_.size() > kHistoryLimit) entries_.pop_front();
}

std::vector<HistoryEntry> History::tail(std::size_t n) const {
  std::size_t from = entries_.size() > n ? entries_.size() - n : 0;
  return {entries_.begin() + static_cast<long>(from), entries_.end()};
}

std::vector<HistoryEntry> History::range(int session, long start, std::optional<long> stop) const {
  if (session <= 0) session += session_;
  std::vector<HistoryEntry> out;
  for (const HistoryEntry& e : entries_)
    if (e.session == session && e.line >= start && (!stop || e.line < *stop)) out.push_back(e);
  return out;
}

std::vector<HistoryEntry> History::search(std::string_view pattern, std::optional<std::size_t> n,
                                          bool unique) const {
  std::vector<HistoryEntry> out;
  std::set<std::string_view> seen;
  // Newest first, so that unique keeps the latest of each input; reversed at the end.
  for (auto e = entries_.rbegin(); e != entries_.rend() && (!n || out.size() < *n); ++e) {
    if (!glob_match(pattern, e->input)) continue;
    if (unique && !seen.insert(e->input).second) continue;
    out.push_back(*e);
  }
  return {out.rbegin(), out.rend()};
}

nlohmann::json history_json(const std::vector<HistoryEntry>& entries, bool output) {
  nlohmann::json out = nlohmann::json::array();
  for (const HistoryEntry& e : entries) {
    nlohmann::json source = e.input;
    if (output) source = {e.input, e.output ? nlohmann::json(*e.output) : nlohmann::json(nullptr)};
    out.push_back({e.session, e.line, std::move(source)});
  }
  return out;
}

namespace {

// Whether `c` is in the class whose text (after '[') starts at `p`; moves p past the ']'. A class
// without its ']' matches nothing.
bool in_class(std::string_view pattern, std::size_t& p, char c) {
  bool negate = p < pattern.size() && pattern[p] == '^';
  if (negate) ++p;
  bool found = false;
  std::size_t first = p;
  // A ']' first is a member, not the end.
  for (; p < pattern.size() && (p == first || pattern[p] != ']'); ++p) {
    if (p + 2 < pattern.size() && pattern[p + 1] == '-' && pattern[p + 2] != ']') {
      found = found || (pattern[p] <= c && c <= pattern[p + 2]);
      p += 2;
    } else {
      found = found || pattern[p] == c;
    }
  }
  if (p >= pattern.size()) return false;
  ++p;
  return found != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  // Where to resume after the last '*': one more character of text swallowed by it.
  std::optional<std::size_t> star_p, star_t;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      std::size_t next = p + 1;
      bool match =
          pattern[p] == '?' || (pattern[p] == '[' ? in_class(pattern, next, text[t]) : pattern[p] == text[t]);
      if (match) {
        p = next;
        ++t;
        continue;
      }
    }
    if (!star_p) return false;
    p = *star_p;
    t = ++*star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace fleet::kernel
