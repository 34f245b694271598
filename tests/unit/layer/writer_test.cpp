// SPDX-License-Identifier: Apache-2.0
// write_tar and write_layer: determinism, the tar read back by libarchive and by the tar tool,
// gzip and zstd output checked with the gzip and zstd tools, media types and cancellation.
#include "layer/writer.hpp"

#include "layer/gzip_parallel.hpp"
#include "layer_test_util.hpp"

#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace xarch::layer {
namespace {

using test::TempDir;

std::string tar_of(std::vector<Entry> entries, std::optional<std::int64_t> clamp = {}) {
    std::string out;
    write_tar(
        std::move(entries),
        [&out](std::span<const std::byte> bytes) {
            out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        },
        clamp);
    return out;
}

std::vector<Entry> sample_entries(const std::filesystem::path& dir) {
    std::vector<Entry> entries;
    entries.push_back(test::make_entry("usr", EntryType::kDirectory, 0755));
    entries.push_back(test::make_entry("usr/bin", EntryType::kDirectory, 0755));
    entries.push_back(test::file_entry("usr/bin/tool", "#!/bin/sh\necho hi\n", 04755));
    entries.back().uid = 1000;
    entries.back().gid = 1001;
    entries.push_back(test::make_entry("usr/bin/tool-link", EntryType::kHardlink, 04755));
    entries.back().link_target = "usr/bin/tool";
    entries.push_back(test::make_entry("usr/lib", EntryType::kDirectory, 0700));
    entries.push_back(test::make_entry("bin", EntryType::kSymlink, 0777));
    entries.back().link_target = "usr/bin";
    entries.push_back(test::file_entry("empty", ""));
    entries.push_back(test::file_entry("etc/.wh.removed", ""));
    entries.push_back(test::make_entry("etc", EntryType::kDirectory, 0755));
    const std::string deep =
        std::string(60, 'd') + "/" + std::string(70, 'e') + "/" + std::string(30, 'f');
    entries.push_back(test::file_entry(deep, "deep file"));
    entries.push_back(test::make_entry("long-link", EntryType::kSymlink, 0777));
    entries.back().link_target = "/" + std::string(150, 't');
    entries.push_back(test::file_entry("xattr-file", "x"));
    entries.back().xattrs["user.comment"] = std::string("binary\0value\xff", 13);
    entries.back().xattrs["security.capability"] = "cap";
    // A multi-block file read from disk.
    const std::string big = test::mixed_bytes(3 * 1024 * 1024 + 17, 7);
    test::write_file(dir / "big.bin", big);
    Entry big_entry = test::make_entry("big.bin", EntryType::kRegular, 0600);
    big_entry.size = static_cast<std::int64_t>(big.size());
    big_entry.source_file = dir / "big.bin";
    entries.push_back(big_entry);
    entries.push_back(test::make_entry("dev-null", EntryType::kCharDevice, 0666));
    entries.back().dev_major = 1;
    entries.back().dev_minor = 3;
    entries.push_back(test::make_entry("fifo", EntryType::kFifo, 0600));
    return entries;
}

struct ReadEntry {
    std::string name;
    mode_t type = 0;
    mode_t perm = 0;
    std::int64_t uid = 0;
    std::int64_t gid = 0;
    std::int64_t mtime = 0;
    long mtime_nsec = 0;
    std::string symlink;
    std::string hardlink;
    std::string uname;
    std::map<std::string, std::string> xattrs;
    std::string data;
    bool has_atime = false;
};

std::vector<ReadEntry> read_with_libarchive(const std::string& tar) {
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
    std::vector<ReadEntry> out;
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
        ReadEntry r;
        r.name = archive_entry_pathname(entry);
        r.type = archive_entry_filetype(entry);
        r.perm = archive_entry_perm(entry);
        r.uid = archive_entry_uid(entry);
        r.gid = archive_entry_gid(entry);
        r.mtime = archive_entry_mtime(entry);
        r.mtime_nsec = archive_entry_mtime_nsec(entry);
        r.has_atime = archive_entry_atime_is_set(entry) != 0;
        if (const char* s = archive_entry_symlink(entry)) {
            r.symlink = s;
        }
        if (const char* h = archive_entry_hardlink(entry)) {
            r.hardlink = h;
        }
        if (const char* u = archive_entry_uname(entry)) {
            r.uname = u;
        }
        archive_entry_xattr_reset(entry);
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
            r.xattrs[name] = std::string(static_cast<const char*>(value), size);
        }
        char buffer[65536];
        la_ssize_t n = 0;
        while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) {
            r.data.append(buffer, static_cast<std::size_t>(n));
        }
        out.push_back(std::move(r));
    }
    archive_read_free(a);
    return out;
}

