#include "util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace fleet::util {

void run_parallel(const std::vector<std::function<void()>>& tasks, unsigned workers) {
  if (tasks.empty()) return;
  if (tasks.size() == 1 || workers <= 1) {
    std::exception_ptr first;
    for (const auto& t : tasks) {
      try {
        t();
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::exception_ptr first;
  auto work = [&] {
    for (std::size_t i; (i = next++) < tasks.size();) {
      try {
        tasks[i]();
      } catch (...) {
        std::lock_guard lock(mu);
        if (!first) first = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < std::min<std::size_t>(workers, tasks.size()); ++w) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace fleet::util
