// SPDX-License-Identifier: Apache-2.0
// MergedView: whiteouts, opaque directories, replacement, symlink resolution, large layers; and
// export_directory compared with the view it exported.
#include "layer/merged_view.hpp"

#include "layer/unpack.hpp"
#include "layer/writer.hpp"
#include "layer_test_util.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace xarch::layer {
namespace {

using test::TempDir;
using LayerPtr = std::shared_ptr<const MergedView::Layer>;

LayerPtr layer_of(std::vector<Entry> entries) {
    auto layer = std::make_shared<MergedView::Layer>();
    layer->entries = std::move(entries);
    return layer;
}

Entry dir_entry(std::string path) {
    return test::make_entry(std::move(path), EntryType::kDirectory, 0755);
}

Entry symlink_entry(std::string path, std::string target) {
    Entry entry = test::make_entry(std::move(path), EntryType::kSymlink, 0777);
    entry.link_target = std::move(target);
    return entry;
}

std::vector<std::string> paths(const std::vector<Entry>& entries) {
    std::vector<std::string> out;
    for (const Entry& e : entries) {
        out.push_back(e.path);
    }
    return out;
}

TEST(MergedView, WhiteoutsHideLowerEntries) {
    const MergedView view({
        layer_of({dir_entry("a"), test::file_entry("a/b", "b"), test::file_entry("a/c", "c"),
                  dir_entry("x"), test::file_entry("x/y", "y"), test::file_entry("keep", "k")}),
        layer_of({test::file_entry("a/.wh.b", ""), test::file_entry(".wh.x", ""),
                  test::file_entry("keep", "upper")}),
    });
    EXPECT_FALSE(view.lookup("/a/b"));
    EXPECT_TRUE(view.lookup("/a/c"));
    EXPECT_FALSE(view.lookup("x"));
    EXPECT_FALSE(view.lookup("/x/y"));
    EXPECT_EQ(view.read_file("/keep"), "upper");
    EXPECT_EQ(paths(view.all()), (std::vector<std::string>{"a", "a/c", "keep"}));
}

TEST(MergedView, OpaqueDirectoryHidesLowerContents) {
    const MergedView view({
        layer_of({dir_entry("d"), test::file_entry("d/1", "1"), dir_entry("d/sub"),
                  test::file_entry("d/sub/2", "2"), test::file_entry("other", "o")}),
        layer_of(
            {dir_entry("d"), test::file_entry("d/.wh..wh..opq", ""), test::file_entry("d/3", "3")}),
    });
    EXPECT_EQ(paths(view.list("/d")), (std::vector<std::string>{"d/3"}));
    EXPECT_EQ(paths(view.all()), (std::vector<std::string>{"d", "d/3", "other"}));
    // A whiteout in a higher layer can remove what the opaque layer added.
    const MergedView again({
        layer_of({dir_entry("d"), test::file_entry("d/1", "1")}),
        layer_of({test::file_entry("d/.wh..wh..opq", ""), test::file_entry("d/3", "3")}),
        layer_of({test::file_entry("d/.wh.3", ""), test::file_entry("d/4", "4")}),
    });
    EXPECT_EQ(paths(again.list("d")), (std::vector<std::string>{"d/4"}));
}

TEST(MergedView, FileReplacesDirectoryAndImpliedParents) {
    const MergedView view({
        layer_of({dir_entry("e"), test::file_entry("e/f", "f"), test::file_entry("g", "g")}),
        layer_of({test::file_entry("e", "now a file"), test::file_entry("g/h/i", "deep")}),
    });
    EXPECT_EQ(paths(view.all()), (std::vector<std::string>{"e", "g", "g/h", "g/h/i"}));
    EXPECT_EQ(view.lookup("/g")->type, EntryType::kDirectory);
    EXPECT_EQ(view.lookup("/g/h")->mode, 0755U);
    EXPECT_EQ(view.read_file("e"), "now a file");
    EXPECT_EQ(view.lookup("/")->type, EntryType::kDirectory);
}

TEST(MergedView, ResolvesSymlinksInsideTheRoot) {
    const MergedView view({layer_of({
        dir_entry("usr"),
        dir_entry("usr/lib"),
        test::file_entry("usr/lib/x", "lib x"),
        symlink_entry("lib", "usr/lib"),
        dir_entry("etc"),
        symlink_entry("etc/alt", "/etc/real"),
        test::file_entry("etc/real", "real"),
        symlink_entry("up", "../../../etc"),
        symlink_entry("loop1", "loop2"),
        symlink_entry("loop2", "/loop1"),
        symlink_entry("usr/lib/self", "../lib/./x"),
    })});
    EXPECT_EQ(view.resolve("/lib/x", true), "/usr/lib/x");
    EXPECT_EQ(view.resolve("lib", false), "/lib");
    EXPECT_EQ(view.resolve("lib", true), "/usr/lib");
    EXPECT_EQ(view.resolve("/etc/alt", true), "/etc/real");
    EXPECT_EQ(view.resolve("/up/alt", true), "/etc/real");
    EXPECT_EQ(view.resolve("/../../lib/self", true), "/usr/lib/x");
    EXPECT_EQ(view.resolve("/missing/../etc//./alt", false), "/etc/alt");
    EXPECT_EQ(view.read_file("/lib/self"), "lib x");
    EXPECT_EQ(view.read_file("/up/alt"), "real");
    EXPECT_FALSE(view.read_file("/usr"));
    EXPECT_FALSE(view.read_file("/nothing"));
    EXPECT_EQ(view.lookup("lib")->type, EntryType::kSymlink);
    try {
        view.resolve("/loop1/x", true);
        ADD_FAILURE() << "loop resolved";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find("/loop1/x"), std::string::npos);
    }
}

