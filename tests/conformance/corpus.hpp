// SPDX-License-Identifier: Apache-2.0
// The harness every conformance suite shares: locating its corpus under XARCH_CONFORMANCE_DIR
// (skipping when it is absent), reading corpus files, and tallying cases into the
// "<name> conformance: N passed, N failed" line printed at the end of the run.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace xarch::test {

/// The corpus folder `name` under XARCH_CONFORMANCE_DIR, or nullopt with the reason to skip.
inline std::optional<std::filesystem::path> corpus_dir(std::string_view name, std::string& why) {
    const char* root = std::getenv("XARCH_CONFORMANCE_DIR");
    if (root == nullptr || *root == '\0') {
        why = "XARCH_CONFORMANCE_DIR is not set, so the conformance corpus was not found: skipping";
        return std::nullopt;
    }
    std::filesystem::path dir = std::filesystem::path(root) / name;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        why = "conformance corpus not found at " + dir.string() + ": skipping";
        return std::nullopt;
    }
    return dir;
}

/// The bytes of a corpus file; throws when it cannot be read.
inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + file.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Each corpus case counts once.
struct Tally {
    int passed = 0;
    int failed = 0;
};

inline Tally& tally() {
    static Tally counts;
    return counts;
}

/// Prints the summary line when the run ends; `extra` may append to it before the newline.
class SummaryEnvironment : public ::testing::Environment {
public:
    explicit SummaryEnvironment(std::string name, std::function<void(std::ostream&)> extra = {})
        : name_(std::move(name)), extra_(std::move(extra)) {}

    void TearDown() override {
        std::cout << name_ << " conformance: " << tally().passed << " passed, " << tally().failed
                  << " failed";
        if (extra_) {
            extra_(std::cout);
        }
        std::cout << "\n";
    }

private:
    std::string name_;
    std::function<void(std::ostream&)> extra_;
};

/// Registers the summary for suite `name`; call it once, from a namespace-scope initializer.
inline ::testing::Environment* add_summary(std::string name,
                                           std::function<void(std::ostream&)> extra = {}) {
    return ::testing::AddGlobalTestEnvironment(
        new SummaryEnvironment(std::move(name), std::move(extra)));
}

/// Runs one case under a trace of its name and says whether it failed: whether `check` reported
/// a gtest failure or threw. It does not count the case.
inline bool case_failed(const std::string& name, const std::function<void()>& check) {
    SCOPED_TRACE(name);
    const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    const int before = result->total_part_count();
    bool threw = false;
    try {
        check();
    } catch (const std::exception& e) {
        threw = true;
        ADD_FAILURE() << "unexpected exception: " << e.what();
    }
    bool failed = threw;
    for (int i = before; i < result->total_part_count(); ++i) {
        failed = failed || result->GetTestPartResult(i).failed();
    }
    return failed;
}

/// Runs one case and counts it as passed or failed.
inline void run_case(const std::string& name, const std::function<void()>& check) {
    ++(case_failed(name, check) ? tally().failed : tally().passed);
}

/// A fixture whose tests skip, rather than fail, when the corpus folder is not there (a user's
/// checkout); `dir_` is that folder.
class CorpusTest : public ::testing::Test {
protected:
    explicit CorpusTest(std::string name) : name_(std::move(name)) {}

    void SetUp() override {
        std::string why;
        dir_ = corpus_dir(name_, why);
        if (!dir_) {
            GTEST_SKIP() << why;
        }
    }

    std::optional<std::filesystem::path> dir_;

private:
    std::string name_;
};

}  // namespace xarch::test
