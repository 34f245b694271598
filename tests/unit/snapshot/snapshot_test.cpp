// SPDX-License-Identifier: Apache-2.0
// Snapshot diffs on real trees: overlay whiteouts and opaque directories, hard links, symlinks,
// xattr filtering, the tree diff against a lower view, layer round trips and determinism.
#include "../layer/layer_test_util.hpp"
#include "layer/merged_view.hpp"
#include "layer/unpack.hpp"
#include "layer/writer.hpp"
#include "snapshot/tree_diff.hpp"
#include "snapshot/upper_diff.hpp"

#include <xarch/error.hpp>
#include <xarch/oci_layout.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace xarch::snapshot {
namespace {

namespace fs = std::filesystem;
using layer::Entry;
using layer::EntryType;
using layer::test::read_file;
using layer::test::TempDir;
using layer::test::write_file;

bool is_root() {
    return ::geteuid() == 0;
}

// The overlay's opaque marker in the namespace this process may write.
const char* opaque_xattr() {
    return is_root() ? "trusted.overlay.opaque" : "user.overlay.opaque";
}

bool set_xattr(const fs::path& file, const std::string& name, const std::string& value) {
    return ::lsetxattr(file.c_str(), name.c_str(), value.data(), value.size(), 0) == 0;
}

void set_mtime(const fs::path& file, std::int64_t seconds) {
    const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << file;
}

std::map<std::string, Entry> by_path(const std::vector<Entry>& entries) {
    std::map<std::string, Entry> out;
    for (const Entry& e : entries) {
        out.emplace(e.path, e);
    }
    return out;
}

std::vector<std::string> paths(const std::vector<Entry>& entries) {
    std::vector<std::string> out;
    for (const Entry& e : entries) {
        out.push_back(e.path);
    }
    return out;
}

std::string tar_of(const std::vector<Entry>& entries) {
    std::string tar;
    layer::write_tar(entries, [&](std::span<const std::byte> bytes) {
        tar.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    });
    return tar;
}

// An upper directory as a step would leave it: a new file, an executable, hard links, a
// symlink, a fifo, an opaque directory and, as root, a whiteout device.
void make_upper(const fs::path& upper) {
    fs::create_directories(upper / "etc" / "opaque");
    fs::create_directories(upper / "usr" / "bin");
    write_file(upper / "etc" / "hostname", "builder\n");
    write_file(upper / "etc" / "opaque" / "only", "only this\n");
    write_file(upper / "usr" / "bin" / "tool", "#!/bin/sh\necho tool\n");
    fs::permissions(upper / "usr" / "bin" / "tool", fs::perms(0755));
    fs::create_hard_link(upper / "usr" / "bin" / "tool", upper / "usr" / "bin" / "alias");
    fs::create_hard_link(upper / "usr" / "bin" / "tool", upper / "etc" / "tool-link");
    fs::create_symlink("../usr/bin/tool", upper / "etc" / "tool-symlink");
    ASSERT_EQ(::mkfifo((upper / "etc" / "pipe").c_str(), 0600), 0);
    ASSERT_TRUE(set_xattr(upper / "etc" / "opaque", opaque_xattr(), "y"));
    if (is_root()) {
        ASSERT_EQ(::mknod((upper / "etc" / "removed").c_str(), S_IFCHR | 0000, ::makedev(0, 0)), 0);
    }
}

TEST(UpperToEntries, ConvertsWhiteoutsOpaqueDirectoriesAndLinks) {
    TempDir dir;
    const fs::path upper = dir.path() / "upper";
    make_upper(upper);
    const std::vector<Entry> entries = upper_to_entries(upper);
    const auto found = by_path(entries);

    ASSERT_TRUE(found.contains("etc/opaque/.wh..wh..opq"));
    const Entry& opaque = found.at("etc/opaque/.wh..wh..opq");
    EXPECT_EQ(opaque.type, EntryType::kRegular);
    EXPECT_EQ(opaque.size, 0);
    EXPECT_EQ(opaque.data, std::string());
    EXPECT_FALSE(found.at("etc/opaque").xattrs.contains(opaque_xattr()));
    EXPECT_TRUE(found.contains("etc/opaque/only"));

    // Hard links point at the first path in layer order: etc/tool-link.
    EXPECT_EQ(found.at("etc/tool-link").type, EntryType::kRegular);
    EXPECT_EQ(found.at("etc/tool-link").source_file, upper / "etc" / "tool-link");
    EXPECT_EQ(found.at("usr/bin/alias").type, EntryType::kHardlink);
    EXPECT_EQ(found.at("usr/bin/alias").link_target, "etc/tool-link");
    EXPECT_EQ(found.at("usr/bin/tool").type, EntryType::kHardlink);
    EXPECT_EQ(found.at("usr/bin/tool").link_target, "etc/tool-link");
    EXPECT_EQ(found.at("etc/tool-link").mode, 0755u);

    EXPECT_EQ(found.at("etc/tool-symlink").type, EntryType::kSymlink);
    EXPECT_EQ(found.at("etc/tool-symlink").link_target, "../usr/bin/tool");
    EXPECT_EQ(found.at("etc/pipe").type, EntryType::kFifo);
    EXPECT_EQ(found.at("etc/hostname").size, 8);

    if (is_root()) {
        ASSERT_TRUE(found.contains("etc/.wh.removed"));
        EXPECT_FALSE(found.contains("etc/removed"));
        EXPECT_EQ(found.at("etc/.wh.removed").type, EntryType::kRegular);
        EXPECT_EQ(found.at("etc/.wh.removed").size, 0);
    } else {
        std::cout << "[ skipped part ] whiteout device nodes need root (mknod 0/0)\n";
    }

    // Sorted in layer order, parents first.
    for (std::size_t i = 1; i < entries.size(); ++i) {
        EXPECT_TRUE(layer::layer_order(entries[i - 1], entries[i]))
            << entries[i - 1].path << " before " << entries[i].path;
    }
}

TEST(UpperToEntries, KeepsXattrsButTheOverlaysOwn) {
    TempDir dir;
    const fs::path upper = dir.path() / "upper";
    fs::create_directories(upper);
    write_file(upper / "ping", "binary");
    ASSERT_TRUE(set_xattr(upper / "ping", "user.overlay.origin", "x"));
    ASSERT_TRUE(set_xattr(upper / "ping", "user.keep", "kept"));
    // A v3 file capability (cap_net_raw), as setcap writes it; needs CAP_SETFCAP.
    const std::string capability(
        "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00",
        20);
    const bool root = is_root();
    if (root) {
        ASSERT_TRUE(set_xattr(upper / "ping", "trusted.overlay.metacopy", ""));
        ASSERT_TRUE(set_xattr(upper / "ping", "security.capability", capability))
            << std::strerror(errno);
    }
    const auto found = by_path(upper_to_entries(upper));
    const auto& xattrs = found.at("ping").xattrs;
    EXPECT_EQ(xattrs.at("user.keep"), "kept");
    EXPECT_FALSE(xattrs.contains("user.overlay.origin"));
    EXPECT_FALSE(xattrs.contains("trusted.overlay.metacopy"));
    if (root) {
        EXPECT_EQ(xattrs.at("security.capability"), capability);
    }
}

TEST(UpperToEntries, MissingDirectoryIsNotFound) {
    TempDir dir;
    try {
        upper_to_entries(dir.path() / "absent");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
        EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos);
    }
}

