// The llmspell-fleet command line.
#pragma once

namespace fleet::cli {

int run(int argc, char** argv);

}  // namespace fleet::cli
