// Every file in tests/compose/bad is refused with a message naming the file, the line and the key.
// Each file says what it expects in its first lines: "# expect: <text>" and "# line: <n>" (0: none).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "compose/error.hpp"
#include "compose/loader.hpp"
#include "compose/profiles.hpp"

using namespace fleet::compose;

namespace {
std::string header(const std::filesystem::path& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# " + key + ": ", 0) == 0) return line.substr(key.size() + 4);
  return {};
}
}  // namespace

TEST_CASE("malformed and hostile compose files are refused with file, line and key", "[compose][bad]") {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(FLEET_TEST_COMPOSE "/bad"))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 25);
  for (const auto& file : files) {
    std::string expect = header(file, "expect");
    std::string line = header(file, "line");
    INFO(file.filename().string() << " should fail with: " << expect);
    REQUIRE_FALSE(expect.empty());
    REQUIRE_FALSE(line.empty());
    try {
      Project p = load_project({.file = file, .project_name = "badtest"});
      select_services(p, {});  // profile rules are checked when services are chosen
      FAIL("accepted");
    } catch (const ComposeError& e) {
      std::string what = e.what();
      CHECK_THAT(what, Catch::StartsWith(file.string()));
      CHECK_THAT(what, Catch::Contains(expect));
      CHECK(e.line() == std::stoi(line));
    }
  }
}