const ReadEntry* find(const std::vector<ReadEntry>& entries, const std::string& name) {
    for (const ReadEntry& e : entries) {
        if (e.name == name) {
            return &e;
        }
    }
    return nullptr;
}

TEST(WriteTar, SameEntriesInAnyOrderGiveTheSameBytes) {
    TempDir dir;
    std::vector<Entry> entries = sample_entries(dir.path());
    const std::string first = tar_of(entries);
    EXPECT_EQ(tar_of(entries), first);
    std::mt19937 random(42);
    for (int i = 0; i < 3; ++i) {
        std::shuffle(entries.begin(), entries.end(), random);
        EXPECT_EQ(tar_of(entries), first);
    }
    EXPECT_EQ(first.size() % 512, 0U);
}

TEST(WriteTar, LibarchiveReadsEveryField) {
    TempDir dir;
    const std::vector<Entry> entries = sample_entries(dir.path());
    const std::vector<ReadEntry> read = read_with_libarchive(tar_of(entries));
    ASSERT_EQ(read.size(), entries.size());

    // Parents before children.
    std::vector<std::string> names;
    for (const ReadEntry& r : read) {
        names.push_back(r.name);
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            EXPECT_FALSE(names[j].starts_with(names[i]) && names[i].ends_with("/"))
                << names[j] << " came before its parent " << names[i];
        }
    }

    const ReadEntry* usr = find(read, "usr/");
    ASSERT_NE(usr, nullptr);
    EXPECT_EQ(usr->type, AE_IFDIR);
    EXPECT_EQ(usr->perm, 0755U);
    EXPECT_EQ(usr->mtime, 1'700'000'000);
    EXPECT_EQ(usr->mtime_nsec, 0);  // truncated to seconds
    EXPECT_FALSE(usr->has_atime);
    EXPECT_EQ(usr->uname, "");

    const ReadEntry* tool = find(read, "usr/bin/tool");
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(tool->perm, 04755U);
    EXPECT_EQ(tool->uid, 1000);
    EXPECT_EQ(tool->gid, 1001);
    EXPECT_EQ(tool->data, "#!/bin/sh\necho hi\n");

    const ReadEntry* link = find(read, "usr/bin/tool-link");
    ASSERT_NE(link, nullptr);
    EXPECT_EQ(link->hardlink, "usr/bin/tool");

    const ReadEntry* bin = find(read, "bin");
    ASSERT_NE(bin, nullptr);
    EXPECT_EQ(bin->type, AE_IFLNK);
    EXPECT_EQ(bin->symlink, "usr/bin");

    const std::string deep =
        std::string(60, 'd') + "/" + std::string(70, 'e') + "/" + std::string(30, 'f');
    const ReadEntry* deep_entry = find(read, deep);
    ASSERT_NE(deep_entry, nullptr);
    EXPECT_EQ(deep_entry->data, "deep file");

    const ReadEntry* long_link = find(read, "long-link");
    ASSERT_NE(long_link, nullptr);
    EXPECT_EQ(long_link->symlink, "/" + std::string(150, 't'));

    const ReadEntry* xattr = find(read, "xattr-file");
    ASSERT_NE(xattr, nullptr);
    EXPECT_EQ(xattr->xattrs.at("user.comment"), std::string("binary\0value\xff", 13));
    EXPECT_EQ(xattr->xattrs.at("security.capability"), "cap");

    const ReadEntry* big = find(read, "big.bin");
    ASSERT_NE(big, nullptr);
    EXPECT_EQ(big->data, test::read_file(dir.path() / "big.bin"));

    const ReadEntry* empty = find(read, "empty");
    ASSERT_NE(empty, nullptr);
    EXPECT_EQ(empty->data, "");
    EXPECT_EQ(empty->type, AE_IFREG);
    ASSERT_NE(find(read, "etc/.wh.removed"), nullptr);
    EXPECT_EQ(find(read, "dev-null")->type, AE_IFCHR);
    EXPECT_EQ(find(read, "fifo")->type, AE_IFIFO);
}

