// SPDX-License-Identifier: Apache-2.0
// SnapshotStore on real files and real overlay mounts (made in forked children with their own
// mount namespace, as root; or as nobody in a user namespace mapping it to 0, with `userxattr`):
// layer dirs show what MergedView shows, an upper's diff matches the copy fallback's tree diff,
// commits and concurrent builds share one dir, and workspaces go away.
#include "snapshot/store.hpp"

#include "../layer/layer_test_util.hpp"
#include "layer/merged_view.hpp"
#include "layer/unpack.hpp"
#include "layer/writer.hpp"
#include "snapshot/tree_diff.hpp"
#include "snapshot/upper_diff.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace xarch::snapshot {
namespace {

namespace fs = std::filesystem;
using layer::Entry;
using layer::EntryType;
using layer::test::file_entry;
using layer::test::make_entry;
using layer::test::read_file;
using layer::test::TempDir;
using layer::test::write_file;
using LayerPtr = std::shared_ptr<const layer::MergedView::Layer>;

bool is_root() {
    return ::geteuid() == 0;
}

#define XARCH_REQUIRE_ROOT()                                                                \
    do {                                                                                    \
        if (!is_root()) {                                                                   \
            GTEST_SKIP() << "needs root: overlay mounts, whiteout device nodes, trusted.* " \
                            "xattrs and file ownership";                                    \
        }                                                                                   \
    } while (false)

std::size_t count_children(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

Entry symlink_entry(std::string path, std::string target) {
    Entry entry = make_entry(std::move(path), EntryType::kSymlink, 0777);
    entry.link_target = std::move(target);
    return entry;
}

Entry whiteout(std::string path) {
    return file_entry(std::move(path), "", 0600);
}

// A layer as a build has it: the tar of `entries` unpacked by layer::unpack_layer into `dir`.
struct UnpackedLayer {
    Digest diff_id;
    LayerPtr layer;
};

UnpackedLayer unpack(const std::vector<Entry>& entries, const fs::path& dir) {
    std::string tar;
    layer::write_tar(entries, [&](std::span<const std::byte> bytes) {
        tar.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    });
    UnpackedLayer out{Digest::of(tar), nullptr};
    auto made = std::make_shared<layer::MergedView::Layer>();
    made->dir = dir;
    made->entries = layer::unpack_layer(layer::test::string_reader(tar), dir, out.diff_id);
    out.layer = std::move(made);
    return out;
}

// One line per entry: what a container sees of it (no source paths, no hard-link pairing
// differences: a hard link shows as the file it names plus the name).
std::string describe(const Entry& entry) {
    std::ostringstream out;
    out << entry.path << " type=" << static_cast<int>(entry.type) << " mode=" << std::oct
        << entry.mode << std::dec << " owner=" << entry.uid << ":" << entry.gid
        << " mtime=" << entry.mtime_ns << " link=" << entry.link_target
        << " dev=" << entry.dev_major << "," << entry.dev_minor;
    if (entry.type == EntryType::kRegular) {
        out << " size=" << entry.size
            << " bytes=" << util::quote(entry.data ? *entry.data : read_file(entry.source_file));
    }
    for (const auto& [name, value] : entry.xattrs) {
        out << " xattr:" << name << "=" << util::quote(value);
    }
    return out.str();
}

std::vector<std::string> describe_all(const std::vector<Entry>& entries) {
    std::vector<std::string> out;
    for (const Entry& entry : entries) {
        out.push_back(describe(entry));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Every file under `root` as entries, hard links paired as in a layer.
std::vector<Entry> list_tree(const fs::path& root) {
    std::vector<ScannedEntry> scanned;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        scanned.push_back(scan_entry(it->path(), it->path().lexically_relative(root).string()));
    }
    return pair_hardlinks(std::move(scanned));
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) {
        out += line + "\n";
    }
    return out;
}

// Runs `child` in a forked child; returns its exit status, which is child's return value
// (`threw` when it throws, its message on stderr), or -1 when the child did not exit normally.
int in_child(const std::function<int()>& child, int threw) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        int status = threw;
        try {
            status = child();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child failed: %s\n", e.what());
        }
        ::_exit(status);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

// Runs `body` in a forked child with its own private mount namespace; its exit status is
// body's return value (10 when the namespace cannot be made, 11 when body throws).
int in_mount_namespace(const std::function<int()>& body) {
    return in_child(
        [&] {
            if (::unshare(CLONE_NEWNS) != 0 ||
                ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
                return 10;
            }
            return body();
        },
        11);
}

constexpr uid_t kNobody = 65534;
constexpr int kNoUserNamespace = 10;

void write_proc_file(const char* file, const std::string& text) {
    std::ofstream out(file);
    out << text;
    out.flush();
    if (!out) {
        throw std::runtime_error(std::string("cannot write ") + file);
    }
}

// Runs `body` in a forked child in a new user namespace mapping the caller's uid and gid to 0
// (one mapping each, as a RUN without root) and its own private mount namespace; its exit
// status is body's return value (kNoUserNamespace when the namespaces cannot be made, 11 when
// body throws).
int in_user_namespace(const std::function<int()>& body) {
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    return in_child(
        [&] {
            if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
                std::fprintf(stderr, "unshare: %s\n", std::strerror(errno));
                return kNoUserNamespace;
            }
            write_proc_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
            write_proc_file("/proc/self/setgroups", "deny");
            write_proc_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
                return kNoUserNamespace;
            }
            return body();
        },
        11);
}

// A directory under `tmp` that nobody owns (`tmp` opened to it), for run_as_nobody.
fs::path nobody_dir(const TempDir& tmp) {
    const fs::path dir = tmp.path() / "nobody";
    fs::create_directories(dir);
    if (::geteuid() == 0) {
        ::chmod(tmp.path().c_str(), 0755);
        if (::chown(dir.c_str(), kNobody, kNobody) != 0) {
            throw std::runtime_error("chown " + dir.string() + ": " + std::strerror(errno));
        }
    }
    return dir;
}

