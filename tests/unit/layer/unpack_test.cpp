// SPDX-License-Identifier: Apache-2.0
// unpack_layer: round trips through write_layer for every compression, diff_id checks, hostile
// archives refused, and the entries file.
#include "layer/unpack.hpp"

#include "layer/entries_file.hpp"
#include "layer/writer.hpp"
#include "layer_test_util.hpp"

#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

namespace xarch::layer {
namespace {

using test::TempDir;

std::vector<Entry> layer_entries() {
    std::vector<Entry> entries;
    entries.push_back(test::make_entry("etc", EntryType::kDirectory, 0755));
    entries.push_back(test::file_entry("etc/passwd", "root:x:0:0::/root:/bin/sh\n"));
    entries.push_back(test::make_entry("etc/passwd-", EntryType::kHardlink, 0644));
    entries.back().link_target = "etc/passwd";
    entries.push_back(test::make_entry("ro", EntryType::kDirectory, 0555));
    entries.push_back(test::file_entry("ro/file", "inside a read-only dir", 0400));
    entries.push_back(test::make_entry("sh", EntryType::kSymlink, 0777));
    entries.back().link_target = "/bin/busybox";
    entries.push_back(test::file_entry("etc/.wh.shadow", ""));
    entries.push_back(test::file_entry("empty", ""));
    entries.push_back(test::file_entry("caf\xc3\xa9 \xe2\x9c\x93", "unicode name"));
    entries.push_back(test::file_entry("owned", "o", 0640));
    entries.back().uid = 123;
    entries.back().gid = 456;
    entries.back().xattrs["user.note"] = std::string("\x01\x02\0z", 4);
    entries.push_back(
        test::file_entry(std::string(120, 'n') + "/" + std::string(110, 'm'), "long"));
    entries.push_back(test::file_entry("multi", test::mixed_bytes(5 * 1024 * 1024 + 3, 11)));
    entries.push_back(test::make_entry("null", EntryType::kCharDevice, 0666));
    entries.back().dev_major = 1;
    entries.back().dev_minor = 3;
    return entries;
}

BlobReader blob_reader(const OciLayout& layout, const Digest& digest) {
    auto data = std::make_shared<std::string>(layout.read_blob(digest));
    auto offset = std::make_shared<std::size_t>(0);
    return [data, offset](std::span<std::byte> buffer) {
        const std::size_t n = std::min(buffer.size(), data->size() - *offset);
        std::memcpy(buffer.data(), data->data() + *offset, n);
        *offset += n;
        return n;
    };
}

void expect_unpacked(const std::vector<Entry>& written,
                     const std::vector<Entry>& unpacked,
                     const std::filesystem::path& root) {
    std::map<std::string, Entry> by_path;
    for (const Entry& e : unpacked) {
        by_path[e.path] = e;
    }
    // "n...n" is implied by the long path: not an entry of its own.
    EXPECT_EQ(unpacked.size(), written.size());
    EXPECT_TRUE(std::is_sorted(unpacked.begin(), unpacked.end(),
                               [](const Entry& a, const Entry& b) { return a.path < b.path; }));
    for (const Entry& w : written) {
        ASSERT_TRUE(by_path.contains(w.path)) << w.path;
        const Entry& u = by_path[w.path];
        EXPECT_EQ(u.type, w.type) << w.path;
        EXPECT_EQ(u.mode, w.mode) << w.path;
        EXPECT_EQ(u.uid, w.uid) << w.path;
        EXPECT_EQ(u.gid, w.gid) << w.path;
        EXPECT_EQ(u.mtime_ns, w.mtime_ns / 1'000'000'000 * 1'000'000'000) << w.path;
        EXPECT_EQ(u.link_target, w.link_target) << w.path;
        EXPECT_EQ(u.xattrs, w.xattrs) << w.path;
        EXPECT_EQ(u.dev_major, w.dev_major) << w.path;
        const std::filesystem::path file = root / w.path;
        struct stat st {};
        if (w.type == EntryType::kRegular) {
            EXPECT_EQ(u.size, w.size) << w.path;
            EXPECT_EQ(u.source_file, file);
            EXPECT_EQ(test::read_file(file), *w.data) << w.path;
            ASSERT_EQ(::lstat(file.c_str(), &st), 0);
            EXPECT_EQ(st.st_mode & 07777, w.mode) << w.path;
            EXPECT_EQ(st.st_mtim.tv_sec, w.mtime_ns / 1'000'000'000) << w.path;
        } else if (w.type == EntryType::kDirectory) {
            ASSERT_EQ(::lstat(file.c_str(), &st), 0);
            EXPECT_TRUE(S_ISDIR(st.st_mode));
            EXPECT_EQ(st.st_mode & 07777, w.mode) << w.path;
            EXPECT_EQ(st.st_mtim.tv_sec, w.mtime_ns / 1'000'000'000) << w.path;
        } else if (w.type == EntryType::kSymlink) {
            EXPECT_EQ(std::filesystem::read_symlink(file).string(), w.link_target);
        } else if (w.type == EntryType::kHardlink) {
            struct stat target {};
            ASSERT_EQ(::lstat(file.c_str(), &st), 0);
            ASSERT_EQ(::lstat((root / w.link_target).c_str(), &target), 0);
            EXPECT_EQ(st.st_ino, target.st_ino);
        } else {
            EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(file)));
        }
    }
}

TEST(UnpackLayer, RoundTripsEveryCompression) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    const std::vector<Entry> entries = layer_entries();
    int n = 0;
    for (Compression compression :
         {Compression::kGzip, Compression::kZstd, Compression::kUncompressed}) {
        WriteOptions options;
        options.compression = compression;
        const LayerBlob blob = write_layer(layout, entries, options);
        const std::filesystem::path root = dir.path() / ("root" + std::to_string(n++));
        const std::vector<Entry> unpacked =
            unpack_layer(blob_reader(layout, blob.descriptor.digest), root, blob.diff_id);
        expect_unpacked(entries, unpacked, root);

        // The entries file keeps all of it.
        save_entries(unpacked, root.string() + ".jsonl");
        EXPECT_EQ(load_entries(root.string() + ".jsonl", root), unpacked);
    }
}

TEST(UnpackLayer, ReadsConcatenatedGzipMembers) {
    TempDir dir;
    std::string tar;
    write_tar({test::file_entry("a", "one"), test::file_entry("b", "two")},
              [&tar](std::span<const std::byte> b) {
                  tar.append(reinterpret_cast<const char*>(b.data()), b.size());
              });
    test::write_file(dir.path() / "part1", tar.substr(0, 700));
    test::write_file(dir.path() / "part2", tar.substr(700));
    int status = 0;
    const std::string gz =
        test::run("cd " + dir.path().string() + " && gzip -c part1 && gzip -c part2", status);
    ASSERT_EQ(status, 0);
    const std::vector<Entry> unpacked =
        unpack_layer(test::string_reader(gz), dir.path() / "root", Digest::of(tar));
    ASSERT_EQ(unpacked.size(), 2U);
    EXPECT_EQ(test::read_file(dir.path() / "root/b"), "two");
}

TEST(UnpackLayer, WrongDiffIdIsDigestMismatch) {
    TempDir dir;
    std::string tar;
    write_tar({test::file_entry("a", "one")}, [&tar](std::span<const std::byte> b) {
        tar.append(reinterpret_cast<const char*>(b.data()), b.size());
    });
    try {
        unpack_layer(test::string_reader(tar), dir.path() / "root", Digest::of("other"));
        ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kDigestMismatch);
        EXPECT_NE(std::string(e.what()).find(Digest::of(tar).to_string()), std::string::npos);
    }
}

