// SPDX-License-Identifier: Apache-2.0
// Manifest and ImageIndex: parsing the spec's examples and Docker's forms, deterministic golden
// serialization, raw bytes kept apart from the model, media types that contradict the body,
// malformed and mutated input, and picking a platform from an index.
#include "oci_test_util.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

namespace {

using testing::HasSubstr;
using xarch::Descriptor;
using xarch::Digest;
using xarch::Error;
using xarch::ErrorCode;
using xarch::ImageIndex;
using xarch::Manifest;
using xarch::parse_index;
using xarch::parse_manifest;
using xarch::Platform;
using xarch::PlatformMatcher;
using xarch::RawContent;
using xarch::Validation;
using xarch::test::error_of;
namespace media_type = xarch::media_type;

// manifest.md's example, as the spec prints it (indented).
const std::string kSpecManifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      "size": 32654
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
      "size": 16724
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    "size": 7682
  },
  "annotations": {
    "com.example.key2": "value2",
    "com.example.key1": "value1"
  }
})";

// The same document as BuildKit (specs-go + encoding/json) writes it.
const std::string kSpecManifestCompact =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
    R"("digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",)"
    R"("size":7023},)"
    R"("layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",)"
    R"("digest":"sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",)"
    R"("size":32654},)"
    R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",)"
    R"("digest":"sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",)"
    R"("size":16724}],)"
    R"("subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("digest":"sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",)"
    R"("size":7682},)"
    R"("annotations":{"com.example.key1":"value1","com.example.key2":"value2"}})";

const std::string kDockerManifest = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1469,
      "digest": "sha256:5359a4f250650c20227055957e353e8f8a74152f35fe36f00b6b1f9fc19c8861"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2310272,
         "digest": "sha256:fae91920dcd4542f97c9350b3157139a5d901362c2abec284de5ebd1b45b4957"
      }
   ]
})";

std::string index_json(const std::string& manifests, const std::string& extra = "") {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
           R"("manifests":[)" +
           manifests + "]" + extra + "}";
}

std::string entry(const std::string& platform, char fill = 'a') {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
           std::string(64, fill) + R"(","size":100)" +
           (platform.empty() ? "" : R"(,"platform":)" + platform) + "}";
}

std::string error_text(const std::function<void()>& run,
                       ErrorCode code = ErrorCode::kInvalidArgument) {
    const auto e = error_of(run);
    if (!e) {
        return "";
    }
    EXPECT_EQ(e->code(), code) << e->what();
    return e->what();
}

// ---- Manifest ----

TEST(ManifestTest, ParsesSpecExample) {
    const Manifest m = parse_manifest(kSpecManifest);
    EXPECT_EQ(m.media_type, media_type::kOciManifest);
    EXPECT_EQ(m.config.media_type, media_type::kOciConfig);
    EXPECT_EQ(m.config.size, 7023);
    ASSERT_EQ(m.layers.size(), 2u);
    EXPECT_EQ(m.layers[1].digest.to_string(),
              "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b");
    ASSERT_TRUE(m.subject);
    EXPECT_EQ(m.subject->size, 7682);
    EXPECT_EQ(m.annotations.size(), 2u);
}

TEST(ManifestTest, SerializesDeterministicallyAsBuildKitDoes) {
    const Manifest m = parse_manifest(kSpecManifest);
    EXPECT_EQ(m.serialize(), kSpecManifestCompact);
    EXPECT_EQ(m.serialize(), m.serialize());
    EXPECT_EQ(parse_manifest(m.serialize()), m);
    const RawContent raw = m.to_raw();
    EXPECT_EQ(raw.bytes, kSpecManifestCompact);
    EXPECT_EQ(raw.media_type, media_type::kOciManifest);
    EXPECT_EQ(raw.digest, Digest::of(kSpecManifestCompact));
    EXPECT_EQ(raw.descriptor().size, static_cast<std::int64_t>(kSpecManifestCompact.size()));
}

