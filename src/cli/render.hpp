// Human renderings shared by the commands: sizes, durations, tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fleet::cli {

std::string human_bytes(std::int64_t bytes);       // "512MiB", "-" for 0
std::string human_duration(std::int64_t seconds);  // "3m20s", "-" for negative

// Rows (the first one the header) in columns as wide as their widest cell, two spaces apart.
std::vector<std::string> table_lines(const std::vector<std::vector<std::string>>& rows);
void print_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace fleet::cli
