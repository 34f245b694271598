// SPDX-License-Identifier: Apache-2.0
// OciLayout: creating and opening, blobs (whole, streamed, verified, never half-written or wrong),
// index.json updates from concurrent threads and processes, and garbage collection.
#include "oci/fs.hpp"
#include "oci_test_util.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using xarch::BlobWriter;
using xarch::Descriptor;
using xarch::Digest;
using xarch::ErrorCode;
using xarch::ImageIndex;
using xarch::Manifest;
using xarch::OciLayout;
using xarch::Platform;
using xarch::test::error_of;
using xarch::test::random_bytes;
using xarch::test::TempDir;
namespace media_type = xarch::media_type;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void spew(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

// Files in `dir` whose names start with the temporary prefix.
std::vector<std::string> temp_files(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with(xarch::oci::fs::kTempPrefix)) {
            out.push_back(name);
        }
    }
    return out;
}

void backdate(const fs::path& path) {
    fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::hours(2));
}

// ---- create and open ----

TEST(OciLayoutTest, CreateWritesTheSkeleton) {
    TempDir tmp;
    const OciLayout layout = OciLayout::create(tmp / "a/b/layout");
    EXPECT_EQ(layout.path(), tmp / "a/b/layout");
    EXPECT_EQ(slurp(tmp / "a/b/layout/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
    EXPECT_EQ(slurp(tmp / "a/b/layout/index.json"),
              R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
              R"("manifests":[]})");
    EXPECT_TRUE(fs::is_directory(tmp / "a/b/layout/blobs"));
    EXPECT_TRUE(layout.index().manifests.empty());
    EXPECT_EQ(layout.raw_index().digest, Digest::of(slurp(tmp / "a/b/layout/index.json")));
    EXPECT_TRUE(temp_files(layout.path()).empty());
}

TEST(OciLayoutTest, CreateKeepsAnExistingLayout) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const Descriptor blob = layout.store_blob("a/b", "x");
    layout.add_manifest(Descriptor::of(std::string(media_type::kOciManifest), "m"), "v1");
    OciLayout again = OciLayout::create(tmp / "l");
    EXPECT_EQ(again.index().manifests.size(), 1u);
    EXPECT_TRUE(again.has_blob(blob.digest));
}

TEST(OciLayoutTest, OpenChecksTheLayout) {
    TempDir tmp;
    auto e = error_of([&] { OciLayout::open(tmp / "missing"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    fs::create_directory(tmp / "plain");
    e = error_of([&] { OciLayout::open(tmp / "plain"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    EXPECT_THAT(e->what(), HasSubstr("no oci-layout file"));
    spew(tmp / "plain/oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
    e = error_of([&] { OciLayout::open(tmp / "plain"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("must be \"1.0.0\""));
    OciLayout::create(tmp / "good");
    EXPECT_NO_THROW(OciLayout::open(tmp / "good"));
    fs::remove(tmp / "good/index.json");
    e = error_of([&] { OciLayout::open(tmp / "good").index(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
}

// ---- blobs ----

TEST(OciLayoutTest, StoresAndReadsBlobs) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const std::string content = random_bytes(3 * 1024 * 1024 + 17, 5);
    const Descriptor d = layout.store_blob(std::string(media_type::kOciLayerGzip), content);
    EXPECT_EQ(d.digest, Digest::of(content));
    EXPECT_EQ(d.size, static_cast<std::int64_t>(content.size()));
    EXPECT_EQ(d.media_type, media_type::kOciLayerGzip);
    EXPECT_EQ(layout.blob_path(d.digest), tmp / "l/blobs/sha256" / std::string(d.digest.hex()));
    EXPECT_TRUE(layout.has_blob(d.digest));
    EXPECT_EQ(layout.blob_size(d.digest), d.size);
    EXPECT_EQ(layout.read_blob(d.digest), content);
    std::string streamed;
    int pieces = 0;
    layout.read_blob(d.digest, [&](std::span<const std::byte> bytes) {
        streamed.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        ++pieces;
    });
    EXPECT_EQ(streamed, content);
    EXPECT_GT(pieces, 1);
    EXPECT_TRUE(temp_files(tmp / "l/blobs/sha256").empty());
}

TEST(OciLayoutTest, MissingBlob) {
    TempDir tmp;
    const OciLayout layout = OciLayout::create(tmp / "l");
    const Digest d = Digest::of("nothing");
    EXPECT_FALSE(layout.has_blob(d));
    EXPECT_FALSE(layout.blob_size(d));
    const auto e = error_of([&] { layout.read_blob(d); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    EXPECT_EQ(error_of([&] { layout.has_blob(Digest{}); })->code(), ErrorCode::kInvalidArgument);
}

TEST(OciLayoutTest, StreamingWrites) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const std::string content = random_bytes(2500000, 9);
    std::size_t at = 0;
    const auto reader = [&](std::span<std::byte> buffer) {
        const std::size_t n = std::min<std::size_t>({buffer.size(), content.size() - at, 70000});
        std::memcpy(buffer.data(), content.data() + at, n);
        at += n;
        return n;
    };
    const Descriptor d = layout.store_blob("application/octet-stream", reader);
    EXPECT_EQ(d.digest, Digest::of(content));
    EXPECT_EQ(layout.read_blob(d.digest), content);

    // With an expected descriptor, and a second time when the blob is present: not read at all.
    at = 0;
    TempDir other;
    OciLayout second = OciLayout::create(other / "l");
    second.write_blob(d, reader);
    EXPECT_EQ(second.read_blob(d.digest), content);
    second.write_blob(d, [](std::span<std::byte>) -> std::size_t {
        ADD_FAILURE() << "a present blob was read again";
        return 0;
    });
}

TEST(OciLayoutTest, BlobWriterForCallbacks) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    BlobWriter writer = layout.blob_writer(std::string(media_type::kOciConfig));
    writer.write("{\"a\":");
    writer.write(std::string_view("1}"));
    EXPECT_EQ(writer.size(), 7);
    const Descriptor d = writer.commit();
    EXPECT_EQ(d.digest, Digest::of("{\"a\":1}"));
    EXPECT_EQ(d.media_type, media_type::kOciConfig);
    EXPECT_EQ(error_of([&] { writer.commit(); })->code(), ErrorCode::kInternal);
}

TEST(OciLayoutTest, WrongContentNeverAppears) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const Descriptor expected = Descriptor::of("application/octet-stream", "the right bytes");

    auto e = error_of([&] { layout.write_blob(expected, "the wrong bytes"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_THAT(e->what(), HasSubstr("expected " + expected.digest.to_string()));
    EXPECT_FALSE(layout.has_blob(expected.digest));

    e = error_of([&] { layout.write_blob(expected, "the right bytes, and more"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_FALSE(layout.has_blob(expected.digest));

    Descriptor wrong_size = expected;
    wrong_size.size += 1;
    e = error_of([&] { layout.write_blob(wrong_size, "the right bytes"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_FALSE(layout.has_blob(expected.digest));
    EXPECT_TRUE(temp_files(tmp / "l/blobs/sha256").empty());

    Descriptor foreign = expected;
    foreign.digest = Digest::parse_any_algorithm("sha256+b64u:abc");
    EXPECT_EQ(error_of([&] { layout.write_blob(foreign, "x"); })->code(), ErrorCode::kUnsupported);

    layout.write_blob(expected, "the right bytes");
    EXPECT_EQ(layout.read_blob(expected.digest), "the right bytes");
}

TEST(OciLayoutTest, AbandonedWriterLeavesNothing) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    {
        BlobWriter writer = layout.blob_writer(std::string("a/b"));
        writer.write("partial");
        EXPECT_EQ(temp_files(tmp / "l/blobs/sha256").size(), 1u);
    }
    EXPECT_TRUE(temp_files(tmp / "l/blobs/sha256").empty());
    EXPECT_FALSE(layout.has_blob(Digest::of("partial")));
}

TEST(OciLayoutTest, CorruptedBlobIsDetectedOnRead) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const Descriptor d = layout.store_blob("a/b", "original");
    spew(layout.blob_path(d.digest), "tampered");
    const auto e = error_of([&] { layout.read_blob(d.digest); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_THAT(e->what(), HasSubstr("is corrupted"));
    // Writing the right content again repairs it: the size differs, so it is not taken as present.
    spew(layout.blob_path(d.digest), "tampered!");
    layout.write_blob(d, "original");
    EXPECT_EQ(layout.read_blob(d.digest), "original");
}

// A writer killed mid-blob (the crash case) leaves a temporary file and no blob; gc() clears it.
TEST(OciLayoutTest, CrashedWriterLeavesNoBlob) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const std::string content = random_bytes(100000, 11);
    const Descriptor expected = Descriptor::of("a/b", content);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        BlobWriter writer = layout.blob_writer(expected);
        writer.write(std::string_view(content).substr(0, 50000));
        ::_exit(0);  // no commit, no destructor: as if killed
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_FALSE(layout.has_blob(expected.digest));
    const std::vector<std::string> leftovers = temp_files(tmp / "l/blobs/sha256");
    ASSERT_EQ(leftovers.size(), 1u);

    // Too fresh to be taken for a leftover: a live writer might just be starting.
    EXPECT_EQ(layout.gc().removed_temp_files, 0u);
    backdate(tmp / "l/blobs/sha256" / leftovers[0]);
    const xarch::GcResult result = layout.gc();
    EXPECT_EQ(result.removed_temp_files, 1u);
    EXPECT_EQ(result.freed_bytes, 50000);
    EXPECT_TRUE(temp_files(tmp / "l/blobs/sha256").empty());
}

TEST(OciLayoutTest, GcLeavesALiveWritersFileAlone) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    BlobWriter writer = layout.blob_writer(std::string("a/b"));
    writer.write("in progress");
    const std::vector<std::string> files = temp_files(tmp / "l/blobs/sha256");
    ASSERT_EQ(files.size(), 1u);
    backdate(tmp / "l/blobs/sha256" / files[0]);
    EXPECT_EQ(layout.gc().removed_temp_files, 0u);
    EXPECT_EQ(writer.commit().digest, Digest::of("in progress"));
}

// ---- index.json ----

TEST(OciLayoutTest, AddResolveRemove) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const Descriptor amd64 = xarch::test::store_image(layout, "amd64", 1, 1);
    const Descriptor arm64 = xarch::test::store_image(layout, "arm64", 1, 2);
    layout.add_manifest(amd64, "latest");
    layout.add_manifest(amd64);
    layout.add_manifest(amd64);  // equal entry: not added twice
    EXPECT_EQ(layout.index().manifests.size(), 2u);
    layout.add_manifest(arm64, "latest");  // the tag moves
    const ImageIndex index = layout.index();
    ASSERT_EQ(index.manifests.size(), 2u);
    EXPECT_EQ(index.manifests[0], amd64);
    EXPECT_EQ(index.manifests[1].annotations.at(std::string(xarch::annotation::kRefName)),
              "latest");
    EXPECT_EQ(layout.resolve("latest")->digest, arm64.digest);
    EXPECT_FALSE(layout.resolve("v2"));
    EXPECT_EQ(layout.remove("latest"), 1u);
    EXPECT_EQ(layout.remove("latest"), 0u);
    EXPECT_EQ(layout.remove(amd64.digest), 1u);
    EXPECT_TRUE(layout.index().manifests.empty());
    EXPECT_EQ(error_of([&] { layout.add_manifest(Descriptor{}); })->code(),
              ErrorCode::kInvalidArgument);
    EXPECT_TRUE(temp_files(layout.path()).empty());
}

TEST(OciLayoutTest, SetIndexReplacesIt) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    ImageIndex index;
    index.manifests.push_back(xarch::test::store_image(layout, "amd64"));
    index.annotations["org.example"] = "x";
    layout.set_index(index);
    EXPECT_EQ(layout.index(), index);
    EXPECT_EQ(slurp(tmp / "l/index.json"), index.serialize());
}

TEST(OciLayoutTest, ConcurrentThreadsLoseNoManifest) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    constexpr int kThreads = 4;
    constexpr int kEach = 20;
    std::atomic<bool> stop{false};
    std::atomic<int> reads{0};
    // A reader that keeps parsing index.json while it is being replaced: it must never see a
    // partial file.
    std::thread reader([&] {
        while (!stop) {
            EXPECT_NO_THROW(layout.index());
            ++reads;
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            OciLayout mine = OciLayout::open(tmp / "l");
            for (int i = 0; i < kEach; ++i) {
                const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
                const Descriptor d = mine.store_blob(std::string(media_type::kOciManifest), name);
                mine.add_manifest(d, name);
            }
        });
    }
    for (std::thread& w : writers) {
        w.join();
    }
    stop = true;
    reader.join();
    const ImageIndex index = layout.index();
    EXPECT_EQ(index.manifests.size(), static_cast<std::size_t>(kThreads * kEach));
    std::set<std::string> names;
    for (const Descriptor& d : index.manifests) {
        names.insert(d.annotations.at(std::string(xarch::annotation::kRefName)));
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(kThreads * kEach));
    EXPECT_GT(reads.load(), 0);
    EXPECT_TRUE(temp_files(layout.path()).empty());
}

TEST(OciLayoutTest, ConcurrentProcessesLoseNoManifest) {
    TempDir tmp;
    OciLayout::create(tmp / "l");
    constexpr int kProcesses = 3;
    constexpr int kEach = 15;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            int code = 0;
            try {
                OciLayout mine = OciLayout::open(tmp / "l");
                for (int i = 0; i < kEach; ++i) {
                    const std::string name = "p" + std::to_string(p) + "-" + std::to_string(i);
                    mine.add_manifest(mine.store_blob(std::string(media_type::kOciManifest), name),
                                      name);
                }
            } catch (...) {
                code = 1;
            }
            ::_exit(code);
        }
        children.push_back(child);
    }
    for (pid_t child : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    EXPECT_EQ(OciLayout::open(tmp / "l").index().manifests.size(),
              static_cast<std::size_t>(kProcesses * kEach));
}

// ---- gc ----

TEST(OciLayoutTest, GcRemovesWhatIndexJsonDoesNotReach) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    // An image index (a blob) over two images, named in index.json; a referrer whose subject is
    // one of them; a blob nobody references; a temporary file beside index.json.
    const Descriptor amd64 = xarch::test::store_image(layout, "amd64", 2, 1);
    const Descriptor arm64 = xarch::test::store_image(layout, "arm64", 2, 2);
    ImageIndex nested;
    nested.manifests = {amd64, arm64};
    const xarch::RawContent nested_raw = nested.to_raw();
    const Descriptor top = layout.store_blob(nested_raw.media_type, nested_raw.bytes);
    layout.add_manifest(top, "latest");

    Manifest referrer;
    referrer.config = layout.store_blob(std::string(media_type::kOciEmpty), "{}");
    referrer.layers = {layout.store_blob("application/spdx+json", "sbom")};
    referrer.subject = amd64;
    const Descriptor referrer_d =
        layout.store_blob(std::string(media_type::kOciManifest), referrer.serialize());
    layout.add_manifest(referrer_d);

    const std::string orphan_bytes = random_bytes(5000, 77);
    const Descriptor orphan = layout.store_blob("a/b", orphan_bytes);
    backdate(layout.blob_path(orphan.digest));
    spew(tmp / "l" / (std::string(xarch::oci::fs::kTempPrefix) + "dead"), "xyz");
    spew(tmp / "l/blobs/sha256/README", "not a blob");

    std::set<Digest> before;
    for (const auto& entry : fs::directory_iterator(tmp / "l/blobs/sha256")) {
        if (entry.path().filename() != "README") {
            before.insert(Digest::parse("sha256:" + entry.path().filename().string()));
        }
    }

    const xarch::GcResult result = layout.gc();
    EXPECT_EQ(result.removed_blobs, std::vector<Digest>{orphan.digest});
    EXPECT_EQ(result.removed_temp_files, 1u);
    EXPECT_EQ(result.freed_bytes, 5000 + 3);
    before.erase(orphan.digest);
    for (const Digest& d : before) {
        EXPECT_TRUE(layout.has_blob(d)) << d;
    }
    EXPECT_TRUE(fs::exists(tmp / "l/blobs/sha256/README"));

    // Dropping the tag makes the whole image index garbage, but not the referrer's subject.
    layout.remove("latest");
    const xarch::GcResult second = layout.gc();
    EXPECT_FALSE(layout.has_blob(top.digest));
    EXPECT_FALSE(layout.has_blob(arm64.digest));
    EXPECT_TRUE(layout.has_blob(amd64.digest));
    EXPECT_TRUE(layout.has_blob(referrer_d.digest));
    EXPECT_GT(second.removed_blobs.size(), 3u);
}

TEST(OciLayoutTest, GcKeepsRecentBlobs) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const Descriptor fresh = layout.store_blob("a/b", "fresh");
    EXPECT_TRUE(layout.gc(std::chrono::seconds(600)).removed_blobs.empty());
    EXPECT_TRUE(layout.has_blob(fresh.digest));
    backdate(layout.blob_path(fresh.digest));
    // Writing a present blob refreshes it: a writer that is about to reference it is protected.
    layout.write_blob(fresh, "fresh");
    EXPECT_TRUE(layout.gc(std::chrono::seconds(600)).removed_blobs.empty());
    EXPECT_EQ(layout.gc().removed_blobs, std::vector<Digest>{fresh.digest});
}

TEST(OciLayoutTest, GcRefusesToGuess) {
    TempDir tmp;
    OciLayout layout = OciLayout::create(tmp / "l");
    const Descriptor keep = layout.store_blob("a/b", "keep?");
    backdate(layout.blob_path(keep.digest));
    // index.json names a "manifest" whose blob is not a manifest: what it references is unknown.
    const Descriptor broken = layout.store_blob(std::string(media_type::kOciManifest), "not json");
    layout.add_manifest(broken, "broken");
    const auto e = error_of([&] { layout.gc(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("cannot follow " + broken.digest.to_string()));
    EXPECT_TRUE(layout.has_blob(keep.digest));
    // A manifest that index.json names but that is absent is simply not followed.
    layout.remove("broken");
    layout.add_manifest(Descriptor::of(std::string(media_type::kOciManifest), "absent"), "gone");
    EXPECT_EQ(layout.gc().removed_blobs.size(), 2u);
}

}  // namespace