TEST(WriteTar, PlainEntriesUseUstarWithoutPaxHeaders) {
    std::vector<Entry> entries{test::make_entry("a", EntryType::kDirectory, 0755),
                               test::file_entry("a/b", "hello")};
    const std::string tar = tar_of(entries);
    // Two headers, one data block, two zero blocks: no PAX header anywhere.
    EXPECT_EQ(tar.size(), 5U * 512U);
    EXPECT_EQ(tar.substr(257, 6), std::string("ustar\0", 6));
    EXPECT_EQ(tar[156], '5');
    EXPECT_EQ(tar.substr(0, 3), std::string("a/\0", 3));
    EXPECT_EQ(tar.substr(100, 8), std::string("0000755\0", 8));
    EXPECT_EQ(tar.substr(136, 12), std::string("14524770400\0", 12));  // 1700000000 in octal
    // Go's checksum field: six octal digits, NUL, space; devmajor/devminor always written.
    EXPECT_EQ(tar.substr(154, 2), std::string("\0 ", 2));
    std::string blank = tar.substr(0, 512);
    blank.replace(148, 8, 8, ' ');
    unsigned sum = 0;
    for (char c : blank) {
        sum += static_cast<unsigned char>(c);
    }
    EXPECT_EQ(std::stoul(tar.substr(148, 6), nullptr, 8), sum);
    EXPECT_EQ(tar.substr(329, 16), std::string("0000000\0"
                                               "0000000\0",
                                               16));
}

TEST(WriteTar, ClampsMtime) {
    std::vector<Entry> entries{test::file_entry("new", "n"), test::file_entry("old", "o")};
    entries[1].mtime_ns = 5'000'000'000;
    const std::vector<ReadEntry> read = read_with_libarchive(tar_of(entries, 100));
    EXPECT_EQ(find(read, "new")->mtime, 100);
    EXPECT_EQ(find(read, "old")->mtime, 5);
}

TEST(WriteTar, HardLinkSortedBeforeItsFileTakesTheData) {
    Entry link = test::make_entry("a/link", EntryType::kHardlink);
    link.link_target = "b/file";
    Entry second = test::make_entry("c/second", EntryType::kHardlink);
    second.link_target = "b/file";
    const std::vector<ReadEntry> read =
        read_with_libarchive(tar_of({test::file_entry("b/file", "shared"), link, second}));
    ASSERT_EQ(read.size(), 3U);
    EXPECT_EQ(read[0].name, "a/link");
    EXPECT_EQ(read[0].data, "shared");
    EXPECT_EQ(read[1].name, "b/file");
    EXPECT_EQ(read[1].hardlink, "a/link");
    EXPECT_EQ(read[2].name, "c/second");
    EXPECT_EQ(read[2].hardlink, "a/link");

    Entry dangling = test::make_entry("x", EntryType::kHardlink);
    dangling.link_target = "nowhere";
    try {
        tar_of({dangling});
        ADD_FAILURE() << "dangling hard link accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos);
    }
}

