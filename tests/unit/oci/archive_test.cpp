// SPDX-License-Identifier: Apache-2.0
// OCI archives: round trips, reproducible bytes, subsets, atomic replacement, and hostile tars
// (crafted here with libarchive) that must be refused without writing outside the layout.
#include "oci_test_util.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using testing::ElementsAre;
using testing::HasSubstr;
using xarch::Descriptor;
using xarch::Digest;
using xarch::ErrorCode;
using xarch::ImageIndex;
using xarch::OciArchiveOptions;
using xarch::OciLayout;
using xarch::read_oci_archive;
using xarch::write_oci_archive;
using xarch::test::error_of;
using xarch::test::TempDir;
namespace media_type = xarch::media_type;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

struct TarEntry {
    TarEntry() = default;
    TarEntry(std::string name_,
             std::string content_,
             mode_t type_ = AE_IFREG,
             std::string link_ = {},
             bool hardlink_ = false)
        : name(std::move(name_)),
          content(std::move(content_)),
          type(type_),
          link(std::move(link_)),
          hardlink(hardlink_) {}

    std::string name;
    std::string content;
    mode_t type = AE_IFREG;
    std::string link;  // symlink target, or hardlink target when `hardlink`
    bool hardlink = false;
    std::int64_t mtime = 0;
    int uid = 0;
    mode_t perm = 0;
};

// What a tar holds, as read back by libarchive.
std::vector<TarEntry> list_tar(const fs::path& file) {
    std::vector<TarEntry> out;
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    EXPECT_EQ(archive_read_open_filename(a, file.c_str(), 65536), ARCHIVE_OK);
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
        TarEntry e;
        e.name = archive_entry_pathname(entry);
        e.type = archive_entry_filetype(entry);
        e.mtime = archive_entry_mtime(entry);
        e.uid = static_cast<int>(archive_entry_uid(entry));
        e.perm = archive_entry_perm(entry);
        std::string content(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
        if (!content.empty()) {
            archive_read_data(a, content.data(), content.size());
        }
        e.content = content;
        out.push_back(e);
    }
    archive_read_free(a);
    return out;
}

void make_tar(const fs::path& file, const std::vector<TarEntry>& entries, bool gzip = false) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip) {
        archive_write_add_filter_gzip(a);
    }
    ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
    for (const TarEntry& e : entries) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, e.name.c_str());
        archive_entry_set_filetype(entry, e.type);
        archive_entry_set_perm(entry, 0644);
        if (e.type == AE_IFLNK) {
            archive_entry_set_symlink(entry, e.link.c_str());
        }
        if (e.hardlink) {
            archive_entry_set_hardlink(entry, e.link.c_str());
        }
        if (e.type == AE_IFCHR) {
            archive_entry_set_rdev(entry, makedev(1, 3));
        }
        archive_entry_set_size(entry, e.type == AE_IFREG && !e.hardlink
                                          ? static_cast<la_int64_t>(e.content.size())
                                          : 0);
        ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << archive_error_string(a);
        if (e.type == AE_IFREG && !e.hardlink && !e.content.empty()) {
            archive_write_data(a, e.content.data(), e.content.size());
        }
        archive_entry_free(entry);
    }
    archive_write_close(a);
    archive_write_free(a);
}

// A layout with two images named in index.json.
struct Fixture {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "layout");
    Descriptor amd64 = xarch::test::store_image(layout, "amd64", 2, 1);
    Descriptor arm64 = xarch::test::store_image(layout, "arm64", 3, 2);
    Fixture() {
        layout.add_manifest(amd64, "amd64");
        layout.add_manifest(arm64, "arm64");
    }
};

