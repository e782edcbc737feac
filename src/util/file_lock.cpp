#include "util/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "util/poll.hpp"

namespace fleet::util {

FileLock::FileLock(const std::filesystem::path& path, unsigned mode, std::chrono::milliseconds timeout) {
  std::filesystem::create_directories(path.parent_path());
  // Opened without O_CREAT first: in a sticky /tmp, protected_regular refuses O_CREAT on a file that
  // another user created, even one we may open. Never through a symlink.
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0 && errno == ENOENT) fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd_ < 0)
    throw std::runtime_error("cannot open lock file " + path.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    release();
    throw std::runtime_error("lock file " + path.string() + " is not a regular file");
  }
  if (st.st_uid == ::geteuid() && (st.st_mode & 0777) != mode) ::fchmod(fd_, mode);  // the umask narrowed it
  int error = 0;
  bool locked = poll_until(
      [&] {
        if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
        error = errno;
        if (error != EWOULDBLOCK && error != EINTR)
          throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
        return false;
      },
      {.timeout = timeout, .interval = std::chrono::milliseconds(20)});
  if (!locked) {
    release();
    throw std::runtime_error("another fleet process has held " + path.string() + " for over " +
                             std::to_string(timeout.count() / 1000) + " s");
  }
}

std::unique_ptr<FileLock> FileLock::try_acquire(const std::filesystem::path& path, unsigned mode) {
  try {
    return std::make_unique<FileLock>(path, mode, std::chrono::milliseconds(0));
  } catch (const std::runtime_error&) {
    return nullptr;
  }
}

FileLock::~FileLock() {
  release();
}

void FileLock::release() {
  if (fd_ < 0) return;
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace fleet::util
