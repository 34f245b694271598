// SPDX-License-Identifier: Apache-2.0
// EntryStream: what a scan records (without digests), in walk order, handed out while the walk
// goes on, however small its window; a reader that leaves early stops the walk; an unreadable
// directory is the scan's clear error.
#include "context/entry_stream.hpp"

#include "context/scan.hpp"
#include "context_test_util.hpp"

#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xarch_context_test {
namespace {

using ::testing::HasSubstr;
using xarch::ContextEntry;
using xarch::Digest;
using xarch::Error;
using xarch::ErrorCode;
using xarch::context::EntryStream;
using xarch::context::scan_directory;
using xarch::context::ScanRequest;

std::vector<ContextEntry> drain(EntryStream& stream) {
    std::vector<ContextEntry> out;
    while (std::optional<ContextEntry> e = stream.next()) {
        out.push_back(std::move(*e));
    }
    return out;
}

// A tree with ignore rules that drop files and whole folders, an exception reaching into an
// ignored folder, a symlink, nested folders and enough files to fill small windows.
ScanRequest request_for(const TempTree& t) {
    t.file("Dockerfile", "FROM scratch\n");
    t.file("a.txt", "alpha");
    t.file("debug.log", "dropped");
    t.file("node_modules/drop/x.js", "dropped");
    t.file("node_modules/keep/y.js", "kept");
    t.symlink("a.txt", "link");
    for (int i = 0; i < 50; ++i) {
        t.file("many/f" + std::to_string(i), std::to_string(i));
    }
    ScanRequest request;
    request.root = t.root();
    request.exclude_patterns = {"*.log", "node_modules", "!node_modules/keep"};
    return request;
}

TEST(EntryStream, HoldsWhatTheScanRecordsWithoutDigestsForAnyWindow) {
    TempTree t;
    const ScanRequest request = request_for(t);
    std::vector<ContextEntry> expected = scan_directory(request).entries;
    ASSERT_GT(expected.size(), 50U);
    for (ContextEntry& e : expected) {
        e.digest = Digest();
    }
    for (std::size_t window : {std::size_t{1}, std::size_t{3}, std::size_t{4096}}) {
        EntryStream stream(request, window);
        EXPECT_EQ(drain(stream), expected) << "window " << window;
        EXPECT_EQ(stream.next(), std::nullopt);  // and stays at the end
    }
}

TEST(EntryStream, AReaderLeavingEarlyStopsTheWalk) {
    TempTree t;
    const ScanRequest request = request_for(t);
    std::vector<std::string> read;
    ScanRequest watched = request;
    watched.before_read = [&read](std::string_view dir) {
        read.emplace_back(dir);
        return std::error_code();
    };
    {
        EntryStream stream(watched, 1);
        ASSERT_TRUE(stream.next().has_value());
    }  // the walk, blocked on its window of one, ends here and its thread is joined
    // It never got to read every folder ("many" comes after the first entries).
    EXPECT_LT(read.size(), 4U) << ::testing::PrintToString(read);
}

TEST(EntryStream, AnUnreadableDirectoryIsTheScansError) {
    TempTree t;
    t.file("locked/secret");
    t.file("open/a");
    ScanRequest request;
    request.root = t.root();
    request.before_read = [](std::string_view dir) {
        return dir == "locked" ? std::make_error_code(std::errc::permission_denied)
                               : std::error_code();
    };
    EntryStream stream(request);
    try {
        drain(stream);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
        EXPECT_THAT(e.what(), HasSubstr("\"locked\""));
        EXPECT_THAT(e.what(), HasSubstr(".dockerignore"));
    }
}

}  // namespace
}  // namespace xarch_context_test
