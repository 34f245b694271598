// SPDX-License-Identifier: Apache-2.0
// dockerfile-parse: parses the largest Dockerfiles of the parser conformance corpus many times
// each and prints the time per file (issue 4's parsing benchmark). A figure to read, not a test.
// usage: dockerfile-parse CORPUS_DIR [ITERATIONS=1000] [FILES=30]
#include "dockerfile/parser.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Input {
    fs::path path;
    std::string text;
};

int run(const fs::path& corpus, long iterations, std::size_t count) {
    std::vector<Input> inputs;
    for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
        if (entry.is_regular_file() && entry.path().filename() == "Dockerfile") {
            std::ifstream in(entry.path(), std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            inputs.push_back({entry.path(), text.str()});
        }
    }
    if (inputs.empty()) {
        std::cerr << "dockerfile-parse: no Dockerfile under " << corpus << "\n";
        return 1;
    }
    // Largest first; ties by path so that runs list files in the same order.
    std::sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) {
        return a.text.size() != b.text.size() ? a.text.size() > b.text.size() : a.path < b.path;
    });
    inputs.resize(std::min(count, inputs.size()));

    std::printf("%-70s %8s %8s %12s %10s\n", "file", "bytes", "parses", "total ms", "us/parse");
    double all_ms = 0;
    std::size_t instructions = 0;
    for (const Input& input : inputs) {
        xarch::dockerfile::ParseOptions options;
        options.file_name = input.path.string();
        int failures = 0;
        const auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i) {
            try {
                instructions += xarch::dockerfile::parse(input.text, options).instructions.size();
            } catch (const xarch::DockerfileError&) {
                ++failures;  // the negative cases fail by design; their time counts too
            }
        }
        const std::chrono::duration<double, std::milli> took =
            std::chrono::steady_clock::now() - start;
        all_ms += took.count();
        std::printf("%-70s %8zu %8ld %12.3f %10.3f%s\n",
                    fs::relative(input.path, corpus).string().c_str(), input.text.size(),
                    iterations, took.count(),
                    took.count() * 1000.0 / static_cast<double>(iterations),
                    failures > 0 ? "  (rejected)" : "");
    }
    std::printf("total: %zu files x %ld parses in %.3f ms (%zu instructions read)\n", inputs.size(),
                iterations, all_ms, instructions);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 4) {
        std::cerr << "usage: dockerfile-parse CORPUS_DIR [ITERATIONS=1000] [FILES=30]\n";
        return 2;
    }
    const long iterations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1000;
    const long files = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 30;
    if (iterations <= 0 || files <= 0) {
        std::cerr << "dockerfile-parse: ITERATIONS and FILES must be positive numbers\n";
        return 2;
    }
    try {
        return run(argv[1], iterations, static_cast<std::size_t>(files));
    } catch (const std::exception& e) {
        std::cerr << "dockerfile-parse: " << e.what() << "\n";
        return 1;
    }
}