TEST(UnpackLayer, ExistingDirectoryIsRefused) {
    TempDir dir;
    std::string tar(1024, '\0');
    try {
        unpack_layer(test::string_reader(tar), dir.path());
        ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
    }
}

struct RawEntry {
    RawEntry(std::string n, mode_t t = AE_IFREG, std::string l = {}, std::string h = {})
        : name(std::move(n)), type(t), link(std::move(l)), hardlink(std::move(h)) {}
    std::string name;
    mode_t type;
    std::string link;      // symlink target
    std::string hardlink;  // hard link target
};

// A tar written by libarchive, which does not object to hostile names.
std::string hostile_tar(const std::vector<RawEntry>& raw) {
    std::string out(1 << 16, '\0');
    std::size_t used = 0;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_memory(a, out.data(), out.size(), &used);
    for (const RawEntry& r : raw) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, r.name.c_str());
        archive_entry_set_filetype(e, r.type);
        archive_entry_set_perm(e, 0644);
        if (!r.link.empty()) {
            archive_entry_set_symlink(e, r.link.c_str());
        }
        if (!r.hardlink.empty()) {
            archive_entry_set_hardlink(e, r.hardlink.c_str());
        }
        archive_entry_set_size(e, r.type == AE_IFREG && r.hardlink.empty() ? 4 : 0);
        archive_write_header(a, e);
        if (r.type == AE_IFREG && r.hardlink.empty()) {
            archive_write_data(a, "evil", 4);
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    out.resize(used);
    return out;
}

