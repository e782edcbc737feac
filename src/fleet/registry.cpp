// The registry the fleet keeps on the host: <home>/registry/registry.json lists every kernel the
// engine has (ids, ports, owners, states; never a key), rewritten from the engine after every
// change, and the connection files of kernels that are gone are removed so none points at nothing.
// Refreshes of one home take turns (a lock in the home), and a connection file written after the
// snapshot was taken (a kernel another process has just spawned) is never taken for a stale one.
#include <fstream>
#include <set>

#include "fleet/connection_files.hpp"
#include "fleet/operations.hpp"
#include "util/atomic_file.hpp"
#include "util/file_lock.hpp"

namespace fleet {

RegistryRefresh refresh_registry(Context& ctx, bool remove_stale_files, bool wait) {
  RegistryRefresh result;
  ctx.home.prepare();
  auto lock = wait ? std::make_unique<util::FileLock>(ctx.home.lock_file("registry"))
                   : util::FileLock::try_acquire(ctx.home.lock_file("registry"));
  const auto snapshot = std::filesystem::file_time_type::clock::now();
  Observed kernels = observe_kernels(ctx.client);
  result.rows = kernel_rows(ctx, kernels.containers);
  result.foreign = std::move(kernels.foreign);
  if (!lock) return result;
  std::set<std::string> live;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& row : result.rows) {
    live.insert(row.kernel_id);
    nlohmann::json entry = row.to_json();
    entry.erase("container_id");
    entries.push_back(entry);
  }

  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ctx.home.root, ec)) {
    if (!remove_stale_files) break;
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    if (live.count(entry.path().stem().string())) continue;
    // A swarm kernel's file is kept by the swarm backend (it names the kernel's node), not here.
    if (std::ifstream file(entry.path()); nlohmann::json::parse(file, nullptr, false).contains(kSwarmNodeKey))
      continue;
    auto written = std::filesystem::last_write_time(entry.path(), ec);
    if (ec || written >= snapshot) continue;
    std::filesystem::remove(entry.path(), ec);
    result.removed_files.push_back(entry.path().string());
  }

  // What the previous registry listed that is gone now.
  std::ifstream in(ctx.home.registry_file());
  auto previous = nlohmann::json::parse(in, nullptr, false);  // unreadable: rebuilt all the same
  if (previous.is_object() && previous.contains("kernels") && previous["kernels"].is_array())
    for (const auto& k : previous["kernels"])
      if (k.is_object() && !live.count(k.value("kernel_id", ""))) ++result.dropped_entries;

  nlohmann::json registry = {{"kernels", entries}};
  // Unchanged: no write (and no fsync) at all. (A previous that did not parse is "discarded", which
  // compares unequal to nothing: checked by its type.)
  if (!previous.is_object() || registry != previous)
    util::write_file_atomically(ctx.home.registry_file(), registry.dump(2) + "\n", 0644);
  return result;
}

void refresh_registry_after_change(Context& ctx) {
  try {
    refresh_registry(ctx);
  } catch (const std::exception& e) {
    ctx.warn("Registry", std::string("not rewritten: ") + e.what());
  }
}

}  // namespace fleet
