// In-memory ustar archives: build contexts, image rootfs imports and container archive transfers
// all speak tar, and the engine takes them as request bodies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::util {

struct TarEntry {
  enum class Type { File, Directory, Symlink };
  Type type = Type::File;
  std::string path;         // relative, '/'-separated, no leading '/'
  std::string content;      // files only
  std::string link_target;  // symlinks only
  unsigned mode = 0644;
  unsigned uid = 0;
  unsigned gid = 0;
};

class TarWriter {
 public:
  void add_file(std::string_view path, std::string_view content, unsigned mode = 0644);
  void add_directory(std::string_view path, unsigned mode = 0755);
  void add_symlink(std::string_view path, std::string_view target);
  void add(const TarEntry& entry);
  // Adds a host directory tree under `prefix` (empty: at the archive root), keeping file modes.
  void add_tree(const std::filesystem::path& root, std::string_view prefix = "");
  // Adds one host file under `path`, keeping its mode.
  void add_host_file(const std::filesystem::path& source, std::string_view path);
  // The archive with its two terminating zero blocks; the writer can keep adding afterwards.
  std::string finish() const;

 private:
  std::string data_;
};

// Reads the entries of an uncompressed ustar/GNU archive; throws std::runtime_error when malformed.
std::vector<TarEntry> read_tar(std::string_view archive);

}  // namespace fleet::util
