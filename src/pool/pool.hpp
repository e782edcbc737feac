// The warm pool of one kernel template, as pure policy: which members to make, pause, replace or
// destroy, and which one to hand out. No engine, no threads: the fleet observes the members,
// calls step(now), carries the changes out, and calls acquire() on the hot path.
//
// A member is created and started (filling), probed ready and paused (ready), and handed out by
// an unpause. Ready members older than twice the refresh interval are replaced, members of another
// template (the template changed) and broken ones are destroyed, and the pool is refilled to its size.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::pool {

using Clock = std::chrono::steady_clock;

// The seed's warm_pool settings.
struct Settings {
  bool enabled = true;
  int size = 5;
  int refresh_interval_seconds = 3600;
  // From {"enabled", "size", "refresh_interval_seconds"}; unknown keys and bad values throw
  // std::invalid_argument naming `<where>.<key>`.
  static Settings from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

struct Member {
  enum class State { Filling, Ready, Broken };
  std::string id;  // the container
  std::string kernel_id;
  std::string template_id;
  State state = State::Filling;
  Clock::time_point created{};
};

// What step() wants done. Every entry says why.
struct Changes {
  int create = 0;                                            // new members to fill
  std::vector<std::pair<std::string, std::string>> destroy;  // member id, why
  std::string reason_for_create;
  bool empty() const { return create == 0 && destroy.empty(); }
};

struct Stats {
  int current_size = 0;  // ready members
  int filling = 0;
  int target_size = 0;
  long hits = 0, misses = 0;
  double hit_rate_percent() const;
  nlohmann::json to_json() const;
};

class Pool {
 public:
  Pool(std::string template_id, Settings settings);

  const std::string& template_id() const { return template_id_; }
  const Settings& settings() const { return settings_; }

  // The members as observed (after a restart: rebuilt from the engine). Replaces the pool's view.
  void observe(std::vector<Member> members);
  // A member the fleet made or finished making since (filling, then ready).
  void add(const Member& member);
  void mark(const std::string& id, Member::State state);
  void remove(const std::string& id);

  // What to change now: stale, foreign and broken members go, the pool is refilled to its size
  // (members filling count towards it). Idempotent: the same view gives the same answer.
  Changes step(Clock::time_point now) const;

  // The oldest ready member, taken out of the pool; nothing when none is ready. A member that then
  // fails to resume is marked Broken by the caller (and destroyed by the next step), who takes the
  // next one.
  std::optional<Member> take();
  // How one request for a kernel ended: served from the pool (hit) or by a cold start (miss).
  void record(bool hit);

  Stats stats() const;
  std::vector<Member> members() const { return members_; }

 private:
  std::string template_id_;
  Settings settings_;
  std::vector<Member> members_;
  long hits_ = 0, misses_ = 0;
};

}  // namespace fleet::pool
