// SPDX-License-Identifier: Apache-2.0
// Replays a seed corpus through a libFuzzer entry point, so that the fuzz targets run (as a ctest
// test) in builds without libFuzzer, such as GCC's. Each file under the given paths is fed as is,
// then every prefix of it and a few byte mutations, which reach the error paths cheaply.
// usage: fuzz_replay PATH... (files or folders; missing paths are skipped with a note)
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

void run(const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

// Seeds that need no corpus on disk: the syntax the parser treats specially.
const char* const kBuiltinSeeds[] = {
    "# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN x `\n  y\n",
    "FROM a\nRUN <<EOF <<-'B'\nhi\nEOF\n\tB\nCOPY <<F /f\nx\nF\n",
    "FROM a\nONBUILD RUN [\"a\", \"b\"]\nHEALTHCHECK --interval=5s CMD [\"c\"]\n",
    "ENV a=\"b c\" d=e\\ f\nLABEL x y\nARG A=1 B\nCOPY --from=b --chown=1 -- a b\n",
    "RUN a \\\n\n# c\n  b \\\n",
};

std::size_t replay(const std::string& input) {
    std::size_t runs = 0;
    run(input);
    ++runs;
    // Prefixes: every cut through a construct (quote, heredoc, continuation, JSON).
    const std::size_t step = input.size() / 120 + 1;
    for (std::size_t n = 0; n < input.size(); n += step, ++runs) {
        run(input.substr(0, n));
    }
    // Byte mutations that break structure: newline, escape, quote, bracket, NUL, 0xFF.
    const char replacements[] = {'\n', '\\', '"', '[', '\0', '\xFF'};
    const std::size_t stride = input.size() / 25 + 1;
    for (std::size_t i = 0; i < input.size(); i += stride) {
        for (char r : replacements) {
            std::string mutated = input;
            mutated[i] = r;
            run(mutated);
            ++runs;
        }
    }
    return runs;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t files = 0;
    std::size_t runs = 0;
    for (const char* seed : kBuiltinSeeds) {
        runs += replay(seed);
    }
    for (int i = 1; i < argc; ++i) {
        const fs::path root(argv[i]);
        std::error_code ec;
        if (!fs::exists(root, ec)) {
            std::cout << "note: " << root.string() << " not found, not replayed\n";
            continue;
        }
        std::vector<fs::path> paths;
        if (fs::is_directory(root, ec)) {
            for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
                if (entry.is_regular_file()) {
                    paths.push_back(entry.path());
                }
            }
        } else {
            paths.push_back(root);
        }
        for (const fs::path& path : paths) {
            std::ifstream in(path, std::ios::binary);
            const std::string input(std::istreambuf_iterator<char>(in), {});
            runs += replay(input);
            ++files;
        }
    }
    std::cout << "replayed " << files << " corpus files (" << runs << " inputs)\n";
    return 0;
}
