// A compose file problem, located: "compose/docker-compose.yml:12: services.kernel.mem_limit: ...".
#pragma once

#include <stdexcept>
#include <string>

namespace fleet::compose {

class ComposeError : public std::runtime_error {
 public:
  ComposeError(std::string file, int line, std::string path, std::string message)
      : std::runtime_error(format(file, line, path, message)),
        file_(std::move(file)),
        line_(line),
        path_(std::move(path)),
        message_(std::move(message)) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when unknown
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  static std::string format(const std::string& file, int line, const std::string& path,
                            const std::string& message) {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
    if (!path.empty()) out += path + ": ";
    return out + message;
  }
  std::string file_;
  int line_;
  std::string path_;
  std::string message_;
};

}  // namespace fleet::compose
