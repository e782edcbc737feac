// Progress of long operations: on a terminal one line per object, updated in place (as compose
// does); otherwise plain lines as things happen.
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fleet/rows.hpp"

namespace fleet::cli {

class Progress {
 public:
  explicit Progress(std::FILE* out);
  void operator()(const ProgressEvent& event);
  fleet::ProgressSink sink() {
    return [this](const ProgressEvent& e) { (*this)(e); };
  }

 private:
  void redraw();
  std::FILE* out_;
  bool tty_;
  std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, ProgressEvent> latest_;
  std::size_t drawn_ = 0;
};

}  // namespace fleet::cli