TEST(WriteTar, TarToolListsNamesModesAndOwners) {
    if (!test::have_tool("tar")) {
        GTEST_SKIP() << "tar is not installed";
    }
    TempDir dir;
    const std::string tar = tar_of(sample_entries(dir.path()));
    test::write_file(dir.path() / "layer.tar", tar);
    int status = 0;
    const std::string listing =
        test::run("tar --numeric-owner -tvf " + (dir.path() / "layer.tar").string(), status);
    ASSERT_EQ(status, 0) << listing;
    EXPECT_NE(listing.find("drwxr-xr-x 0/0"), std::string::npos) << listing;
    EXPECT_NE(listing.find("-rwsr-xr-x 1000/1001"), std::string::npos) << listing;
    EXPECT_NE(listing.find("usr/bin/tool-link link to usr/bin/tool"), std::string::npos) << listing;
    EXPECT_NE(listing.find("bin -> usr/bin"), std::string::npos) << listing;
    EXPECT_NE(listing.find(std::string(30, 'f')), std::string::npos) << listing;
    EXPECT_NE(listing.find("long-link -> /" + std::string(150, 't')), std::string::npos) << listing;
    const std::size_t device = listing.find("crw-rw-rw- 0/0 ");
    ASSERT_NE(device, std::string::npos) << listing;
    EXPECT_NE(listing.substr(device, listing.find('\n', device) - device).find(" 1,3 "),
              std::string::npos)
        << listing;
    // The tar tool extracts it without complaint too.
    std::filesystem::create_directory(dir.path() / "out");
    test::run("tar --no-same-owner -xf " + (dir.path() / "layer.tar").string() + " -C " +
                  (dir.path() / "out").string() + " --exclude dev-null 2>&1",
              status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(test::read_file(dir.path() / "out/big.bin"), test::read_file(dir.path() / "big.bin"));
}

LayerBlob write(OciLayout& layout,
                std::vector<Entry> entries,
                Compression compression,
                unsigned threads = 2,
                bool oci = true) {
    WriteOptions options;
    options.compression = compression;
    options.threads = threads;
    options.oci_media_types = oci;
    return write_layer(layout, std::move(entries), options);
}

TEST(WriteLayer, GzipIsReadableByGzipAndDigestsMatch) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    const std::vector<Entry> entries = sample_entries(dir.path());
    const LayerBlob blob = write(layout, entries, Compression::kGzip);
    EXPECT_EQ(blob.descriptor.media_type, media_type::kOciLayerGzip);
    ASSERT_TRUE(layout.has_blob(blob.descriptor.digest));
    EXPECT_EQ(blob.descriptor.size, *layout.blob_size(blob.descriptor.digest));
    const std::string tar = tar_of(entries);
    EXPECT_EQ(blob.diff_id, Digest::of(tar));
    EXPECT_EQ(blob.uncompressed_size, static_cast<std::int64_t>(tar.size()));
    EXPECT_EQ(layout.read_blob(blob.descriptor.digest).substr(0, 2), "\x1f\x8b");
    // Same bytes with one thread and with four.
    EXPECT_EQ(write(layout, entries, Compression::kGzip, 1).descriptor.digest,
              blob.descriptor.digest);
    EXPECT_EQ(write(layout, entries, Compression::kGzip, 4).descriptor.digest,
              blob.descriptor.digest);
    if (!test::have_tool("gzip")) {
        GTEST_SKIP() << "gzip is not installed";
    }
    int status = 0;
    const std::string out =
        test::run("gzip -dc " + layout.blob_path(blob.descriptor.digest).string(), status);
    EXPECT_EQ(status, 0);
    EXPECT_TRUE(out == tar);
    EXPECT_EQ(Digest::of(out), blob.diff_id);
}

TEST(WriteLayer, ZstdIsReadableByZstdAndDigestsMatch) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    const std::vector<Entry> entries = sample_entries(dir.path());
    const LayerBlob blob = write(layout, entries, Compression::kZstd);
    EXPECT_EQ(blob.descriptor.media_type, media_type::kOciLayerZstd);
    const std::string tar = tar_of(entries);
    EXPECT_EQ(blob.diff_id, Digest::of(tar));
    EXPECT_EQ(write(layout, entries, Compression::kZstd, 1).descriptor.digest,
              blob.descriptor.digest);
    if (!test::have_tool("zstd")) {
        GTEST_SKIP() << "zstd is not installed (Debian package zstd)";
    }
    int status = 0;
    const std::string out =
        test::run("zstd -dc " + layout.blob_path(blob.descriptor.digest).string(), status);
    EXPECT_EQ(status, 0);
    EXPECT_TRUE(out == tar);
}

