#include "server/events_hub.hpp"

namespace fleet::server {

std::optional<FleetEvent> EventHub::Subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  FleetEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

std::size_t EventHub::Subscription::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::shared_ptr<EventHub::Subscription> EventHub::subscribe() {
  auto s = std::make_shared<Subscription>();
  std::lock_guard lock(mu_);
  s->closed_ = closed_;
  subscribers_.insert(s);
  return s;
}

void EventHub::unsubscribe(const std::shared_ptr<Subscription>& s) {
  std::lock_guard lock(mu_);
  subscribers_.erase(s);
}

void EventHub::publish(const FleetEvent& event) {
  std::lock_guard lock(mu_);
  for (const auto& s : subscribers_) {
    {
      std::lock_guard inner(s->mu_);
      if (s->queue_.size() >= kQueueLimit) {
        s->queue_.pop_front();
        ++s->dropped_;
      }
      s->queue_.push_back(event);
    }
    s->ready_.notify_one();
  }
}

void EventHub::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (const auto& s : subscribers_) {
    {
      std::lock_guard inner(s->mu_);
      s->closed_ = true;
    }
    s->ready_.notify_all();
  }
}

}  // namespace fleet::server
