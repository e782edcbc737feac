// Comparing secrets (tokens) in time that does not depend on where they differ.
#pragma once

#include <string_view>

namespace fleet::util {

bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace fleet::util