void expect_refused(const std::vector<RawEntry>& raw, const std::string& named) {
    TempDir dir;
    const std::string tar = hostile_tar(raw);
    try {
        unpack_layer(test::string_reader(tar), dir.path() / "sub" / "root");
        ADD_FAILURE() << "accepted " << named;
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
        EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
    // Nothing was written beside the root.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
        if (entry.path() == dir.path() / "sub") {
            continue;
        }
        EXPECT_TRUE(entry.path().string().starts_with((dir.path() / "sub" / "root").string()))
            << entry.path();
    }
}

TEST(UnpackLayer, RefusesHostilePaths) {
    expect_refused({{"../evil"}}, "../evil");
    expect_refused({{"a/../../evil"}}, "a/../../evil");
    expect_refused({{"/abs/evil"}}, "/abs/evil");
    expect_refused({{"link", AE_IFLNK, "..", ""}, {"link/evil"}}, "link/evil");
    expect_refused({{"link", AE_IFLNK, "/tmp", ""}, {"link/evil"}}, "link/evil");
    expect_refused({{"file"}, {"file/evil"}}, "file/evil");
    expect_refused({{"hard", AE_IFREG, "", "../outside"}}, "hard");
    expect_refused({{"hard", AE_IFREG, "", "missing"}}, "hard");
}

TEST(UnpackLayer, LaterEntryReplacesEarlier) {
    TempDir dir;
    const std::string tar =
        hostile_tar({{"x", AE_IFDIR}, {"x/inner"}, {"x", AE_IFLNK, "target", ""}});
    const std::vector<Entry> entries = unpack_layer(test::string_reader(tar), dir.path() / "root");
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].type, EntryType::kSymlink);
    EXPECT_EQ(std::filesystem::read_symlink(dir.path() / "root/x"), "target");
}

TEST(EntriesFile, RoundTripsOddValues) {
    TempDir dir;
    std::vector<Entry> entries;
    entries.push_back(test::make_entry("d", EntryType::kDirectory, 01777));
    entries.push_back(test::make_entry("d/caf\xc3\xa9 \"q\"\n\xff", EntryType::kRegular, 0600));
    entries.back().size = 12;
    entries.back().uid = 65534;
    entries.back().mtime_ns = -5;
    entries.back().xattrs["user.bin"] = std::string("\0\xff\x80", 3);
    entries.push_back(test::make_entry("d/l", EntryType::kSymlink, 0777));
    entries.back().link_target = "../x";
    entries.push_back(test::make_entry("d/blk", EntryType::kBlockDevice, 0660));
    entries.back().dev_major = 8;
    entries.back().dev_minor = 1;
    save_entries(entries, dir.path() / "entries.jsonl");
    std::vector<Entry> loaded = load_entries(dir.path() / "entries.jsonl", "/root");
    ASSERT_EQ(loaded.size(), entries.size());
    EXPECT_EQ(loaded[1].source_file, std::filesystem::path("/root") / entries[1].path);
    loaded[1].source_file.clear();
    EXPECT_EQ(loaded, entries);

    test::write_file(dir.path() / "bad.jsonl", "{\"path\":\"a\",\"type\":\"file\"}\n{\"path\":\n");
    try {
        load_entries(dir.path() / "bad.jsonl", "/root");
        ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace xarch::layer
