#include "util/tar.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fleet::util {
namespace {

constexpr std::size_t kBlock = 512;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  // width includes the terminating NUL.
  std::string digits(width - 1, '0');
  for (std::size_t i = width - 1; i-- > 0 && value;) {
    digits[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  if (value) throw std::length_error("tar: value does not fit its header field");
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

std::uint64_t get_octal(const char* field, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width && field[i]; ++i) {
    if (field[i] == ' ') continue;
    if (field[i] < '0' || field[i] > '7') throw std::runtime_error("tar: bad octal field");
    value = value * 8 + static_cast<std::uint64_t>(field[i] - '0');
  }
  return value;
}

// memcpy from an empty string_view may pass a null pointer, which memcpy does not allow.
void copy_field(char* field, std::string_view text) {
  if (!text.empty()) std::memcpy(field, text.data(), text.size());
}

std::string header_block(const TarEntry& e, std::string_view name, char typeflag, std::uint64_t size) {
  std::string block(kBlock, '\0');
  char* h = block.data();
  // ustar splits long names into prefix (155) and name (100) at a '/'.
  std::string_view prefix;
  if (name.size() > 100) {
    auto cut = name.rfind('/', 155);
    if (cut == std::string_view::npos || name.size() - cut - 1 > 100)
      throw std::length_error("tar: path too long: " + std::string(name));
    prefix = name.substr(0, cut);
    name = name.substr(cut + 1);
  }
  copy_field(h, name);
  put_octal(h + 100, 8, e.mode & 07777);
  put_octal(h + 108, 8, e.uid);
  put_octal(h + 116, 8, e.gid);
  put_octal(h + 124, 12, size);
  put_octal(h + 136, 12, 0);  // mtime 0: identical input gives an identical archive
  h[156] = typeflag;
  if (e.link_target.size() > 100) throw std::length_error("tar: link target too long");
  copy_field(h + 157, e.link_target);
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  copy_field(h + 345, prefix);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  put_octal(h + 148, 7, sum);
  h[155] = ' ';
  return block;
}

std::string clean_path(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) throw std::invalid_argument("tar: empty entry path");
  return std::string(path);
}

}  // namespace

void TarWriter::add(const TarEntry& entry) {
  std::string path = clean_path(entry.path);
  switch (entry.type) {
    case TarEntry::Type::File:
      data_ += header_block(entry, path, '0', entry.content.size());
      data_ += entry.content;
      data_.append((kBlock - entry.content.size() % kBlock) % kBlock, '\0');
      break;
    case TarEntry::Type::Directory:
      data_ += header_block(entry, path + "/", '5', 0);
      break;
    case TarEntry::Type::Symlink:
      data_ += header_block(entry, path, '2', 0);
      break;
  }
}

void TarWriter::add_file(std::string_view path, std::string_view content, unsigned mode) {
  add({TarEntry::Type::File, std::string(path), std::string(content), {}, mode});
}

void TarWriter::add_directory(std::string_view path, unsigned mode) {
  add({TarEntry::Type::Directory, std::string(path), {}, {}, mode});
}

void TarWriter::add_symlink(std::string_view path, std::string_view target) {
  add({TarEntry::Type::Symlink, std::string(path), {}, std::string(target), 0777});
}

void TarWriter::add_host_file(const std::filesystem::path& source, std::string_view path) {
  std::ifstream in(source, std::ios::binary);
  if (!in) throw std::runtime_error("tar: cannot read " + source.string());
  std::ostringstream content;
  content << in.rdbuf();
  struct stat st {};
  unsigned mode = ::stat(source.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  add_file(path, content.str(), mode);
}

void TarWriter::add_tree(const std::filesystem::path& root, std::string_view prefix) {
  namespace fs = std::filesystem;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::recursive_directory_iterator(root)) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());  // stable order: the same tree gives the same archive
  for (const auto& p : paths) {
    // lexically: fs::relative would resolve a symlink to its target and archive it under that name.
    std::string rel = p.lexically_relative(root).generic_string();
    std::string name = prefix.empty() ? rel : std::string(prefix) + "/" + rel;
    auto status = fs::symlink_status(p);
    if (fs::is_symlink(status)) {
      add_symlink(name, fs::read_symlink(p).string());
    } else if (fs::is_directory(status)) {
      add_directory(name, static_cast<unsigned>(status.permissions()) & 07777);
    } else if (fs::is_regular_file(status)) {
      add_host_file(p, name);
    }
  }
}

std::string TarWriter::finish() const {
  return data_ + std::string(2 * kBlock, '\0');
}

std::vector<TarEntry> read_tar(std::string_view archive) {
  std::vector<TarEntry> entries;
  std::string long_name;  // GNU 'L' records carry the next entry's long name
  std::size_t pos = 0;
  while (pos + kBlock <= archive.size()) {
    const char* h = archive.data() + pos;
    if (std::all_of(h, h + kBlock, [](char c) { return c == '\0'; })) break;
    std::uint64_t size = get_octal(h + 124, 12);
    char type = h[156];
    std::size_t data_at = pos + kBlock;
    if (data_at + size > archive.size()) throw std::runtime_error("tar: truncated archive");
    std::string_view data = archive.substr(data_at, size);
    pos = data_at + (size + kBlock - 1) / kBlock * kBlock;
    if (type == 'L') {
      long_name.assign(data.data(), strnlen(data.data(), data.size()));
      continue;
    }
    if (type == 'x' || type == 'g') continue;  // pax headers: attributes we do not need
    TarEntry e;
    std::string name(h, strnlen(h, 100));
    std::string prefix(h + 345, strnlen(h + 345, 155));
    e.path = !long_name.empty() ? long_name : (prefix.empty() ? name : prefix + "/" + name);
    long_name.clear();
    while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
    e.mode = static_cast<unsigned>(get_octal(h + 100, 8));
    e.uid = static_cast<unsigned>(get_octal(h + 108, 8));
    e.gid = static_cast<unsigned>(get_octal(h + 116, 8));
    if (type == '5') {
      e.type = TarEntry::Type::Directory;
    } else if (type == '2') {
      e.type = TarEntry::Type::Symlink;
      e.link_target.assign(h + 157, strnlen(h + 157, 100));
    } else {
      e.type = TarEntry::Type::File;
      e.content = std::string(data);
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace fleet::util
