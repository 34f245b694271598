// SPDX-License-Identifier: Apache-2.0
// The xarch side of the registry-push benchmark: pushes the image an OCI layout names to a
// registry with xarch::Registry::push, as `skopeo copy --all oci:LAYOUT:TAG docker://DST` does.
//
//     push_layout LAYOUT TAG DST [--jobs N] [--chunk-threshold BYTES]
//
// Prints the pushed root's digest on stdout; errors go to stderr with exit status 1.
#include <xarch/error.hpp>
#include <xarch/oci_layout.hpp>
#include <xarch/reference.hpp>
#include <xarch/registry.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace {

int usage() {
    std::cerr << "usage: push_layout LAYOUT TAG DST [--jobs N] [--chunk-threshold BYTES]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4 || argc % 2 != 0) {
        return usage();
    }
    xarch::RegistryOptions options;
    // The benchmark compares transfers, not credential lookups.
    options.credentials = nullptr;
    for (int i = 4; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const auto value = std::strtoull(argv[i + 1], nullptr, 10);
        if (flag == "--jobs") {
            options.jobs = static_cast<std::size_t>(value);
        } else if (flag == "--chunk-threshold") {
            options.chunk_threshold = static_cast<std::int64_t>(value);
        } else {
            return usage();
        }
    }
    try {
        const auto layout = xarch::OciLayout::open(argv[1]);
        const auto root = layout.resolve(argv[2]);
        if (!root) {
            std::cerr << "push_layout: no manifest named '" << argv[2] << "' in " << argv[1]
                      << "'s index.json\n";
            return 1;
        }
        xarch::Registry registry(std::move(options));
        const auto pushed = registry.push(layout, *root, xarch::Reference::parse(argv[3]));
        std::cout << pushed.digest.to_string() << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "push_layout: " << e.what() << "\n";
        return 1;
    }
}