TEST(MergedView, HandlesLargeLayers) {
    std::vector<LayerPtr> layers;
    for (int l = 0; l < 3; ++l) {
        std::vector<Entry> entries;
        for (int d = 0; d < 100; ++d) {
            if (l == 2 && d == 7) {
                continue;
            }
            entries.push_back(dir_entry("dir" + std::to_string(d)));
            for (int f = 0; f < 200; ++f) {
                entries.push_back(
                    test::file_entry("dir" + std::to_string(d) + "/f" + std::to_string(f),
                                     "layer" + std::to_string(l)));
            }
        }
        if (l == 2) {
            entries.push_back(test::file_entry(".wh.dir7", ""));
        }
        layers.push_back(layer_of(std::move(entries)));
    }
    const MergedView view(layers);
    EXPECT_EQ(view.all().size(), 99U * 201U);
    EXPECT_EQ(view.read_file("/dir42/f199"), "layer2");
    EXPECT_FALSE(view.lookup("/dir7/f0"));
    EXPECT_EQ(view.list("/dir3").size(), 200U);
}

// Every file under `root` with its type, mode, mtime, content or target, and inode group.
std::map<std::string, std::string> describe_tree(const std::filesystem::path& root) {
    std::map<std::string, std::string> out;
    std::map<ino_t, std::string> first_path;
    for (const auto& item : std::filesystem::recursive_directory_iterator(root)) {
        struct stat st {};
        ::lstat(item.path().c_str(), &st);
        const std::string rel = item.path().lexically_relative(root).string();
        std::string text =
            std::to_string(st.st_mode) + " " + std::to_string(st.st_mtim.tv_sec) + " ";
        if (S_ISREG(st.st_mode)) {
            text += test::read_file(item.path());
            if (st.st_nlink > 1) {
                auto [it, added] = first_path.emplace(st.st_ino, rel);
                text += " linked:" + it->second;
            }
        } else if (S_ISLNK(st.st_mode)) {
            text += std::filesystem::read_symlink(item.path()).string();
        }
        out[rel] = text;
    }
    return out;
}

TEST(ExportDirectory, WritesTheMergedTree) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    std::vector<LayerPtr> layers;
    const std::vector<std::vector<Entry>> contents = {
        {dir_entry("bin"), test::file_entry("bin/sh", "shell", 0755), dir_entry("etc"),
         test::file_entry("etc/passwd", "root"), test::file_entry("etc/shadow", "secret", 0600),
         dir_entry("ro"), test::file_entry("ro/data", "ro data", 0444)},
        {dir_entry("etc"), test::file_entry("etc/.wh.shadow", ""),
         test::file_entry("etc/hosts", "hosts"),
         [] {
             Entry e = test::make_entry("etc/hosts.link", EntryType::kHardlink);
             e.link_target = "etc/hosts";
             return e;
         }(),
         symlink_entry("sh", "/bin/sh"), test::file_entry("big", test::mixed_bytes(3 << 20, 5))},
    };
    for (std::size_t i = 0; i < contents.size(); ++i) {
        std::vector<Entry> entries = contents[i];
        entries[0].mtime_ns = 1'600'000'000'000'000'000;
        const LayerBlob blob = write_layer(layout, entries, WriteOptions{});
        auto layer = std::make_shared<MergedView::Layer>();
        layer->dir = dir.path() / ("layer" + std::to_string(i));
        std::string data = layout.read_blob(blob.descriptor.digest);
        layer->entries = unpack_layer(test::string_reader(data), layer->dir, blob.diff_id);
        ::chmod((layer->dir / "ro").c_str(), 0755);  // lets TempDir clean up either way
        layers.push_back(layer);
    }
    // ro stays 0555 in the entries though we opened it on disk.
    const MergedView view(layers);
    const std::filesystem::path dest = dir.path() / "export";
    export_directory(view, dest);
    const std::map<std::string, std::string> tree = describe_tree(dest);

    std::vector<std::string> expected_paths = paths(view.all());
    std::vector<std::string> exported;
    for (const auto& [path, text] : tree) {
        exported.push_back(path);
    }
    EXPECT_EQ(exported, expected_paths);
    EXPECT_FALSE(tree.contains("etc/shadow"));
    for (const Entry& entry : view.all()) {
        struct stat st {};
        ASSERT_EQ(::lstat((dest / entry.path).c_str(), &st), 0) << entry.path;
        if (entry.type != EntryType::kSymlink) {
            EXPECT_EQ(st.st_mode & 07777, entry.mode) << entry.path;
        }
        EXPECT_EQ(st.st_mtim.tv_sec, entry.mtime_ns / 1'000'000'000) << entry.path;
        if (entry.type == EntryType::kRegular) {
            EXPECT_EQ(test::read_file(dest / entry.path), *view.read_file(entry.path))
                << entry.path;
        }
    }
    EXPECT_NE(tree.at("etc/hosts.link").find("linked:etc/hosts"), std::string::npos);
    EXPECT_EQ(std::filesystem::read_symlink(dest / "sh"), "/bin/sh");
    EXPECT_EQ(test::read_file(dest / "big"), test::mixed_bytes(3 << 20, 5));

    // Exporting again over the first export gives the same tree.
    export_directory(view, dest);
    EXPECT_EQ(describe_tree(dest), tree);
}

}  // namespace
}  // namespace xarch::layer