TEST(ManifestTest, RawBytesKeepTheirOwnDigest) {
    // A fetched manifest's digest is over the bytes the registry sent; re-serializing the model
    // gives other bytes, and RawContent is what keeps the original.
    const RawContent fetched = RawContent::of(kSpecManifest, std::string(media_type::kOciManifest));
    EXPECT_EQ(fetched.digest, Digest::of(kSpecManifest));
    EXPECT_EQ(fetched.bytes, kSpecManifest);
    EXPECT_NO_THROW(fetched.verify());
    const Manifest model = parse_manifest(fetched.bytes, fetched.media_type);
    EXPECT_NE(model.to_raw().digest, fetched.digest);
    RawContent tampered = fetched;
    tampered.bytes += " ";
    EXPECT_EQ(error_of([&] { tampered.verify(); })->code(), ErrorCode::kDigestMismatch);
}

TEST(ManifestTest, DefaultModelSerializes) {
    Manifest m;
    m.config = Descriptor::of(std::string(media_type::kOciEmpty), "{}");
    m.artifact_type = "application/vnd.example+type";
    EXPECT_EQ(
        m.serialize(),
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("artifactType":"application/vnd.example+type",)"
        R"("config":{"mediaType":"application/vnd.oci.empty.v1+json",)"
        R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
        R"("size":2},"layers":[]})");
    m.media_type.clear();
    EXPECT_THAT(m.serialize(), testing::StartsWith(R"({"schemaVersion":2,"artifactType")"));
    EXPECT_EQ(m.to_raw().media_type, media_type::kOciManifest);
}

TEST(ManifestTest, ParsesDockerSchema2) {
    const Manifest m = parse_manifest(kDockerManifest, media_type::kDockerManifest);
    EXPECT_EQ(m.media_type, media_type::kDockerManifest);
    EXPECT_EQ(m.config.media_type, media_type::kDockerConfig);
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.to_raw().media_type, media_type::kDockerManifest);
}

TEST(ManifestTest, MediaTypeComesFromTheServerWhenTheBodyHasNone) {
    std::string body = kSpecManifest;
    body.replace(
        body.find(R"("mediaType": "application/vnd.oci.image.manifest.v1+json",)"),
        std::string(R"("mediaType": "application/vnd.oci.image.manifest.v1+json",)").size(), "");
    EXPECT_EQ(parse_manifest(body).media_type, "");
    EXPECT_EQ(parse_manifest(body, media_type::kOciManifest).media_type, media_type::kOciManifest);
}

TEST(ManifestTest, MediaTypeContradictingTheBodyIsRefused) {
    EXPECT_THAT(error_text([] { parse_manifest(kSpecManifest, media_type::kOciIndex); }),
                HasSubstr("served as \"application/vnd.oci.image.index.v1+json\""));
    EXPECT_THAT(error_text([] { parse_manifest(kSpecManifest, media_type::kDockerManifest); }),
                HasSubstr("but the document was served as"));
    EXPECT_THAT(
        error_text([] {
            parse_manifest(
                R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
                R"("manifests":[]})");
        }),
        HasSubstr("the document is an index"));
    EXPECT_THAT(
        error_text([] {
            parse_manifest(R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:)" +
                           std::string(64, 'a') + R"(","size":1},"layers":[],"manifests":[]})");
        }),
        HasSubstr("\"manifests\" is a field of an index"));
    EXPECT_THAT(error_text([] { parse_index(kSpecManifest); }),
                HasSubstr("(the document is a manifest)"));
    EXPECT_THAT(
        error_text([] { parse_index(R"({"schemaVersion":2,"manifests":[],"layers":[]})"); }),
        HasSubstr("\"layers\" is a field of a manifest"));
    EXPECT_THAT(error_text([] { parse_index(index_json(""), media_type::kOciManifest); }),
                HasSubstr("not an image index type"));
}