std::vector<std::string> blob_names(const fs::path& layout_dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(layout_dir / "blobs")) {
        if (entry.is_regular_file()) {
            out.push_back(entry.path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// ---- writing ----

TEST(OciArchiveTest, RoundTrip) {
    Fixture f;
    const fs::path tar = f.tmp / "image.tar";
    write_oci_archive(f.layout, tar);
    OciLayout copy = OciLayout::create(f.tmp / "copy");
    const ImageIndex read = read_oci_archive(tar, copy);
    EXPECT_EQ(read, f.layout.index());
    EXPECT_EQ(copy.index(), f.layout.index());
    EXPECT_EQ(blob_names(f.tmp / "copy"), blob_names(f.tmp / "layout"));
    EXPECT_EQ(copy.read_blob(f.arm64.digest), f.layout.read_blob(f.arm64.digest));
    // Reading it again into the same layout changes nothing.
    read_oci_archive(tar, copy);
    EXPECT_EQ(copy.index(), f.layout.index());
}

TEST(OciArchiveTest, ReproducibleSortedEntries) {
    Fixture f;
    write_oci_archive(f.layout, f.tmp / "a.tar");
    write_oci_archive(f.layout, f.tmp / "b.tar");
    EXPECT_EQ(slurp(f.tmp / "a.tar"), slurp(f.tmp / "b.tar"));

    const std::vector<TarEntry> entries = list_tar(f.tmp / "a.tar");
    std::vector<std::string> names;
    for (const TarEntry& e : entries) {
        names.push_back(e.name);
        EXPECT_EQ(e.mtime, 0) << e.name;
        EXPECT_EQ(e.uid, 0) << e.name;
        EXPECT_EQ(e.perm, e.type == AE_IFDIR ? 0755u : 0644u) << e.name;
    }
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_EQ(names.front(), "blobs/");
    EXPECT_EQ(names[1], "blobs/sha256/");
    EXPECT_EQ(names[names.size() - 2], "index.json");
    EXPECT_EQ(names.back(), "oci-layout");
    EXPECT_EQ(entries[entries.size() - 2].content, slurp(f.tmp / "layout/index.json"));
    EXPECT_EQ(entries.back().content, R"({"imageLayoutVersion":"1.0.0"})");
    // amd64: manifest, config, 2 layers; arm64: manifest, config, 3 layers.
    EXPECT_EQ(names.size(), 2u + 4u + 5u + 2u);

    OciArchiveOptions options;
    options.mtime = 1700000000;
    write_oci_archive(f.layout, f.tmp / "c.tar", options);
    for (const TarEntry& e : list_tar(f.tmp / "c.tar")) {
        EXPECT_EQ(e.mtime, 1700000000) << e.name;
    }
}

TEST(OciArchiveTest, Subset) {
    Fixture f;
    OciArchiveOptions options;
    options.manifests = {f.arm64};
    write_oci_archive(f.layout, f.tmp / "arm64.tar", options);
    OciLayout copy = OciLayout::create(f.tmp / "copy");
    const ImageIndex read = read_oci_archive(f.tmp / "arm64.tar", copy);
    ASSERT_EQ(read.manifests.size(), 1u);
    EXPECT_EQ(read.manifests[0], f.arm64);
    EXPECT_EQ(blob_names(f.tmp / "copy").size(), 5u);
    EXPECT_FALSE(copy.has_blob(f.amd64.digest));
}

TEST(OciArchiveTest, MissingBlobIsAnErrorUnlessNondistributable) {
    Fixture f;
    const xarch::Manifest manifest = xarch::parse_manifest(f.layout.read_blob(f.amd64.digest));
    fs::remove(f.layout.blob_path(manifest.layers[0].digest));
    auto e = error_of([&] { write_oci_archive(f.layout, f.tmp / "x.tar"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    EXPECT_THAT(e->what(), HasSubstr(manifest.layers[0].digest.to_string()));
    EXPECT_FALSE(fs::exists(f.tmp / "x.tar"));
    for (const auto& entry : fs::directory_iterator(f.tmp.path())) {
        EXPECT_THAT(entry.path().filename().string(), testing::Not(HasSubstr("xarch-tmp")));
    }

    // A foreign layer may be absent: it is fetched from its URLs, never archived.
    xarch::Manifest foreign;
    foreign.config = manifest.config;
    Descriptor layer = Descriptor::of(std::string(media_type::kDockerForeignLayer), "windows base");
    layer.urls = {"https://example.com/layer"};
    foreign.layers = {layer};
    const xarch::RawContent raw = foreign.to_raw();
    OciArchiveOptions options;
    options.manifests = {f.layout.store_blob(raw.media_type, raw.bytes)};
    write_oci_archive(f.layout, f.tmp / "foreign.tar", options);
    EXPECT_EQ(list_tar(f.tmp / "foreign.tar").size(), 2u + 2u + 2u);
}

TEST(OciArchiveTest, ReplacesAnExistingFileAtomically) {
    Fixture f;
    const fs::path tar = f.tmp / "image.tar";
    { std::ofstream(tar) << "old content"; }
    write_oci_archive(f.layout, tar);
    EXPECT_NE(slurp(tar), "old content");
    EXPECT_EQ(list_tar(tar).back().name, "oci-layout");
}

TEST(OciArchiveTest, ReadsGzipAndSkipsDockerExtras) {
    Fixture f;
    write_oci_archive(f.layout, f.tmp / "plain.tar");
    std::vector<TarEntry> entries = list_tar(f.tmp / "plain.tar");
    entries.push_back(TarEntry{"manifest.json", "[]"});
    entries.push_back(TarEntry{"./repositories", "{}"});
    make_tar(f.tmp / "image.tar.gz", entries, true);
    OciLayout copy = OciLayout::create(f.tmp / "copy");
    EXPECT_EQ(read_oci_archive(f.tmp / "image.tar.gz", copy), f.layout.index());
    EXPECT_FALSE(fs::exists(f.tmp / "copy/manifest.json"));
}

// ---- hostile archives ----

struct Hostile {
    const char* name;
    std::vector<TarEntry> entries;
    ErrorCode code;
    const char* why;
};

const std::string kBlob = "blob content";
const std::string kBlobName = "blobs/sha256/" + std::string(Digest::of(kBlob).hex());

std::vector<TarEntry> base_entries() {
    return {TarEntry{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
            TarEntry{"index.json", ImageIndex{}.serialize()}};
}

std::vector<TarEntry> plus(std::vector<TarEntry> entries, const TarEntry& more) {
    entries.push_back(more);
    return entries;
}

void PrintTo(const Hostile& input, std::ostream* out) {
    *out << input.name;
}

class HostileArchive : public testing::TestWithParam<Hostile> {};

TEST_P(HostileArchive, IsRefusedAndWritesNothingOutside) {
    TempDir tmp;
    fs::create_directories(tmp / "work");
    const fs::path tar = tmp / "hostile.tar";
    make_tar(tar, GetParam().entries);
    OciLayout layout = OciLayout::create(tmp / "work/layout");
    const ImageIndex before = layout.index();
    const auto e = error_of([&] { read_oci_archive(tar, layout); });
    ASSERT_TRUE(e) << GetParam().name;
    EXPECT_EQ(e->code(), GetParam().code) << e->what();
    EXPECT_THAT(e->what(), HasSubstr(GetParam().why));
    EXPECT_EQ(layout.index(), before);
    for (const char* path : {"evil", "work/evil", "work/layout/evil", "etc"}) {
        EXPECT_FALSE(fs::exists(tmp / path)) << path;
    }
    EXPECT_FALSE(fs::exists(fs::path("/tmp/xarch-evil")));
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    HostileArchive,
    testing::Values(
        Hostile{"DotDot", plus(base_entries(), TarEntry{"../evil", "x"}),
                ErrorCode::kInvalidArgument, "\"..\""},
        Hostile{"DotDotInside", plus(base_entries(), TarEntry{"blobs/sha256/../../../evil", "x"}),
                ErrorCode::kInvalidArgument, "\"..\""},
        Hostile{"DotSlashDotDot", plus(base_entries(), TarEntry{"./../evil", "x"}),
                ErrorCode::kInvalidArgument, "\"..\""},
        Hostile{"Absolute", plus(base_entries(), TarEntry{"/tmp/xarch-evil", "x"}),
                ErrorCode::kInvalidArgument, "absolute path"},
        Hostile{"Symlink", plus(base_entries(), TarEntry{kBlobName, "", AE_IFLNK, "/etc/passwd"}),
                ErrorCode::kInvalidArgument, "is a link"},
        Hostile{"SymlinkDir", plus(base_entries(), TarEntry{"blobs", "", AE_IFLNK, "/etc"}),
                ErrorCode::kInvalidArgument, "is a link"},
        Hostile{"Hardlink",
                plus(plus(base_entries(), TarEntry{"oci-layout2", "x"}),
                     TarEntry{kBlobName, "", AE_IFREG, "oci-layout2", true}),
                ErrorCode::kInvalidArgument, "is a link"},
        Hostile{"Device", plus(base_entries(), TarEntry{"blobs/sha256/dev", "", AE_IFCHR}),
                ErrorCode::kInvalidArgument, "device"},
        Hostile{"WrongBlob", plus(base_entries(), TarEntry{kBlobName, "other content"}),
                ErrorCode::kDigestMismatch, "does not match"},
        Hostile{"NotADigest", plus(base_entries(), TarEntry{"blobs/sha256/evil", "x"}),
                ErrorCode::kInvalidArgument, "not named by a digest"},
        Hostile{"UppercaseDigest",
                plus(base_entries(), TarEntry{"blobs/sha256/" + std::string(64, 'A'), "x"}),
                ErrorCode::kInvalidArgument, "not named by a digest"},
        Hostile{"TooDeep", plus(base_entries(), TarEntry{kBlobName + "/x", "x"}),
                ErrorCode::kInvalidArgument, "blobs/<algorithm>/<digest>"},
        Hostile{"NoLayoutFile",
                {TarEntry{"index.json", ImageIndex{}.serialize()}},
                ErrorCode::kInvalidArgument,
                "no oci-layout"},
        Hostile{"BadLayoutVersion",
                {TarEntry{"oci-layout", R"({"imageLayoutVersion":"9"})"},
                 TarEntry{"index.json", ImageIndex{}.serialize()}},
                ErrorCode::kInvalidArgument,
                "imageLayoutVersion"},
        Hostile{"NoIndex",
                {TarEntry{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"}},
                ErrorCode::kInvalidArgument,
                "no index.json"},
        Hostile{"BadIndex",
                {TarEntry{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                 TarEntry{"index.json", "{\"schemaVersion\":2"}},
                ErrorCode::kInvalidArgument,
                "bad index.json"},
        Hostile{
            "IndexListsAbsentManifest",
            {TarEntry{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
             TarEntry{
                 "index.json",
                 R"({"schemaVersion":2,"manifests":[)" +
                     Descriptor::of(std::string(media_type::kOciManifest), "absent").serialize() +
                     "]}"}},
            ErrorCode::kInvalidArgument,
            "does not hold it"}),
    [](const testing::TestParamInfo<Hostile>& p) { return p.param.name; });

TEST(OciArchiveTest, NotATar) {
    TempDir tmp;
    { std::ofstream(tmp / "junk.tar") << std::string(10000, 'x'); }
    OciLayout layout = OciLayout::create(tmp / "l");
    EXPECT_TRUE(error_of([&] { read_oci_archive(tmp / "junk.tar", layout); }));
    const auto missing = error_of([&] { read_oci_archive(tmp / "missing.tar", layout); });
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->code(), ErrorCode::kNotFound);
}

TEST(OciArchiveTest, TruncatedArchiveIsAnError) {
    Fixture f;
    write_oci_archive(f.layout, f.tmp / "full.tar");
    const std::string bytes = slurp(f.tmp / "full.tar");
    for (std::size_t cut : {std::size_t{100}, bytes.size() / 3, bytes.size() / 2}) {
        { std::ofstream(f.tmp / "cut.tar", std::ios::binary) << bytes.substr(0, cut); }
        OciLayout copy = OciLayout::create(f.tmp / ("copy" + std::to_string(cut)));
        EXPECT_TRUE(error_of([&] { read_oci_archive(f.tmp / "cut.tar", copy); })) << cut;
        EXPECT_TRUE(copy.index().manifests.empty());
    }
}

}  // namespace