TEST(UpperToEntries, LayerRoundTripGivesTheSameFiles) {
    TempDir dir;
    const fs::path upper = dir.path() / "upper";
    make_upper(upper);
    const std::vector<Entry> entries = upper_to_entries(upper);
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    layer::WriteOptions options;
    options.compression = Compression::kZstd;
    const layer::LayerBlob blob = layer::write_layer(layout, entries, options);
    const std::string bytes = layout.read_blob(blob.descriptor.digest);
    const fs::path root = dir.path() / "root";
    const std::vector<Entry> unpacked =
        layer::unpack_layer(layer::test::string_reader(bytes), root, blob.diff_id);

    EXPECT_EQ(paths(unpacked), paths(entries));
    const auto got = by_path(unpacked);
    for (const Entry& e : entries) {
        const Entry& u = got.at(e.path);
        EXPECT_EQ(u.type, e.type) << e.path;
        EXPECT_EQ(u.uid, e.uid) << e.path;
        EXPECT_EQ(u.xattrs, e.xattrs) << e.path;
        EXPECT_EQ(u.link_target, e.link_target) << e.path;
        if (e.type == EntryType::kRegular) {
            const std::string expected = e.data ? *e.data : read_file(e.source_file);
            EXPECT_EQ(read_file(root / e.path), expected) << e.path;
            EXPECT_EQ(u.mode, e.mode) << e.path;
        }
    }
    struct ::stat a {};
    struct ::stat b {};
    ASSERT_EQ(::lstat((root / "usr/bin/tool").c_str(), &a), 0);
    ASSERT_EQ(::lstat((root / "etc/tool-link").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(fs::read_symlink(root / "etc/tool-symlink"), "../usr/bin/tool");
}

TEST(UpperToEntries, SameContentsGiveTheSameLayer) {
    TempDir dir;
    const fs::path first = dir.path() / "first";
    const fs::path second = dir.path() / "second";
    for (const fs::path& upper : {first, second}) {
        make_upper(upper);
        for (const auto& item : fs::recursive_directory_iterator(upper)) {
            set_mtime(item.path(), 1'700'000'000);
        }
        for (const fs::path& d :
             {upper / "etc" / "opaque", upper / "usr" / "bin", upper / "etc", upper / "usr"}) {
            set_mtime(d, 1'700'000'000);
        }
    }
    const std::string tar = tar_of(upper_to_entries(first));
    EXPECT_EQ(tar, tar_of(upper_to_entries(first)));
    EXPECT_EQ(tar, tar_of(upper_to_entries(second)));
    EXPECT_GT(tar.size(), 1024u);
}

// The kernel's own upper directory: needs root and an overlayfs mount (skipped otherwise).
TEST(UpperToEntries, RealOverlayMount) {
    if (!is_root()) {
        GTEST_SKIP() << "mounting overlayfs needs root";
    }
    TempDir dir;
    const fs::path lower = dir.path() / "lower";
    const fs::path upper = dir.path() / "upper";
    const fs::path work = dir.path() / "work";
    const fs::path merged = dir.path() / "merged";
    for (const fs::path& d : {lower / "d", upper, work, merged}) {
        fs::create_directories(d);
    }
    write_file(lower / "a", "a");
    write_file(lower / "keep", "keep");
    write_file(lower / "d" / "x", "x");
    const std::string options =
        "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
    if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) {
        GTEST_SKIP() << "overlayfs mount failed: " << std::strerror(errno);
    }
    // Unmounted before TempDir goes, even when a step below throws.
    struct Unmount {
        fs::path dir;
        bool done = false;
        ~Unmount() {
            if (!done) {
                ::umount2(dir.c_str(), MNT_DETACH);
            }
        }
    } unmount{merged};
    fs::remove(merged / "a");
    fs::remove_all(merged / "d");
    fs::create_directory(merged / "d");  // over a deleted lower directory: opaque
    write_file(merged / "d" / "new", "new");
    write_file(merged / "b", "b");
    ASSERT_EQ(::umount(merged.c_str()), 0) << std::strerror(errno);
    unmount.done = true;

    const std::vector<Entry> entries = upper_to_entries(upper);
    EXPECT_EQ(paths(entries),
              (std::vector<std::string>{".wh.a", "b", "d", "d/.wh..wh..opq", "d/new"}));
    for (const Entry& e : entries) {
        for (const auto& [name, value] : e.xattrs) {
            EXPECT_FALSE(is_overlay_xattr(name)) << e.path << ": " << name;
        }
    }
}

// A lower layer written, unpacked and viewed as a build does, and its copy as a step's rootfs.
struct LowerFixture {
    TempDir dir;
    std::unique_ptr<layer::MergedView> view;
    fs::path rootfs;

    LowerFixture() {
        std::vector<Entry> entries;
        auto add_dir = [&](std::string path) {
            entries.push_back(
                layer::test::make_entry(std::move(path), EntryType::kDirectory, 0755));
        };
        add_dir("bin");
        add_dir("etc");
        add_dir("etc/conf.d");
        add_dir("var");
        add_dir("var/cache");
        entries.push_back(layer::test::file_entry("bin/sh", "shell", 0755));
        entries.push_back(layer::test::file_entry("etc/passwd", "root:x:0:0\n"));
        entries.push_back(layer::test::file_entry("etc/motd", "hello\n"));
        entries.push_back(layer::test::file_entry("etc/conf.d/a", "a"));
        entries.push_back(layer::test::file_entry("etc/conf.d/b", "b"));
        entries.push_back(layer::test::file_entry("var/cache/x", "x"));
        entries.push_back(layer::test::file_entry("var/kind", "file"));
        Entry link = layer::test::make_entry("bin/sh-link", EntryType::kHardlink, 0755);
        link.link_target = "bin/sh";
        entries.push_back(link);
        for (Entry& e : entries) {
            e.uid = ::geteuid();
            e.gid = ::getegid();
        }
        OciLayout layout = OciLayout::create(dir.path() / "layout");
        layer::WriteOptions options;
        options.compression = Compression::kUncompressed;
        const layer::LayerBlob blob = layer::write_layer(layout, entries, options);
        auto unpacked = std::make_shared<layer::MergedView::Layer>();
        unpacked->dir = dir.path() / "layer";
        unpacked->entries = layer::unpack_layer(
            layer::test::string_reader(layout.read_blob(blob.descriptor.digest)), unpacked->dir);
        view = std::make_unique<layer::MergedView>(
            std::vector<std::shared_ptr<const layer::MergedView::Layer>>{unpacked});
        rootfs = dir.path() / "rootfs";
        layer::export_directory(*view, rootfs);
    }
};

TEST(TreeDiff, UnchangedCopyGivesNothing) {
    LowerFixture lower;
    EXPECT_EQ(paths(tree_diff(*lower.view, lower.rootfs)), std::vector<std::string>{});
}

TEST(TreeDiff, AddsChangesDeletesAndTypeChanges) {
    LowerFixture lower;
    const fs::path& root = lower.rootfs;
    write_file(root / "etc" / "new", "new file");
    // Same size and whole-second mtime as before: only the bytes tell the change.
    const auto motd_time = fs::last_write_time(root / "etc" / "motd");
    write_file(root / "etc" / "motd", "HELLO\n");
    fs::last_write_time(root / "etc" / "motd", motd_time);
    fs::remove(root / "etc" / "passwd");
    fs::remove_all(root / "etc" / "conf.d");
    fs::remove(root / "var" / "kind");
    fs::create_directory(root / "var" / "kind");  // file -> directory
    write_file(root / "var" / "kind" / "inside", "i");
    fs::remove_all(root / "var" / "cache");
    fs::create_symlink("/tmp", root / "var" / "cache");  // directory -> symlink
    fs::permissions(root / "bin" / "sh", fs::perms(0700));

    const std::vector<Entry> diff = tree_diff(*lower.view, root);
    EXPECT_EQ(paths(diff),
              (std::vector<std::string>{"bin", "bin/sh", "bin/sh-link", "etc", "etc/.wh.conf.d",
                                        "etc/.wh.passwd", "etc/motd", "etc/new", "var", "var/cache",
                                        "var/kind", "var/kind/inside"}));
    const auto found = by_path(diff);
    EXPECT_EQ(found.at("etc/motd").source_file, root / "etc" / "motd");
    EXPECT_EQ(found.at("etc/.wh.passwd").size, 0);
    EXPECT_EQ(found.at("etc/.wh.passwd").type, EntryType::kRegular);
    EXPECT_EQ(found.at("var/kind").type, EntryType::kDirectory);
    EXPECT_EQ(found.at("var/cache").type, EntryType::kSymlink);
    EXPECT_EQ(found.at("var/cache").link_target, "/tmp");
    EXPECT_EQ(found.at("bin/sh").mode, 0700u);
    // The copy keeps bin/sh-link a hard link of bin/sh, so its mode changed too; it stays a link.
    EXPECT_EQ(found.at("bin/sh-link").type, EntryType::kHardlink);
    EXPECT_EQ(found.at("bin/sh-link").link_target, "bin/sh");

    // The diff stacked on the lower layer gives the rootfs.
    OciLayout layout = OciLayout::create(lower.dir.path() / "layout2");
    layer::WriteOptions options;
    options.compression = Compression::kGzip;
    const layer::LayerBlob blob = layer::write_layer(layout, diff, options);
    auto upper = std::make_shared<layer::MergedView::Layer>();
    upper->dir = lower.dir.path() / "upper";
    upper->entries = layer::unpack_layer(
        layer::test::string_reader(layout.read_blob(blob.descriptor.digest)), upper->dir);
    const layer::MergedView stacked({lower.view->layers().front(), upper});
    std::vector<std::string> on_disk;
    for (const auto& item : fs::recursive_directory_iterator(root)) {
        // Not fs::relative: it would follow var/cache to /tmp.
        on_disk.push_back(item.path().string().substr(root.string().size() + 1));
    }
    std::sort(on_disk.begin(), on_disk.end());
    EXPECT_EQ(paths(stacked.all()), on_disk);
    EXPECT_EQ(stacked.read_file("etc/motd"), "HELLO\n");
    EXPECT_EQ(stacked.read_file("etc/new"), "new file");
    EXPECT_EQ(stacked.read_file("etc/hostname"), std::nullopt);
    EXPECT_EQ(stacked.lookup("var/cache")->type, EntryType::kSymlink);
}

TEST(TreeDiff, MissingRootfsIsNotFound) {
    LowerFixture lower;
    try {
        tree_diff(*lower.view, lower.dir.path() / "nope");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    }
}

}  // namespace
}  // namespace xarch::snapshot
