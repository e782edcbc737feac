// The registry the fleet keeps on the host: <home>/registry/registry.json lists every kernel the
// engine has (ids, ports, owners, states; never a key), rewritten from the engine after every
// change, and the connection files of kernels that are gone are removed so none points at nothing.
#include <fstream>
#include <set>

#include "fleet/operations.hpp"
#include "util/atomic_file.hpp"

namespace fleet {

RegistryRefresh refresh_registry(Context& ctx) {
  RegistryRefresh result;
  ctx.home.prepare();
  auto kernels = observe_kernels(ctx.client).containers;
  std::set<std::string> live;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& row : kernel_rows(ctx, kernels)) {
    live.insert(row.kernel_id);
    nlohmann::json entry = row.to_json();
    entry.erase("container_id");
    entries.push_back(entry);
  }

  // Connection files of kernels that are gone would point clients at nothing.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ctx.home.root, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    if (live.count(entry.path().stem().string())) continue;
    std::filesystem::remove(entry.path(), ec);
    result.removed_files.push_back(entry.path().string());
  }

  // What the previous registry listed that is gone now.
  try {
    std::ifstream in(ctx.home.registry_file());
    auto previous = nlohmann::json::parse(in, nullptr, false);
    if (previous.is_object() && previous.contains("kernels") && previous["kernels"].is_array())
      for (const auto& k : previous["kernels"])
        if (k.is_object() && !live.count(k.value("kernel_id", ""))) ++result.dropped_entries;
  } catch (const std::exception&) {
    // A registry that cannot be read is rebuilt all the same.
  }

  util::write_file_atomically(ctx.home.registry_file(), nlohmann::json({{"kernels", entries}}).dump(2) + "\n",
                              0644);
  return result;
}

}  // namespace fleet
