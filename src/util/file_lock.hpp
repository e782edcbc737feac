// An exclusive advisory lock on a file (flock), held by this object: separate processes that take
// the same lock run their critical sections one at a time. The kernel drops it if the holder dies.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

namespace fleet::util {

class FileLock {
 public:
  // Creates the file (and its folder) when missing, with `mode` (a lock shared by several users
  // needs 0666), then waits until the lock is ours. A symlink or anything but a regular file at
  // `path` is refused; a lock still held by someone else after `timeout` is an error naming it.
  explicit FileLock(const std::filesystem::path& path, unsigned mode = 0600,
                    std::chrono::milliseconds timeout = std::chrono::seconds(120));
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // Gives the lock up before the object goes away.
  void release();
  // The lock if nobody holds it right now, else nothing (no waiting).
  static std::unique_ptr<FileLock> try_acquire(const std::filesystem::path& path, unsigned mode = 0600);

 private:
  int fd_ = -1;
};

}  // namespace fleet::util