// Runs `body` in a forked child that is nobody (uid/gid 65534, no supplementary groups) when the
// test runs as root, an unprivileged caller in any case; its exit status is body's return value
// (125 when dropping root failed, 126 when body threw). The child's gtest failures print there;
// body returns child_status() to pass them on.
int run_as_nobody(const std::function<int()>& body) {
    return in_child(
        [&] {
            if (::geteuid() == 0 &&
                (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
                 ::setresuid(kNobody, kNobody, kNobody) != 0)) {
                return 125;
            }
            // Changing ids made the process undumpable, which gives /proc/self to root; a user
            // namespace's uid_map then cannot be written.
            ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
            return body();
        },
        126);
}

int child_status() {
    return ::testing::Test::HasFailure() ? 1 : 0;
}

// Whether an unprivileged caller can make a user namespace here (some systems forbid it).
bool user_namespaces_work() {
    return run_as_nobody([] { return in_user_namespace([] { return 0; }); }) == 0;
}

#define XARCH_REQUIRE_USER_NAMESPACES()                                               \
    do {                                                                              \
        if (!user_namespaces_work()) {                                                \
            GTEST_SKIP() << "an unprivileged user cannot make a user namespace here"; \
        }                                                                             \
    } while (false)

// Mounts an overlay of `lowers` (topmost first) at `merged`; false (with the reason on stderr)
// when the kernel refuses. `userxattr`: as without root, in a user namespace.
bool mount_overlay(const std::vector<fs::path>& lowers,
                   const fs::path& upper,
                   const fs::path& work,
                   const fs::path& merged,
                   bool userxattr = false) {
    std::string options = "lowerdir=";
    for (std::size_t i = 0; i < lowers.size(); ++i) {
        options += (i != 0 ? ":" : "") + lowers[i].string();
    }
    options += ",upperdir=" + upper.string() + ",workdir=" + work.string();
    if (userxattr) {
        options += ",userxattr";
    }
    if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) {
        std::fprintf(stderr, "mount overlay (%s): %s\n", options.c_str(), std::strerror(errno));
        return false;
    }
    return true;
}