TEST(ManifestTest, SchemaVersionMustBeTwo) {
    EXPECT_THAT(
        error_text([] { parse_manifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})"); },
                   ErrorCode::kUnsupported),
        HasSubstr("schema 1 is not supported"));
    EXPECT_THAT(
        error_text([] { parse_manifest(kSpecManifest, media_type::kDockerManifestSchema1Signed); },
                   ErrorCode::kUnsupported),
        HasSubstr("schema 1"));
    EXPECT_THAT(error_text([] { parse_index(R"({"schemaVersion":3,"manifests":[]})"); }),
                HasSubstr("\"schemaVersion\" must be 2, got 3"));
    EXPECT_THAT(error_text([] { parse_index(R"({"schemaVersion":"2","manifests":[]})"); }),
                HasSubstr("\"schemaVersion\" must be an integer, got a string"));
    EXPECT_THAT(error_text([] { parse_index(R"({"manifests":[]})"); }),
                HasSubstr("\"schemaVersion\" is required"));
}

TEST(ManifestTest, EmptyLayersAreCompatibleButNotSchemaValid) {
    const std::string json = R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:)" +
                             std::string(64, 'a') + R"(","size":1},"layers":[]})";
    EXPECT_TRUE(parse_manifest(json).layers.empty());
    EXPECT_THAT(error_text([&] { parse_manifest(json, "", Validation::kSchema); }),
                HasSubstr("\"layers\" must have at least one entry"));
    std::string null_layers = json;
    null_layers.replace(null_layers.find("[]"), 2, "null");
    EXPECT_TRUE(parse_manifest(null_layers).layers.empty());
    EXPECT_THAT(error_text([&] { parse_manifest(null_layers, "", Validation::kSchema); }),
                HasSubstr("\"layers\" must be an array, got null"));
}

TEST(ManifestTest, ErrorsNameTheField) {
    const std::string bad_layer =
        R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:)" +
        std::string(64, 'a') + R"(","size":1},"layers":[{"mediaType":"a/b","digest":"sha256:)" +
        std::string(64, 'b') + R"(","size":"9"}]})";
    EXPECT_THAT(error_text([&] { parse_manifest(bad_layer); }),
                HasSubstr("invalid manifest: \"layers[0].size\" must be an integer, got a string"));
    EXPECT_THAT(error_text([] { parse_manifest(R"({"schemaVersion":2,"layers":[]})"); }),
                HasSubstr("\"config\" is required"));
    EXPECT_THAT(error_text([] { parse_manifest("not json"); }),
                HasSubstr("invalid manifest: malformed JSON at byte"));
    EXPECT_THAT(error_text([] { parse_manifest(""); }), HasSubstr("malformed JSON"));
    EXPECT_THAT(
        error_text([] {
            parse_manifest(R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:)" +
                           std::string(64, 'a') + R"(","size":1},"layers":[],"subject":".nope"})");
        }),
        HasSubstr("\"subject\" must be an object, got a string"));
}

// Every prefix of a valid document and random corruptions of it: an Error or a model, never a
// crash or another exception type.
TEST(ManifestTest, MangledInputGivesErrorsNotCrashes) {
    for (std::size_t n = 0; n < kSpecManifestCompact.size(); ++n) {
        const std::string prefix = kSpecManifestCompact.substr(0, n);
        EXPECT_THROW(parse_manifest(prefix), Error) << prefix;
    }
    std::mt19937 random(42);
    const std::string alphabet = "{}[]\":,0123456789-.eE \\nultrfasx\x80\xff";
    int parsed = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string mutated = kSpecManifestCompact;
        const int edits = 1 + static_cast<int>(random() % 4);
        for (int i = 0; i < edits; ++i) {
            const std::size_t at = random() % mutated.size();
            switch (random() % 3) {
                case 0:
                    mutated[at] = alphabet[random() % alphabet.size()];
                    break;
                case 1:
                    mutated.erase(at, 1 + random() % 8);
                    break;
                default:
                    mutated.insert(at, 1, alphabet[random() % alphabet.size()]);
            }
        }
        try {
            const Manifest m = parse_manifest(mutated);
            // Whatever parses serializes, and that parses back to the same model.
            EXPECT_EQ(parse_manifest(m.serialize()), m);
            ++parsed;
        } catch (const Error&) {
        }
    }
    EXPECT_GT(parsed, 0);
}

// ---- ImageIndex ----