TEST(WriteLayer, UncompressedDigestIsTheDiffId) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    const LayerBlob blob = write(layout, sample_entries(dir.path()), Compression::kUncompressed);
    EXPECT_EQ(blob.descriptor.digest, blob.diff_id);
    EXPECT_EQ(blob.descriptor.media_type, media_type::kOciLayer);
    EXPECT_EQ(blob.descriptor.size, blob.uncompressed_size);
}

TEST(WriteLayer, DockerMediaTypes) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    std::vector<Entry> entries{test::file_entry("f", "data")};
    EXPECT_EQ(write(layout, entries, Compression::kGzip, 1, false).descriptor.media_type,
              media_type::kDockerLayerGzip);
    EXPECT_EQ(write(layout, entries, Compression::kZstd, 1, false).descriptor.media_type,
              media_type::kDockerLayerZstd);
    EXPECT_EQ(write(layout, entries, Compression::kUncompressed, 1, false).descriptor.media_type,
              media_type::kDockerLayer);
}

TEST(WriteLayer, EmptyLayerIsValidGzip) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    const LayerBlob blob = write(layout, {}, Compression::kGzip);
    EXPECT_EQ(blob.uncompressed_size, 1024);
    int status = 0;
    const std::string out =
        test::run("gzip -dc " + layout.blob_path(blob.descriptor.digest).string(), status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(out, std::string(1024, '\0'));
}

std::size_t files_under(const std::filesystem::path& dir) {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        count += entry.is_regular_file() ? 1 : 0;
    }
    return count;
}

TEST(WriteLayer, CancellationThrowsAndLeavesNoBlob) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    const std::vector<Entry> entries = sample_entries(dir.path());
    for (Compression compression :
         {Compression::kGzip, Compression::kZstd, Compression::kUncompressed}) {
        int calls = 0;
        WriteOptions options;
        options.compression = compression;
        try {
            write_layer(layout, entries, options, [&calls] { return ++calls > 2; });
            ADD_FAILURE() << "not cancelled";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::kCancelled) << e.what();
        }
        EXPECT_GT(calls, 2);
        EXPECT_EQ(files_under(dir.path() / "layout" / "blobs"), 0U);
    }
}

TEST(WriteLayer, MissingSourceFileIsNotFound) {
    TempDir dir;
    OciLayout layout = OciLayout::create(dir.path() / "layout");
    Entry entry = test::make_entry("gone", EntryType::kRegular);
    entry.size = 3;
    entry.source_file = dir.path() / "gone";
    try {
        write(layout, {entry}, Compression::kGzip);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
        EXPECT_NE(std::string(e.what()).find("gone"), std::string::npos);
    }
    EXPECT_EQ(files_under(dir.path() / "layout" / "blobs"), 0U);
}

TEST(ParallelGzip, MatchesZlibOutputForManyBlocks) {
    for (std::size_t size : {ParallelGzip::kBlockSize * 9 + 5, ParallelGzip::kBlockSize * 2}) {
        const std::string input = test::mixed_bytes(size, 3);
        for (unsigned threads : {1U, 2U, 3U}) {
            std::string compressed;
            ParallelGzip gzip(6, threads, [&](std::span<const std::byte> bytes) {
                compressed.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            });
            // Odd-sized writes cross block boundaries.
            for (std::size_t offset = 0; offset < input.size(); offset += 70001) {
                const std::string_view piece = std::string_view(input).substr(offset, 70001);
                gzip.write(
                    std::span(reinterpret_cast<const std::byte*>(piece.data()), piece.size()));
            }
            gzip.finish();
            EXPECT_LT(compressed.size(), input.size());
            TempDir dir;
            test::write_file(dir.path() / "x.gz", compressed);
            int status = 0;
            const std::string out = test::run("gzip -dc " + (dir.path() / "x.gz").string(), status);
            EXPECT_EQ(status, 0);
            EXPECT_TRUE(out == input) << "threads " << threads;
        }
    }
}

TEST(ParallelGzip, RefusesBadLevel) {
    try {
        ParallelGzip gzip(12, 1, [](std::span<const std::byte>) {});
        ADD_FAILURE() << "level 12 accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find("12"), std::string::npos);
    }
}

}  // namespace
}  // namespace xarch::layer
