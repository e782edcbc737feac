#include "cli/progress.hpp"

#include <unistd.h>

namespace fleet::cli {

Progress::Progress(std::FILE* out) : out_(out), tty_(::isatty(::fileno(out)) == 1) {}

void Progress::operator()(const ProgressEvent& e) {
  std::lock_guard lock(mu_);
  if (e.kind == ProgressEvent::Kind::Warning) {
    // Warnings are never redrawn over: one line each, above the progress.
    if (tty_ && drawn_) std::fprintf(out_, "\x1b[%zuA\x1b[J", drawn_), drawn_ = 0;
    std::fprintf(out_, "warning: %s: %s\n", e.object.c_str(), e.status.c_str());
    if (tty_) redraw();
    std::fflush(out_);
    return;
  }
  if (!tty_) {
    // Build chatter is for terminals; plain output keeps the state changes.
    if (e.kind != ProgressEvent::Kind::Working || e.status.find(' ') == std::string::npos ||
        e.status.rfind("Waiting", 0) == 0)
      std::fprintf(out_, "%s %s\n", e.object.c_str(), e.status.c_str());
    std::fflush(out_);
    return;
  }
  if (!latest_.count(e.object)) order_.push_back(e.object);
  latest_[e.object] = e;
  redraw();
}

void Progress::redraw() {
  if (drawn_) std::fprintf(out_, "\x1b[%zuA", drawn_);
  for (const auto& object : order_) {
    const auto& e = latest_[object];
    const char* mark = e.kind == ProgressEvent::Kind::Done     ? "\x1b[32m✔\x1b[0m"
                       : e.kind == ProgressEvent::Kind::Failed ? "\x1b[31m✘\x1b[0m"
                                                               : "\x1b[33m⠿\x1b[0m";
    std::string status = e.status.size() > 70 ? e.status.substr(0, 67) + "..." : e.status;
    std::fprintf(out_, "\x1b[2K %s %-45s %s\n", mark, object.c_str(), status.c_str());
  }
  drawn_ = order_.size();
  std::fflush(out_);
}

}  // namespace fleet::cli
