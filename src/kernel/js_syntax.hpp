// Source transforms that let notebook JavaScript written for ES2015 run on Duktape, which parses
// ES5.1 only. They work on tokens, never on a syntax tree: strings, comments, regular expressions and
// template literals pass through untouched, and every line break stays where it was so that the
// line numbers in error messages still point at the user's code.
#pragma once

#include <string>
#include <string_view>

namespace fleet::kernel {

// Rewrites arrow functions as ES5 function expressions bound to the enclosing `this`:
//   x => x * 2          (function (x) { return (x * 2); }).bind(this)
//   (a, b) => { ... }   (function (a, b) { ... }).bind(this)
// An expression body ends at a `,`, `;`, `:` (of an enclosing `?`) or closing bracket outside any
// bracket of its own, at a line break where JavaScript would insert a semicolon, or at the end.
// Parameters are copied as written, so default values, destructuring and rest parameters stay ES2015
// (and a syntax error in Duktape); `arguments` inside an arrow is the function's own, not the
// enclosing one. Code without `=>` comes back byte for byte.
std::string lower_arrow_functions(std::string_view code);

}  // namespace fleet::kernel
