// SPDX-License-Identifier: Apache-2.0
// Links xarch::cpp from an installed package and uses it.
#include <xarch/xarch.hpp>

#include <iostream>

int main() {
    const auto platforms = xarch::Platform::parse_list("amd64,arm,arm64");
    for (const auto& p : platforms)
        std::cout << p.to_string() << '\n';
    return platforms.size() == 3 && platforms[1].to_string() == "linux/arm/v7" ? 0 : 1;
}
