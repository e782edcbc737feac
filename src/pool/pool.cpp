#include "pool/pool.hpp"

#include <algorithm>
#include <stdexcept>

namespace fleet::pool {

Settings Settings::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object())
    throw std::invalid_argument(where + ": must be a table of enabled, size, refresh_interval_seconds");
  Settings s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = where + "." + it.key();
    const auto& v = it.value();
    if (it.key() == "enabled") {
      if (!v.is_boolean()) throw std::invalid_argument(key + ": must be true or false");
      s.enabled = v.get<bool>();
    } else if (it.key() == "size") {
      if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1000)
        throw std::invalid_argument(key + ": must be a whole number from 0 to 1000");
      s.size = v.get<int>();
    } else if (it.key() == "refresh_interval_seconds") {
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 30LL * 86400)
        throw std::invalid_argument(key + ": must be a whole number of seconds from 1 to 2592000");
      s.refresh_interval_seconds = v.get<int>();
    } else {
      throw std::invalid_argument(key + ": unknown key (known: enabled, size, refresh_interval_seconds)");
    }
  }
  return s;
}

nlohmann::json Settings::to_json() const {
  return {{"enabled", enabled}, {"size", size}, {"refresh_interval_seconds", refresh_interval_seconds}};
}

double Stats::hit_rate_percent() const {
  return hits + misses == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(hits + misses);
}

nlohmann::json Stats::to_json() const {
  return {{"current_size", current_size},
          {"filling", filling},
          {"target_size", target_size},
          {"hits", hits},
          {"misses", misses},
          {"hit_rate_percent", hit_rate_percent()}};
}

Pool::Pool(std::string template_id, Settings settings)
    : template_id_(std::move(template_id)), settings_(settings) {}

void Pool::observe(std::vector<Member> members) {
  members_ = std::move(members);
}

void Pool::add(const Member& member) {
  remove(member.id);
  members_.push_back(member);
}

void Pool::mark(const std::string& id, Member::State state) {
  for (auto& m : members_)
    if (m.id == id) m.state = state;
}

void Pool::remove(const std::string& id) {
  std::erase_if(members_, [&](const Member& m) { return m.id == id; });
}

Changes Pool::step(Clock::time_point now) const {
  Changes c;
  const auto stale_after = std::chrono::seconds(2LL * settings_.refresh_interval_seconds);
  int keep = 0;
  for (const auto& m : members_) {
    if (m.template_id != template_id_)
      c.destroy.emplace_back(m.id, "made for another template (the template changed)");
    else if (m.state == Member::State::Broken)
      c.destroy.emplace_back(m.id, "did not resume or answer");
    else if (!settings_.enabled)
      c.destroy.emplace_back(m.id, "the pool is disabled");
    else if (m.state == Member::State::Ready && now - m.created > stale_after)
      c.destroy.emplace_back(m.id, "older than twice the refresh interval");
    else
      ++keep;
  }
  // More than asked (the size was lowered): the youngest go, the oldest are handed out first anyway.
  if (settings_.enabled && keep > settings_.size) {
    std::vector<const Member*> kept;
    for (const auto& m : members_)
      if (std::none_of(c.destroy.begin(), c.destroy.end(), [&](const auto& d) { return d.first == m.id; }))
        kept.push_back(&m);
    std::sort(kept.begin(), kept.end(),
              [](const Member* a, const Member* b) { return a->created > b->created; });
    for (int i = 0; i < keep - settings_.size; ++i)
      c.destroy.emplace_back(kept[static_cast<std::size_t>(i)]->id, "more members than the pool's size");
    keep = settings_.size;
  }
  if (settings_.enabled && keep < settings_.size) {
    c.create = settings_.size - keep;
    c.reason_for_create = "the pool has " + std::to_string(keep) + " of " + std::to_string(settings_.size);
  }
  return c;
}

std::optional<Member> Pool::take() {
  auto oldest = members_.end();
  for (auto it = members_.begin(); it != members_.end(); ++it)
    if (it->state == Member::State::Ready && it->template_id == template_id_ &&
        (oldest == members_.end() || it->created < oldest->created))
      oldest = it;
  if (oldest == members_.end()) return std::nullopt;
  Member m = *oldest;
  members_.erase(oldest);
  return m;
}

void Pool::record(bool hit) {
  ++(hit ? hits_ : misses_);
}

Stats Pool::stats() const {
  Stats s;
  for (const auto& m : members_) {
    if (m.template_id != template_id_) continue;
    if (m.state == Member::State::Ready) ++s.current_size;
    if (m.state == Member::State::Filling) ++s.filling;
  }
  s.target_size = settings_.enabled ? settings_.size : 0;
  s.hits = hits_;
  s.misses = misses_;
  return s;
}

}  // namespace fleet::pool