TEST(ImageIndexTest, RoundTripGolden) {
    const std::string json =
        index_json(entry(R"({"architecture":"amd64","os":"linux"})", 'a') + "," +
                       entry(R"({"architecture":"arm","os":"linux","variant":"v7"})", 'b'),
                   R"(,"annotations":{"org.opencontainers.image.ref.name":"v1"})");
    const ImageIndex index = parse_index(json);
    ASSERT_EQ(index.manifests.size(), 2u);
    EXPECT_EQ(index.manifests[1].platform, Platform("linux", "arm", "v7"));
    EXPECT_EQ(index.serialize(), json);
    EXPECT_EQ(index.to_raw().digest, Digest::of(json));
    ImageIndex empty;
    EXPECT_EQ(empty.serialize(),
              R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
              R"("manifests":[]})");
}

TEST(ImageIndexTest, DockerManifestList) {
    const std::string json =
        R"({"schemaVersion":2,)"
        R"("mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[)" +
        entry(R"({"architecture":"amd64","os":"linux"})") + "]}";
    const ImageIndex index = parse_index(json, media_type::kDockerManifestList);
    EXPECT_EQ(index.media_type, media_type::kDockerManifestList);
    EXPECT_EQ(index.to_raw().media_type, media_type::kDockerManifestList);
}

TEST(ImageIndexTest, ManifestsAreRequired) {
    EXPECT_THAT(error_text([] { parse_index(R"({"schemaVersion":2})"); }),
                HasSubstr("\"manifests\" is required"));
    EXPECT_THAT(error_text([] { parse_index(index_json(entry(R"({"os":"linux"})"))); }),
                HasSubstr("\"manifests[0].platform.architecture\" is required"));
}

ImageIndex three_platforms() {
    return parse_index(index_json(
        entry(R"({"architecture":"amd64","os":"linux"})", 'a') + "," +
        entry(R"({"architecture":"arm64","os":"linux","variant":"v8"})", 'b') + "," +
        entry(R"({"architecture":"arm","os":"linux","variant":"v7"})", 'c') + "," +
        entry(R"({"architecture":"unknown","os":"unknown"})", 'd') + "," + entry("", 'e')));
}

TEST(ImageIndexTest, FindPicksThePlatform) {
    const ImageIndex index = three_platforms();
    EXPECT_EQ(index.find(Platform::parse("linux/arm64")).digest.hex(), std::string(64, 'b'));
    EXPECT_EQ(index.find(Platform::parse("linux/amd64")).digest.hex(), std::string(64, 'a'));
    EXPECT_EQ(index.find(Platform::parse("arm")).digest.hex(), std::string(64, 'c'));
    // An arm64 host also runs arm/v7 when the index has no arm64 image.
    ImageIndex no_arm64 = index;
    no_arm64.manifests.erase(no_arm64.manifests.begin() + 1);
    EXPECT_EQ(no_arm64.find(Platform::parse("linux/arm64")).digest.hex(), std::string(64, 'c'));
    const PlatformMatcher matcher =
        PlatformMatcher::ordered({Platform::parse("linux/s390x"), Platform::parse("linux/arm/v7")});
    EXPECT_EQ(index.find(matcher).digest.hex(), std::string(64, 'c'));
}

TEST(ImageIndexTest, FindListsAvailablePlatformsWhenNoneMatch) {
    const ImageIndex index = three_platforms();
    const std::string name = "sha256:" + std::string(64, 'f');
    const auto e = error_of([&] { index.find(Platform::parse("linux/s390x"), name); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    EXPECT_EQ(std::string(e->what()), "no manifest for linux/s390x in index " + name +
                                          "; it has linux/amd64, linux/arm64/v8, linux/arm/v7");
    const auto any =
        error_of([&] { index.find(PlatformMatcher::only(Platform::parse("linux/ppc64le"))); });
    ASSERT_TRUE(any);
    EXPECT_THAT(any->what(), HasSubstr("no manifest for the requested platforms in the index; it "
                                       "has linux/amd64"));
    const ImageIndex none = parse_index(index_json(entry("")));
    EXPECT_THAT(error_of([&] { none.find(Platform::parse("linux/amd64")); })->what(),
                HasSubstr("it has no platform-specific manifests"));
}

}  // namespace
