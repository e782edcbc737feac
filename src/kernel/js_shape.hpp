// How JavaScript source ends: closed, still open (a bracket, string, template literal or block
// comment not yet closed) or unbalanced (a closing bracket with nothing to close). is_complete asks
// this of code that does not compile, to tell code still being typed from code that is wrong.
#pragma once

#include <string_view>

namespace fleet::kernel {

enum class JsShape { closed, open, unbalanced };

JsShape js_shape(std::string_view code);

}  // namespace fleet::kernel
