#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "util/tar.hpp"

using namespace fleet::util;

TEST_CASE("archives read back entry by entry", "[tar]") {
  TarWriter w;
  w.add_directory("etc", 0755);
  w.add_file("etc/config.toml", "provider = \"openai\"\n", 0640);
  w.add_symlink("bin/sh", "busybox");
  std::string long_path = std::string(120, 'd') + "/" + std::string(80, 'f');
  w.add_file(long_path, std::string(1000, 'z'));
  std::string tar = w.finish();
  CHECK(tar.size() % 512 == 0);

  auto entries = read_tar(tar);
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].type == TarEntry::Type::Directory);
  CHECK(entries[0].path == "etc");
  CHECK(entries[1].path == "etc/config.toml");
  CHECK(entries[1].content == "provider = \"openai\"\n");
  CHECK(entries[1].mode == 0640);
  CHECK(entries[2].type == TarEntry::Type::Symlink);
  CHECK(entries[2].link_target == "busybox");
  CHECK(entries[3].path == long_path);
  CHECK(entries[3].content.size() == 1000);
}

TEST_CASE("GNU tar lists what the writer produced", "[tar]") {
  TarWriter w;
  w.add_file("a/b.txt", "hello");
  w.add_symlink("a/link", "b.txt");
  auto path = std::filesystem::temp_directory_path() / "fleet-tar-test.tar";
  std::ofstream(path, std::ios::binary) << w.finish();
  std::string listing;
  FILE* p = popen(("tar -tf " + path.string()).c_str(), "r");
  REQUIRE(p);
  char buf[256];
  while (fgets(buf, sizeof buf, p)) listing += buf;
  CHECK(pclose(p) == 0);
  std::filesystem::remove(path);
  CHECK(listing == "a/b.txt\na/link\n");
}

TEST_CASE("malformed archives are refused", "[tar]") {
  TarWriter w;
  w.add_file("x", std::string(2000, 'x'));
  std::string tar = w.finish();
  CHECK_THROWS_AS(read_tar(tar.substr(0, 1024)), std::runtime_error);
  std::string bad = tar;
  bad[124] = 'Q';  // size field
  CHECK_THROWS_AS(read_tar(bad), std::runtime_error);
  CHECK_THROWS_AS(w.add_file("", "x"), std::invalid_argument);
}

TEST_CASE("a host tree keeps its symlinks under their own names, and file modes", "[tar]") {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("fleet-tree-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "lib");
  std::ofstream(root / "lib" / "libx.so.1.2") << "elf";
  fs::permissions(root / "lib" / "libx.so.1.2", fs::perms(0755));
  fs::create_symlink("libx.so.1.2", root / "lib" / "libx.so.1");
  TarWriter w;
  w.add_tree(root, "rootfs");
  fs::remove_all(root);
  auto entries = read_tar(w.finish());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].path == "rootfs/lib");
  CHECK(entries[0].type == TarEntry::Type::Directory);
  CHECK(entries[1].path == "rootfs/lib/libx.so.1");
  CHECK(entries[1].type == TarEntry::Type::Symlink);
  CHECK(entries[1].link_target == "libx.so.1.2");
  CHECK(entries[2].path == "rootfs/lib/libx.so.1.2");
  CHECK(entries[2].content == "elf");
  CHECK(entries[2].mode == 0755);
}
