// SPDX-License-Identifier: Apache-2.0
// BuildKit's whiteouts for a step's layer: opaque markers expanded against the lower stage into
// one whiteout per removed path, pointless whiteouts dropped, containerd's zero attributes.
#include "snapshot/whiteouts.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace xarch::snapshot {
namespace {

using layer::Entry;
using layer::EntryType;

Entry dir(std::string path) {
    Entry e;
    e.path = std::move(path);
    e.type = EntryType::kDirectory;
    e.mode = 0755;
    e.mtime_ns = 1'700'000'000'000'000'000;
    return e;
}

Entry file(std::string path) {
    Entry e;
    e.path = std::move(path);
    e.data = "x";
    e.size = 1;
    e.mtime_ns = 1'700'000'000'000'000'000;
    return e;
}

Entry marker(std::string path) {
    Entry e = file(std::move(path));
    e.data = std::string();
    e.size = 0;
    e.mode = 0600;
    return e;
}

// The stage a step ran on: /bin/{sh,ls}, /d/{a, sub/{x, deep/y}}, /etc/passwd.
layer::MergedView lower() {
    auto layer = std::make_shared<layer::MergedView::Layer>();
    layer->entries = {dir("bin"),           file("bin/ls"), file("bin/sh"),    dir("d"),
                      file("d/a"),          dir("d/sub"),   file("d/sub/x"),   dir("d/sub/deep"),
                      file("d/sub/deep/y"), dir("etc"),     file("etc/passwd")};
    return layer::MergedView({layer});
}

std::vector<std::string> paths(const std::vector<Entry>& entries) {
    std::vector<std::string> out;
    for (const Entry& e : entries) {
        out.push_back(e.path);
    }
    return out;
}

TEST(BuildkitWhiteouts, OpaqueDirectoryBecomesOneWhiteoutPerRemovedPath) {
    // `rm -rf /d && mkdir -p /d/sub && touch /d/new`: the upper's /d is opaque.
    const std::vector<Entry> out = buildkit_whiteouts(
        {dir("d"), marker("d/.wh..wh..opq"), file("d/new"), dir("d/sub")}, lower());
    EXPECT_EQ(paths(out), (std::vector<std::string>{"d", "d/.wh.a", "d/new", "d/sub",
                                                    "d/sub/.wh.deep", "d/sub/.wh.x"}));
}

TEST(BuildkitWhiteouts, WhiteoutsHaveContainerdsZeroAttributes) {
    const std::vector<Entry> out = buildkit_whiteouts({dir("bin"), marker("bin/.wh.ls")}, lower());
    ASSERT_EQ(out.size(), 2U);
    const Entry& w = out[1];
    EXPECT_EQ(w.path, "bin/.wh.ls");
    EXPECT_EQ(w.type, EntryType::kRegular);
    EXPECT_EQ(w.mode, 0U);
    EXPECT_EQ(w.uid, 0U);
    EXPECT_EQ(w.mtime_ns, 0);
    EXPECT_EQ(w.size, 0);
}

TEST(BuildkitWhiteouts, WhiteoutsOfPathsTheLowerLacksGo) {
    const std::vector<Entry> out = buildkit_whiteouts(
        {dir("bin"), marker("bin/.wh.never-there"), marker("bin/.wh.sh")}, lower());
    EXPECT_EQ(paths(out), (std::vector<std::string>{"bin", "bin/.wh.sh"}));
}

TEST(BuildkitWhiteouts, OpaqueMarkerOfANewDirectoryGoes) {
    const std::vector<Entry> out =
        buildkit_whiteouts({dir("fresh"), marker("fresh/.wh..wh..opq"), file("fresh/f")}, lower());
    EXPECT_EQ(paths(out), (std::vector<std::string>{"fresh", "fresh/f"}));
}

TEST(BuildkitWhiteouts, AFileReplacingALowerDirectoryHidesItsContentsItself) {
    // /d/sub became a file inside the opaque /d: no whiteouts for what was under it.
    const std::vector<Entry> out = buildkit_whiteouts(
        {dir("d"), marker("d/.wh..wh..opq"), file("d/a"), file("d/sub")}, lower());
    EXPECT_EQ(paths(out), (std::vector<std::string>{"d", "d/a", "d/sub"}));
}

}  // namespace
}  // namespace xarch::snapshot
