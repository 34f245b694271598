// SPDX-License-Identifier: Apache-2.0
// Every Dockerfile of the parser conformance corpus (testfiles and testfiles-negative) through
// plan() for linux/amd64 and linux/arm64: each must give a plan or a DockerfileError, never another
// exception or a crash. Prints how many did which.
#include "dockerfile/parser.hpp"
#include "dockerfile/plan.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace df = xarch::dockerfile;
namespace fs = std::filesystem;

TEST(DockerfilePlanConformance, EveryCorpusDockerfilePlansOrFailsCleanly) {
    const char* root = std::getenv("XARCH_CONFORMANCE_DIR");
    const fs::path corpus = root != nullptr ? fs::path(root) / "dockerfile-parser" : fs::path();
    if (root == nullptr || !fs::is_directory(corpus)) {
        GTEST_SKIP() << "conformance corpus not found (XARCH_CONFORMANCE_DIR): skipping";
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
        if (entry.is_regular_file() && entry.path().filename() == "Dockerfile") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty());

    df::PlanOptions options;
    options.platforms = {xarch::Platform::parse("linux/amd64"),
                         xarch::Platform::parse("linux/arm64")};
    options.build_platform = xarch::Platform::parse("linux/amd64");
    int planned = 0;
    int rejected = 0;
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        df::ParseOptions parse_options;
        parse_options.file_name = file.string();
        try {
            const df::Plan plan = df::plan(df::parse(text.str(), parse_options), options);
            EXPECT_EQ(plan.results.size(), 2U) << file;
            EXPECT_FALSE(plan.instances.empty()) << file;
            ++planned;
        } catch (const xarch::DockerfileError& e) {
            EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
            ++rejected;
        } catch (const std::exception& e) {
            ADD_FAILURE() << file << ": not a DockerfileError: " << e.what();
        }
    }
    std::cout << "dockerfile plan over the parser corpus: " << files.size() << " files, " << planned
              << " planned, " << rejected << " rejected with a DockerfileError\n";
    EXPECT_EQ(planned + rejected, static_cast<int>(files.size()));
    EXPECT_GT(planned, 0);
}

}  // namespace
