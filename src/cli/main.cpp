#include "cli/app.hpp"

int main(int argc, char** argv) {
  return fleet::cli::run(argc, argv);
}
