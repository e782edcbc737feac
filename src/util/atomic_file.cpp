#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fleet::util {

void write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode) {
  std::filesystem::path temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(errno));
  ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
  bool ok =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(saved));
  }
}

}  // namespace fleet::util
