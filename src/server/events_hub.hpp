// Fleet events fanned out to every server-sent-events client: one watcher publishes, each client
// has a queue of its own (bounded: a client that stops reading loses the oldest events, it never
// holds the watcher up).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "fleet/rows.hpp"

namespace fleet::server {

class EventHub {
 public:
  class Subscription {
   public:
    // The next event, or nothing when `timeout` passed first (time for a keep-alive) or the hub closed.
    std::optional<FleetEvent> next(std::chrono::milliseconds timeout);
    std::size_t dropped() const;

   private:
    friend class EventHub;
    mutable std::mutex mu_;
    std::condition_variable ready_;
    std::deque<FleetEvent> queue_;
    std::size_t dropped_ = 0;
    bool closed_ = false;
  };

  std::shared_ptr<Subscription> subscribe();
  void unsubscribe(const std::shared_ptr<Subscription>& s);
  void publish(const FleetEvent& event);
  // Wakes every subscriber for good (the server is stopping).
  void close();

 private:
  static constexpr std::size_t kQueueLimit = 1000;
  std::mutex mu_;
  std::set<std::shared_ptr<Subscription>> subscribers_;
  bool closed_ = false;
};

}  // namespace fleet::server
