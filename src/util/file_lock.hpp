// An exclusive advisory lock on a file (flock), held by this object: separate processes that take
// the same lock run their critical sections one at a time. The kernel drops it if the holder dies.
#pragma once

#include <filesystem>

namespace fleet::util {

class FileLock {
 public:
  // Creates the file (and its folder) when missing, with `mode` (a lock shared by several users
  // needs 0666), then blocks until the lock is ours.
  explicit FileLock(const std::filesystem::path& path, unsigned mode = 0600);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // Gives the lock up before the object goes away.
  void release();

 private:
  int fd_ = -1;
};

}  // namespace fleet::util
