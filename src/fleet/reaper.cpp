#include "fleet/reaper.hpp"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace fleet {
namespace {

bool process_alive(const std::string& pid_text) {
  try {
    pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
  } catch (const std::exception&) {
    return false;
  }
}

bool dead_run(const engine::Labels& labels) {
  auto pid = labels.find(kTestPidLabel);
  auto expires = labels.find(kTestExpiresLabel);
  if (pid == labels.end() || !process_alive(pid->second)) return true;
  try {
    return expires == labels.end() ||
           std::stoll(expires->second) < static_cast<long long>(std::time(nullptr));
  } catch (const std::exception&) {
    return true;
  }
}

template <typename Fn>
bool removed(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const engine::NotFoundError&) {
    return false;  // already gone
  }
}

}  // namespace

int remove_labelled(engine::Api& client, const engine::Filters& filters,
                    const std::function<bool(const engine::Labels&)>& remove_it) {
  auto wanted = [&](const engine::Labels& l) { return !remove_it || remove_it(l); };
  int count = 0;
  for (const auto& c : client.list_containers({.all = true, .filters = filters}))
    if (wanted(c.labels))
      count += removed([&] { client.remove_container(c.id, {.force = true, .volumes = true}); });
  for (const auto& n : client.list_networks(filters))
    if (wanted(n.labels)) count += removed([&] { client.remove_network(n.id); });
  for (const auto& v : client.list_volumes(filters))
    if (wanted(v.labels)) count += removed([&] { client.remove_volume(v.name, true); });
  for (const auto& i : client.list_images(filters))
    if (wanted(i.labels)) count += removed([&] { client.remove_image(i.id, true); });
  return count;
}

int reap_dead_test_runs(engine::Api& client) {
  return remove_labelled(client, {{"label", {kTestSessionLabel}}}, dead_run);
}

}  // namespace fleet
