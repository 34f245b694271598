// SPDX-License-Identifier: Apache-2.0
// xarch: build multi-platform container images, speaking docker buildx's flags.
#include "command.hpp"

#include <string>
#include <vector>

int main(int argc, char** argv) {
    return xarch::cli::run(std::vector<std::string>(argv + 1, argv + argc));
}