// What a container sees through an overlay of `lowers`: one describe() line per file.
// `rootless`: mounted with userxattr in a user namespace mapping the caller to 0.
std::vector<std::string> mounted_view(const std::vector<fs::path>& lowers,
                                      const fs::path& scratch,
                                      bool rootless = false) {
    for (const char* name : {"upper", "work", "merged"}) {
        fs::create_directories(scratch / name);
    }
    const fs::path listing = scratch / "listing";
    const auto list = [&] {
        if (!mount_overlay(lowers, scratch / "upper", scratch / "work", scratch / "merged",
                           rootless)) {
            return 1;
        }
        write_file(listing, join_lines(describe_all(list_tree(scratch / "merged"))));
        return 0;
    };
    const int status = rootless ? in_user_namespace(list) : in_mount_namespace(list);
    EXPECT_EQ(status, 0) << "the overlay could not be mounted or listed";
    std::vector<std::string> lines;
    std::istringstream in(read_file(listing));
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

std::vector<Entry> lower_layer_entries() {
    std::vector<Entry> entries;
    entries.push_back(make_entry("a", EntryType::kDirectory, 0755));
    entries.push_back(file_entry("a/x", "x in a\n"));
    entries.push_back(file_entry("a/y", "y in a\n"));
    entries.push_back(make_entry("d", EntryType::kDirectory, 0755));
    entries.push_back(file_entry("d/f", "in d\n"));
    entries.push_back(make_entry("empty", EntryType::kDirectory, 0700));
    entries.push_back(file_entry("keep", "kept until the next layer\n"));
    entries.push_back(make_entry("opq", EntryType::kDirectory, 0755));
    entries.push_back(file_entry("opq/old1", "old\n"));
    entries.push_back(make_entry("opq/sub", EntryType::kDirectory, 0755));
    entries.push_back(file_entry("opq/sub/old2", "old too\n"));
    entries.push_back(make_entry("s", EntryType::kDirectory, 0755));
    entries.push_back(make_entry("s/t", EntryType::kDirectory, 0751));
    entries.push_back(file_entry("s/t/file", "in s/t\n", 0444));
    return entries;
}

std::vector<Entry> upper_layer_entries() {
    std::vector<Entry> entries;
    entries.push_back(make_entry("a", EntryType::kDirectory, 0755));
    entries.push_back(whiteout("a/.wh.x"));
    entries.push_back(whiteout(".wh.keep"));
    entries.push_back(make_entry("opq", EntryType::kDirectory, 0710));
    entries.push_back(whiteout("opq/.wh..wh..opq"));
    entries.push_back(file_entry("opq/new", "new in opq\n"));
    return entries;
}

TEST(SnapshotStore, LayerDirMountedAloneShowsTheMergedView) {
    XARCH_REQUIRE_ROOT();
    TempDir tmp;
    std::vector<Entry> entries;
    entries.push_back(make_entry("bin", EntryType::kDirectory, 0755));
    entries.push_back(file_entry("bin/tool", "#!/bin/sh\necho tool\n", 0755));
    entries.push_back(make_entry("bin/zlink", EntryType::kHardlink, 0755));
    entries.back().link_target = "bin/tool";
    entries.push_back(file_entry("bin/cap", "with an xattr\n", 0755));
    entries.back().xattrs["user.note"] = "kept";
    entries.push_back(make_entry("etc", EntryType::kDirectory, 0750));
    entries.push_back(file_entry("etc/owned", "belongs to 1000\n", 0640));
    entries.back().uid = 1000;
    entries.back().gid = 1000;
    entries.push_back(file_entry("etc/setuid", "runs as its owner\n", 04755));
    entries.push_back(symlink_entry("etc/link", "../bin/tool"));
    // At the root, which overlayfs merges with the upper: a whiteout in a directory that only
    // one layer holds is hidden from lookups but not from readdir (nothing lower to hide there).
    entries.push_back(whiteout(".wh.gone"));
    entries.push_back(whiteout("opq/.wh.pointless"));  // in an opaque dir: left out
    entries.push_back(make_entry("opq", EntryType::kDirectory, 0755));
    entries.push_back(whiteout("opq/.wh..wh..opq"));
    entries.push_back(file_entry("opq/kept", "in an opaque dir\n"));
    entries.push_back(make_entry("dev", EntryType::kDirectory, 0755));
    entries.push_back(make_entry("dev/fifo", EntryType::kFifo, 0644));
    entries.push_back(make_entry("dev/null", EntryType::kCharDevice, 0666));
    entries.back().dev_major = 1;
    entries.back().dev_minor = 3;
    entries.push_back(file_entry("implied/child", "its parent has no entry\n"));
    const UnpackedLayer unpacked = unpack(entries, tmp.path() / "unpacked");

    SnapshotStore store(tmp.path() / "snapshots");
    const fs::path dir = store.layer_dir(unpacked.diff_id, *unpacked.layer);
    EXPECT_EQ(dir, tmp.path() / "snapshots" / "layers" / std::string(unpacked.diff_id.hex()));
    EXPECT_TRUE(
        fs::exists(tmp.path() / "snapshots" / "used" / std::string(unpacked.diff_id.hex())));

    // The overlay format itself: whiteout device, opaque xattr.
    struct stat st {};
    ASSERT_EQ(::lstat((dir / "gone").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, ::makedev(0, 0));
    EXPECT_NE(::lstat((dir / "opq" / "pointless").c_str(), &st), 0);
    char value[8] = {};
    EXPECT_EQ(::lgetxattr((dir / "opq").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
    EXPECT_EQ(value[0], 'y');
    // Same metadata: shared with the unpacked copy, which keeps its own mode and mtime; other
    // owner or xattrs: a copy.
    struct stat unpacked_tool {};
    struct stat linked_tool {};
    ASSERT_EQ(::lstat((tmp.path() / "unpacked" / "bin" / "tool").c_str(), &unpacked_tool), 0);
    ASSERT_EQ(::lstat((dir / "bin" / "tool").c_str(), &linked_tool), 0);
    EXPECT_EQ(linked_tool.st_ino, unpacked_tool.st_ino);
    EXPECT_EQ(unpacked_tool.st_mode & 07777, 0755u);
    struct stat owned {};
    struct stat unpacked_owned {};
    ASSERT_EQ(::lstat((dir / "etc" / "owned").c_str(), &owned), 0);
    ASSERT_EQ(::lstat((tmp.path() / "unpacked" / "etc" / "owned").c_str(), &unpacked_owned), 0);
    EXPECT_NE(owned.st_ino, unpacked_owned.st_ino);
    EXPECT_EQ(unpacked_owned.st_uid, 0u);

    const layer::MergedView view({unpacked.layer});
    const std::vector<std::string> expected = describe_all(view.all());
    const std::vector<std::string> seen = mounted_view({dir}, tmp.path() / "mount");
    EXPECT_EQ(seen, expected) << "mounted:\n"
                              << join_lines(seen) << "merged view:\n"
                              << join_lines(expected);
    EXPECT_EQ(expected.size(), entries.size() - 3 + 1);  // not the 3 whiteouts; "implied" too
}

TEST(SnapshotStore, StackedLayerDirsHonourWhiteoutsAndOpaqueDirs) {
    XARCH_REQUIRE_ROOT();
    TempDir tmp;
    const UnpackedLayer lower = unpack(lower_layer_entries(), tmp.path() / "lower");
    const UnpackedLayer upper = unpack(upper_layer_entries(), tmp.path() / "upper");
    SnapshotStore store(tmp.path() / "snapshots");
    const fs::path lower_dir = store.layer_dir(lower.diff_id, *lower.layer);
    const fs::path upper_dir = store.layer_dir(upper.diff_id, *upper.layer);

    const layer::MergedView view({lower.layer, upper.layer});
    const std::vector<std::string> expected = describe_all(view.all());
    const std::vector<std::string> seen = mounted_view({upper_dir, lower_dir}, tmp.path() / "m");
    EXPECT_EQ(seen, expected) << "mounted:\n"
                              << join_lines(seen) << "merged view:\n"
                              << join_lines(expected);
    const std::string all = join_lines(seen);
    EXPECT_EQ(all.find("a/x "), std::string::npos);
    EXPECT_EQ(all.find("keep "), std::string::npos);
    EXPECT_EQ(all.find("opq/old1"), std::string::npos);
    EXPECT_EQ(all.find("opq/sub"), std::string::npos);
    EXPECT_NE(all.find("opq/new"), std::string::npos);
    EXPECT_NE(all.find("a/y"), std::string::npos);
}

// What a RUN step does, on an overlay root or on a copy alike.
void change_tree(const fs::path& root, const layer::MergedView& lower) {
    write_file(root / "a" / "new", "written by the step\n");
    ASSERT_EQ(::unlink((root / "a" / "y").c_str()), 0);
    ASSERT_EQ(::unlink((root / "d" / "f").c_str()), 0);
    ASSERT_EQ(::rmdir((root / "d").c_str()), 0);
    ASSERT_EQ(::mkdir((root / "d").c_str(), 0755), 0);
    ASSERT_EQ(::rmdir((root / "empty").c_str()), 0);
    ASSERT_EQ(::mkdir((root / "empty").c_str(), 0700), 0);
    // A mount stub made and removed again, its parent's mtime put back (as the executor does).
    ASSERT_EQ(::mkdir((root / "s" / "t" / "stub").c_str(), 0755), 0);
    ASSERT_EQ(::rmdir((root / "s" / "t" / "stub").c_str()), 0);
    const std::int64_t mtime = lower.lookup("s/t")->mtime_ns;
    const struct timespec times[2] = {{0, UTIME_OMIT},
                                      {mtime / 1'000'000'000, mtime % 1'000'000'000}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root / "s" / "t").c_str(), times, 0), 0);
}

// path, type, mode, owner, size, link target: what both diffs must agree on.
std::vector<std::string> essentials(const std::vector<Entry>& entries) {
    std::vector<std::string> out;
    for (const Entry& e : entries) {
        std::ostringstream line;
        line << e.path << " type=" << static_cast<int>(e.type) << " mode=" << std::oct << e.mode
             << std::dec << " owner=" << e.uid << ":" << e.gid
             << " size=" << (e.data ? static_cast<std::int64_t>(e.data->size()) : e.size)
             << " link=" << e.link_target;
        out.push_back(line.str());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The filesystem `diff` makes on top of `base`, without mtimes (the two runs differ in time).
std::vector<std::string> applied(const std::vector<LayerPtr>& base,
                                 const std::vector<Entry>& diff,
                                 const fs::path& dir) {
    auto top = std::make_shared<layer::MergedView::Layer>();
    top->dir = dir;
    top->entries = diff;
    std::vector<LayerPtr> layers = base;
    layers.push_back(top);
    std::vector<Entry> all = layer::MergedView(layers).all();
    for (Entry& entry : all) {
        entry.mtime_ns = 0;
    }
    return describe_all(all);
}

TEST(SnapshotStore, UpperDiffMatchesTheCopyFallbacksTreeDiff) {
    XARCH_REQUIRE_ROOT();
    TempDir tmp;
    ::umask(022);  // the modes expected below
    const UnpackedLayer lower = unpack(lower_layer_entries(), tmp.path() / "lower");
    const UnpackedLayer upper = unpack(upper_layer_entries(), tmp.path() / "upper");
    SnapshotStore store(tmp.path() / "snapshots");
    const std::vector<fs::path> lowers = {store.layer_dir(upper.diff_id, *upper.layer),
                                          store.layer_dir(lower.diff_id, *lower.layer)};
    const std::vector<LayerPtr> base = {lower.layer, upper.layer};
    const layer::MergedView view(base);

    // Overlay path.
    SnapshotStore::Workspace ws = store.workspace();
    ASSERT_EQ(in_mount_namespace([&] {
                  if (!mount_overlay(lowers, ws.upper(), ws.work(), ws.root())) {
                      return 1;
                  }
                  change_tree(ws.root(), view);
                  return ::testing::Test::HasFailure() ? 2 : 0;
              }),
              0);
    const std::vector<Entry> raw = upper_to_entries(ws.upper());
    const std::vector<Entry> from_upper = drop_unchanged_dirs(raw, view);
    // The stub's parents were copied up, and only they are dropped.
    const auto has = [](const std::vector<Entry>& entries, const std::string& path) {
        return std::any_of(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.path == path; });
    };
    EXPECT_TRUE(has(raw, "s/t"));
    EXPECT_TRUE(has(raw, "s"));
    EXPECT_FALSE(has(from_upper, "s/t"));
    EXPECT_FALSE(has(from_upper, "s"));
    EXPECT_EQ(raw.size() - 2, from_upper.size());

    // Copy fallback.
    const fs::path copy = tmp.path() / "copy";
    layer::export_directory(view, copy);
    change_tree(copy, view);
    const std::vector<Entry> from_copy = tree_diff(view, copy);

    // Overlay marks a directory made over a removed one opaque; the tree diff whites out what
    // the lower held in it instead. Both hide the same files; apart from that, the same entries.
    std::set<std::string> opaque_dirs;
    std::vector<Entry> upper_side;
    for (const Entry& e : from_upper) {
        if (fs::path(e.path).filename() == layer::kOpaqueWhiteout) {
            opaque_dirs.insert(fs::path(e.path).parent_path().string());
        } else {
            upper_side.push_back(e);
        }
    }
    EXPECT_EQ(opaque_dirs, (std::set<std::string>{"d", "empty"}));
    std::vector<Entry> copy_side;
    for (const Entry& e : from_copy) {
        const bool hidden_by_opaque =
            fs::path(e.path).filename().string().starts_with(layer::kWhiteoutPrefix) &&
            opaque_dirs.contains(fs::path(e.path).parent_path().string());
        if (!hidden_by_opaque) {
            copy_side.push_back(e);
        }
    }
    EXPECT_EQ(essentials(upper_side), essentials(copy_side));
    EXPECT_EQ(essentials(upper_side),
              essentials({make_entry("a", EntryType::kDirectory, 0755), whiteout("a/.wh.y"),
                          file_entry("a/new", "written by the step\n"),
                          make_entry("d", EntryType::kDirectory, 0755),
                          make_entry("empty", EntryType::kDirectory, 0700)}))
        << "the step's changes, as both diffs see them";
    // And as layers on the same base, the same filesystem.
    EXPECT_EQ(applied(base, from_upper, ws.upper()), applied(base, from_copy, copy));

    // Committing moves the upper; its entries follow with rebase.
    const Digest diff_id = Digest::of("the step's layer");
    const fs::path committed = store.commit(ws, diff_id);
    const std::vector<Entry> moved = SnapshotStore::rebase(from_upper, ws.upper(), committed);
    for (const Entry& e : moved) {
        if (e.type == EntryType::kRegular && !e.data) {
            EXPECT_EQ(e.source_file, committed / e.path);
            EXPECT_EQ(read_file(e.source_file), "written by the step\n");
        }
    }
}

TEST(SnapshotStore, CommitTwiceWithOneDiffIdKeepsOneDir) {
    TempDir tmp;
    SnapshotStore store(tmp.path() / "snapshots");
    const Digest diff_id = Digest::of("same layer");
    fs::path first_dir;
    struct stat first {};
    {
        SnapshotStore::Workspace ws = store.workspace();
        write_file(ws.upper() / "file", "first\n");
        ASSERT_EQ(::lstat((ws.upper() / "file").c_str(), &first), 0);
        first_dir = store.commit(ws, diff_id);
        EXPECT_FALSE(fs::exists(ws.upper()));
    }
    SnapshotStore::Workspace ws = store.workspace();
    write_file(ws.upper() / "file", "second\n");
    EXPECT_EQ(store.commit(ws, diff_id), first_dir);
    // The first one stays; the second upper is left to its workspace.
    EXPECT_TRUE(fs::exists(ws.upper() / "file"));
    struct stat st {};
    ASSERT_EQ(::lstat((first_dir / "file").c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, first.st_ino);
    EXPECT_EQ(read_file(first_dir / "file"), "first\n");
    EXPECT_EQ(count_children(tmp.path() / "snapshots" / "layers"), 1u);
    EXPECT_EQ(read_file(tmp.path() / "snapshots" / "used" / std::string(diff_id.hex())),
              std::to_string(std::string("first\n").size()));
    const fs::path base = ws.root().parent_path();
    ws = store.workspace();  // the old one goes
    EXPECT_FALSE(fs::exists(base));
}

TEST(SnapshotStore, ConcurrentCallersShareOneBuild) {
    TempDir tmp;
    std::vector<Entry> entries;
    entries.push_back(make_entry("data", EntryType::kDirectory, 0755));
    for (int i = 0; i < 200; ++i) {
        // With an xattr, which unpacking records but does not apply: copies rather than links.
        entries.push_back(file_entry("data/f" + std::to_string(i), std::string(1000, 'x')));
        entries.back().xattrs["user.copied"] = "yes";
    }
    const UnpackedLayer unpacked = unpack(entries, tmp.path() / "unpacked");
    SnapshotStore store(tmp.path() / "snapshots");
    // Every build starts with a directory made in tmp/: count them.
    const int watch_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    ASSERT_GE(watch_fd, 0);
    ASSERT_GE(::inotify_add_watch(watch_fd, (tmp.path() / "snapshots" / "tmp").c_str(), IN_CREATE),
              0);
    std::vector<fs::path> got(4);
    std::vector<std::exception_ptr> errors(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < got.size(); ++i) {
        threads.emplace_back([&, i] {
            try {
                got[i] = store.layer_dir(unpacked.diff_id, *unpacked.layer);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    int builds = 0;
    alignas(inotify_event) char buffer[64 * 1024];
    for (ssize_t n; (n = ::read(watch_fd, buffer, sizeof buffer)) > 0;) {
        for (char* p = buffer; p < buffer + n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(p);
            if ((event->mask & IN_ISDIR) != 0) {
                ++builds;
            }
            p += sizeof(inotify_event) + event->len;
        }
    }
    ::close(watch_fd);
    for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_FALSE(errors[i]) << "thread " << i << " failed";
        EXPECT_EQ(got[i], got[0]);
    }
    EXPECT_EQ(builds, 1);
    EXPECT_EQ(count_children(tmp.path() / "snapshots" / "tmp"), 0u);
    EXPECT_EQ(fs::file_size(got[0] / "data" / "f7"), 1000u);
    // 200 copied files of 1000 bytes: the stamp's size.
    EXPECT_EQ(read_file(tmp.path() / "snapshots" / "used" / std::string(unpacked.diff_id.hex())),
              "200000");
}

TEST(SnapshotStore, ConcurrentProcessesEndWithOneWholeLayer) {
    TempDir tmp;
    std::vector<Entry> entries;
    entries.push_back(make_entry("data", EntryType::kDirectory, 0755));
    for (int i = 0; i < 300; ++i) {
        entries.push_back(file_entry("data/f" + std::to_string(i), std::string(2000, 'y')));
        entries.back().xattrs["user.copied"] = "yes";
    }
    const UnpackedLayer unpacked = unpack(entries, tmp.path() / "unpacked");
    const fs::path snapshots = tmp.path() / "snapshots";
    SnapshotStore{snapshots};  // the layout, before both race on it
    // Each process has its own store, so only the rename decides: the loser drops its copy.
    std::vector<pid_t> children;
    for (int i = 0; i < 3; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            int status = 1;
            try {
                SnapshotStore store(snapshots);
                const fs::path dir = store.layer_dir(unpacked.diff_id, *unpacked.layer);
                status = count_children(dir / "data") == 300 ? 0 : 2;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "child failed: %s\n", e.what());
            }
            ::_exit(status);
        }
        ASSERT_GT(pid, 0);
        children.push_back(pid);
    }
    SnapshotStore store(snapshots);
    const fs::path dir = store.layer_dir(unpacked.diff_id, *unpacked.layer);
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    EXPECT_EQ(count_children(dir / "data"), 300u);
    EXPECT_EQ(count_children(snapshots / "layers"), 1u);
    EXPECT_EQ(count_children(snapshots / "tmp"), 0u);
}

TEST(SnapshotStore, WorkspaceGoesAfterAnOverlayRunInIt) {
    XARCH_REQUIRE_ROOT();
    TempDir tmp;
    const UnpackedLayer lower = unpack(lower_layer_entries(), tmp.path() / "lower");
    SnapshotStore store(tmp.path() / "snapshots");
    const fs::path lower_dir = store.layer_dir(lower.diff_id, *lower.layer);
    fs::path base;
    {
        SnapshotStore::Workspace ws = store.workspace();
        base = ws.root().parent_path();
        ASSERT_EQ(in_mount_namespace([&] {
                      if (!mount_overlay({lower_dir}, ws.upper(), ws.work(), ws.root())) {
                          return 1;
                      }
                      write_file(ws.root() / "a" / "x", "changed\n");
                      return ::rmdir((ws.root() / "empty").c_str());
                  }),
                  0);
        // overlayfs leaves work/work with mode 000.
        struct stat st {};
        ASSERT_EQ(::lstat((ws.work() / "work").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0u);
        EXPECT_TRUE(fs::exists(ws.upper() / "a" / "x"));
    }
    EXPECT_FALSE(fs::exists(base));
    EXPECT_EQ(count_children(tmp.path() / "snapshots" / "tmp"), 0u);
    // The lower was never written, nor the unpacked file it shares an inode with.
    EXPECT_EQ(read_file(lower_dir / "a" / "x"), "x in a\n");
    EXPECT_EQ(read_file(tmp.path() / "lower" / "a" / "x"), "x in a\n");
    EXPECT_EQ(fs::hard_link_count(lower_dir / "a" / "x"), 2u);
}

TEST(SnapshotStore, OverlayProbeLeavesNothingBehind) {
    TempDir tmp;
    SnapshotStore store(tmp.path() / "snapshots");
    const OverlayMode mode = store.overlay_mode();
    if (is_root()) {
        // Root on a filesystem with trusted xattrs and a kernel with overlayfs, as CI has.
        EXPECT_EQ(mode, OverlayMode::kTrusted);
    } else {
        EXPECT_NE(mode, OverlayMode::kTrusted);
    }
    EXPECT_EQ(store.overlay_mode(), mode);
    EXPECT_EQ(store.overlay_supported(), mode != OverlayMode::kNone);
    EXPECT_EQ(count_children(tmp.path() / "snapshots" / "tmp"), 0u);
}

TEST(SnapshotStore, DevicesNeedRoot) {
    // As nobody when the test runs as root: what an unprivileged caller gets.
    TempDir tmp;
    const fs::path dir = nobody_dir(tmp);
    EXPECT_EQ(run_as_nobody([&] {
                  auto made = std::make_shared<layer::MergedView::Layer>();
                  made->dir = dir / "unpacked";
                  // 0/0 whiteouts and fifos are allowed unprivileged (Linux >= 5.8); other
                  // devices are not.
                  made->entries.push_back(make_entry("pipe", EntryType::kFifo, 0644));
                  made->entries.push_back(make_entry("dev/null", EntryType::kCharDevice, 0666));
                  made->entries.back().dev_major = 1;
                  made->entries.back().dev_minor = 3;
                  SnapshotStore store(dir / "snapshots");
                  try {
                      store.layer_dir(Digest::of("device"), *made);
                      ADD_FAILURE() << "no error";
                  } catch (const Error& e) {
                      EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
                      const std::string message = e.what();
                      EXPECT_NE(message.find(util::quote("dev/null")), std::string::npos)
                          << message;
                      EXPECT_NE(message.find("without root"), std::string::npos) << message;
                  }
                  EXPECT_EQ(count_children(dir / "snapshots" / "tmp"), 0u);
                  EXPECT_EQ(count_children(dir / "snapshots" / "layers-userxattr"), 0u);
                  return child_status();
              }),
              0);
}

TEST(SnapshotStoreRootless, ProbeFindsTheUserxattrMode) {
    XARCH_REQUIRE_USER_NAMESPACES();
    TempDir tmp;
    const fs::path dir = nobody_dir(tmp);
    EXPECT_EQ(run_as_nobody([&] {
                  SnapshotStore store(dir / "snapshots");
                  EXPECT_TRUE(store.rootless());
                  EXPECT_EQ(store.overlay_mode(), OverlayMode::kUserxattr);
                  EXPECT_TRUE(store.overlay_supported());
                  EXPECT_EQ(count_children(dir / "snapshots" / "tmp"), 0u);
                  EXPECT_TRUE(fs::is_directory(dir / "snapshots" / "layers-userxattr"));
                  EXPECT_TRUE(fs::is_directory(dir / "snapshots" / "used-userxattr"));
                  EXPECT_FALSE(fs::exists(dir / "snapshots" / "layers"));
                  return child_status();
              }),
              0);
}

// A layer with what only root could make as it is: another owner, a setuid file; and a fifo.
std::vector<Entry> owned_layer_entries() {
    std::vector<Entry> entries;
    entries.push_back(make_entry("home", EntryType::kDirectory, 0755));
    entries.push_back(make_entry("home/user", EntryType::kDirectory, 0700));
    entries.back().uid = 1000;
    entries.back().gid = 1000;
    entries.push_back(file_entry("home/user/notes", "the user's\n", 0600));
    entries.back().uid = 1000;
    entries.back().gid = 1000;
    entries.push_back(file_entry("home/setuid", "runs as its owner\n", 04755));
    entries.push_back(make_entry("home/pipe", EntryType::kFifo, 0644));
    entries.push_back(file_entry("home/tagged", "with an xattr\n"));
    entries.back().xattrs["user.note"] = "kept";
    return entries;
}

TEST(SnapshotStoreRootless, LayerDirsMountedInAUserNamespaceShowTheMergedView) {
    XARCH_REQUIRE_USER_NAMESPACES();
    TempDir tmp;
    const fs::path dir = nobody_dir(tmp);
    EXPECT_EQ(run_as_nobody([&] {
                  const UnpackedLayer lower = unpack(lower_layer_entries(), dir / "lower");
                  const UnpackedLayer upper = unpack(upper_layer_entries(), dir / "upper");
                  const UnpackedLayer owned = unpack(owned_layer_entries(), dir / "owned");
                  SnapshotStore store(dir / "snapshots");
                  const fs::path lower_dir = store.layer_dir(lower.diff_id, *lower.layer);
                  const fs::path upper_dir = store.layer_dir(upper.diff_id, *upper.layer);
                  const fs::path owned_dir = store.layer_dir(owned.diff_id, *owned.layer);
                  EXPECT_EQ(upper_dir, dir / "snapshots" / "layers-userxattr" /
                                           std::string(upper.diff_id.hex()));
                  EXPECT_TRUE(fs::exists(dir / "snapshots" / "used-userxattr" /
                                         std::string(upper.diff_id.hex())));

                  // The overlay format without root: 0/0 whiteout devices, user.overlay.opaque,
                  // every file the caller's.
                  struct stat st {};
                  EXPECT_EQ(::lstat((upper_dir / "a" / "x").c_str(), &st), 0);
                  EXPECT_TRUE(S_ISCHR(st.st_mode));
                  EXPECT_EQ(st.st_rdev, ::makedev(0, 0));
                  char value[8] = {};
                  EXPECT_EQ(::lgetxattr((upper_dir / "opq").c_str(), "user.overlay.opaque", value,
                                        sizeof value),
                            1);
                  EXPECT_EQ(value[0], 'y');
                  EXPECT_EQ(::lstat((owned_dir / "home" / "user" / "notes").c_str(), &st), 0);
                  EXPECT_EQ(st.st_uid, ::geteuid());
                  EXPECT_EQ(st.st_mode & 07777, 0600u);
                  EXPECT_EQ(::lstat((owned_dir / "home" / "setuid").c_str(), &st), 0);
                  EXPECT_EQ(st.st_mode & 07777, 04755u);

                  // In the user namespace the caller is root, so everything shows owned by 0.
                  const layer::MergedView view({lower.layer, upper.layer, owned.layer});
                  std::vector<Entry> all = view.all();
                  for (Entry& entry : all) {
                      entry.uid = 0;
                      entry.gid = 0;
                  }
                  const std::vector<std::string> expected = describe_all(all);
                  const std::vector<std::string> seen =
                      mounted_view({owned_dir, upper_dir, lower_dir}, dir / "m", true);
                  EXPECT_EQ(seen, expected) << "mounted:\n"
                                            << join_lines(seen) << "merged view:\n"
                                            << join_lines(expected);
                  const std::string lines = join_lines(seen);
                  EXPECT_EQ(lines.find("a/x "), std::string::npos);
                  EXPECT_EQ(lines.find("opq/old1"), std::string::npos);
                  EXPECT_NE(lines.find("opq/new"), std::string::npos);
                  EXPECT_NE(lines.find("home/user/notes"), std::string::npos);
                  return child_status();
              }),
              0);
    if (is_root()) {
        // The same cache dir as root: its own layer dir, in the trusted format.
        const UnpackedLayer upper = unpack(upper_layer_entries(), tmp.path() / "root-upper");
        SnapshotStore store(dir / "snapshots");
        const fs::path root_dir = store.layer_dir(upper.diff_id, *upper.layer);
        EXPECT_EQ(root_dir, dir / "snapshots" / "layers" / std::string(upper.diff_id.hex()));
        EXPECT_TRUE(fs::is_directory(dir / "snapshots" / "layers-userxattr" /
                                     std::string(upper.diff_id.hex())));
        char value[8] = {};
        EXPECT_EQ(
            ::lgetxattr((root_dir / "opq").c_str(), "trusted.overlay.opaque", value, sizeof value),
            1);
        EXPECT_LT(
            ::lgetxattr((root_dir / "opq").c_str(), "user.overlay.opaque", value, sizeof value), 0);
    }
}

TEST(SnapshotStoreRootless, UpperWrittenInAUserNamespaceGivesEntriesOwnedByRoot) {
    XARCH_REQUIRE_USER_NAMESPACES();
    TempDir tmp;
    const fs::path dir = nobody_dir(tmp);
    EXPECT_EQ(
        run_as_nobody([&] {
            ::umask(022);  // the modes expected below
            const UnpackedLayer lower = unpack(lower_layer_entries(), dir / "lower");
            const UnpackedLayer upper = unpack(upper_layer_entries(), dir / "upper");
            SnapshotStore store(dir / "snapshots");
            const std::vector<fs::path> lowers = {store.layer_dir(upper.diff_id, *upper.layer),
                                                  store.layer_dir(lower.diff_id, *lower.layer)};
            const std::vector<LayerPtr> base = {lower.layer, upper.layer};
            const layer::MergedView view(base);

            SnapshotStore::Workspace ws = store.workspace();
            const int status = in_user_namespace([&] {
                if (!mount_overlay(lowers, ws.upper(), ws.work(), ws.root(), true)) {
                    return 1;
                }
                // Write, unlink a lower file, rmdir + mkdir, a mount stub made and removed.
                change_tree(ws.root(), view);
                return child_status();
            });
            EXPECT_EQ(status, 0);

            // As written: the host's ids; mapped: what the container saw.
            const std::vector<Entry> raw = upper_to_entries(ws.upper());
            const auto find = [](const std::vector<Entry>& entries, const std::string& path) {
                const auto it = std::find_if(entries.begin(), entries.end(),
                                             [&](const Entry& e) { return e.path == path; });
                return it == entries.end() ? nullptr : &*it;
            };
            const Entry* written = find(raw, "a/new");
            EXPECT_TRUE(written != nullptr && written->uid == ::geteuid() &&
                        written->gid == ::getegid());
            const std::vector<Entry> mapped =
                upper_to_entries(ws.upper(), OwnerMap{::geteuid(), ::getegid()});
            EXPECT_EQ(mapped.size(), raw.size());
            for (const Entry& e : mapped) {
                EXPECT_EQ(e.uid, 0u) << e.path;
                EXPECT_EQ(e.gid, 0u) << e.path;
            }
            const std::vector<Entry> changes = drop_unchanged_dirs(mapped, view);
            // The stub's parents were copied up, and only they are dropped: their owner, 0
            // after mapping, is the lower's.
            EXPECT_TRUE(find(mapped, "s/t") != nullptr);
            EXPECT_TRUE(find(changes, "s/t") == nullptr);
            EXPECT_TRUE(find(changes, "s") == nullptr);
            EXPECT_EQ(changes.size(), mapped.size() - 2);

            // The same changes as the root overlay path finds: overlay's own whiteout for the
            // unlinked file, user.overlay.opaque for the directories made again.
            std::set<std::string> opaque_dirs;
            std::vector<Entry> rest;
            for (const Entry& e : changes) {
                if (fs::path(e.path).filename() == layer::kOpaqueWhiteout) {
                    opaque_dirs.insert(fs::path(e.path).parent_path().string());
                } else {
                    rest.push_back(e);
                }
            }
            EXPECT_EQ(opaque_dirs, (std::set<std::string>{"d", "empty"}));
            EXPECT_EQ(essentials(rest),
                      essentials({make_entry("a", EntryType::kDirectory, 0755), whiteout("a/.wh.y"),
                                  file_entry("a/new", "written by the step\n"),
                                  make_entry("d", EntryType::kDirectory, 0755),
                                  make_entry("empty", EntryType::kDirectory, 0700)}));
            const Entry* created = find(changes, "a/new");
            EXPECT_TRUE(created != nullptr && !created->source_file.empty() &&
                        read_file(created->source_file) == "written by the step\n");

            // Committed into the rootless area.
            const fs::path committed = store.commit(ws, Digest::of("a rootless step"));
            EXPECT_EQ(committed.parent_path(), dir / "snapshots" / "layers-userxattr");
            EXPECT_TRUE(fs::exists(committed / "a" / "new"));
            return child_status();
        }),
        0);
}

TEST(DropUnchangedDirs, DropsCopiedUpDirsWithNothingUnder) {
    TempDir tmp;
    std::vector<Entry> lower_entries = {
        make_entry("run", EntryType::kDirectory, 0755),
        make_entry("run/lock", EntryType::kDirectory, 01777),
        make_entry("etc", EntryType::kDirectory, 0755),
        make_entry("var", EntryType::kDirectory, 0755),
        make_entry("opt", EntryType::kDirectory, 0755),
    };
    lower_entries[4].xattrs["user.a"] = "1";
    auto made = std::make_shared<layer::MergedView::Layer>();
    made->dir = tmp.path();
    made->entries = lower_entries;
    const layer::MergedView lower({made});

    // All copied up unchanged, but etc holds a change, home is new, var was touched (the
    // nanoseconds differ) and opt has another xattr value.
    std::vector<Entry> upper = lower_entries;
    upper.push_back(file_entry("etc/new", "a real change\n"));
    upper.push_back(make_entry("home", EntryType::kDirectory, 0755));
    upper[3].mtime_ns += 1;
    upper[4].xattrs["user.a"] = "2";
    const std::vector<Entry> kept = drop_unchanged_dirs(upper, lower);
    std::vector<std::string> paths;
    for (const Entry& e : kept) {
        paths.push_back(e.path);
    }
    // run and run/lock go as a chain; etc stays as the parent of a change.
    EXPECT_EQ(paths, (std::vector<std::string>{"etc", "etc/new", "home", "opt", "var"}));
}

TEST(UpperToEntries, OwnerMapTurnsTheHostIdsIntoRoot) {
    XARCH_REQUIRE_ROOT();
    TempDir tmp;
    const fs::path upper = tmp.path() / "upper";
    fs::create_directories(upper / "opaque");
    write_file(upper / "mine", "the caller's\n");
    write_file(upper / "group", "another group\n");
    write_file(upper / "overflow", "an unmapped owner\n");
    ASSERT_EQ(::mknod((upper / "gone").c_str(), S_IFCHR | 0000, ::makedev(0, 0)), 0);
    ASSERT_EQ(::lsetxattr((upper / "opaque").c_str(), "user.overlay.opaque", "y", 1, 0), 0);
    for (const auto& [name, uid, gid] :
         {std::tuple("mine", 1234, 1234), std::tuple("group", 1234, 99),
          std::tuple("overflow", 65534, 65534), std::tuple("gone", 1234, 1234),
          std::tuple("opaque", 1234, 1234)}) {
        ASSERT_EQ(::lchown((upper / name).c_str(), uid, gid), 0) << name;
    }
    const auto owners = [](const std::vector<Entry>& entries) {
        std::map<std::string, std::string> out;
        for (const Entry& e : entries) {
            out[e.path] = std::to_string(e.uid) + ":" + std::to_string(e.gid);
        }
        return out;
    };
    EXPECT_EQ(owners(upper_to_entries(upper, OwnerMap{1234, 1234})),
              (std::map<std::string, std::string>{{".wh.gone", "0:0"},
                                                  {"group", "0:99"},
                                                  {"mine", "0:0"},
                                                  {"opaque", "0:0"},
                                                  {"opaque/.wh..wh..opq", "0:0"},
                                                  {"overflow", "65534:65534"}}));
    // With subordinate ids 100000-165535 (uids) and 90-99 (gids): host 100999 is 1000 inside.
    ASSERT_EQ(::lchown((upper / "group").c_str(), 100999, 99), 0);
    OwnerMap subordinate{1234, 1234};
    subordinate.uid_start = 100000;
    subordinate.uid_count = 65536;
    subordinate.gid_start = 90;
    subordinate.gid_count = 10;
    EXPECT_EQ(owners(upper_to_entries(upper, subordinate)).at("group"), "1000:10");
    EXPECT_EQ(owners(upper_to_entries(upper, subordinate)).at("overflow"), "65534:65534");
    ASSERT_EQ(::lchown((upper / "group").c_str(), 1234, 99), 0);
    // Without a map, the ids as written.
    EXPECT_EQ(owners(upper_to_entries(upper))["mine"], "1234:1234");
}

TEST(SnapshotStoreRebase, MovesOnlySourcesUnderTheOldRoot) {
    std::vector<Entry> entries = {file_entry("a", "x"), make_entry("b", EntryType::kRegular),
                                  make_entry("c", EntryType::kRegular),
                                  make_entry("d", EntryType::kDirectory)};
    entries[1].source_file = "/old/upper/b";
    entries[2].source_file = "/elsewhere/c";
    const std::vector<Entry> moved = SnapshotStore::rebase(entries, "/old/upper", "/new/layer");
    EXPECT_EQ(moved[0].source_file, fs::path());
    EXPECT_EQ(moved[1].source_file, fs::path("/new/layer/b"));
    EXPECT_EQ(moved[2].source_file, fs::path("/elsewhere/c"));
    EXPECT_EQ(moved[3].source_file, fs::path());
}

}  // namespace
}  // namespace xarch::snapshot
