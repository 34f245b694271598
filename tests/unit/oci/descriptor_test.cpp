// SPDX-License-Identifier: Apache-2.0
// Descriptor: JSON round trips with golden bytes, Go-compatible escaping, embedded data, the
// checks of the content-descriptor schema, malformed input, and the media type helpers.
#include "oci/formats.hpp"
#include "oci_test_util.hpp"
#include "util/base64.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace {

using testing::HasSubstr;
using xarch::Descriptor;
using xarch::Digest;
using xarch::ErrorCode;
using xarch::parse_descriptor;
using xarch::Platform;
using xarch::Validation;
using xarch::test::error_of;
namespace media_type = xarch::media_type;

const std::string kDigest =
    "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

std::string parse_error(const std::string& json, Validation validation = Validation::kCompatible) {
    const auto e = error_of([&] { parse_descriptor(json, validation); });
    if (!e) {
        return "";
    }
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument) << json;
    return e->what();
}

std::string with(const std::string& fields) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kDigest +
           R"(","size":7682)" + fields + "}";
}

TEST(DescriptorTest, MinimalGoldenBytes) {
    Descriptor d;
    d.media_type = std::string(media_type::kOciManifest);
    d.digest = Digest::parse(kDigest);
    d.size = 7682;
    EXPECT_EQ(d.serialize(), with(""));
    EXPECT_EQ(parse_descriptor(d.serialize()), d);
}

TEST(DescriptorTest, FullRoundTripInSpecsGoOrder) {
    Descriptor d;
    d.media_type = std::string(media_type::kOciManifest);
    d.digest = Digest::parse(kDigest);
    d.size = 7682;
    d.urls = {"https://example.com/a", "https://mirror.example/b"};
    d.annotations = {{"z", "last"}, {"a", "first"}};
    d.platform = Platform("linux", "arm", "v7", "1.0", {"f1", "f2"});
    d.artifact_type = "application/vnd.example+type";
    const std::string golden =
        R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kDigest +
        R"(","size":7682,"urls":["https://example.com/a","https://mirror.example/b"],)"
        R"("annotations":{"a":"first","z":"last"},)"
        R"("platform":{"architecture":"arm","os":"linux","os.version":"1.0",)"
        R"("os.features":["f1","f2"],"variant":"v7"},)"
        R"("artifactType":"application/vnd.example+type"})";
    EXPECT_EQ(d.serialize(), golden);
    const Descriptor back = parse_descriptor(golden);
    EXPECT_EQ(back, d);
    EXPECT_EQ(back.serialize(), golden);
}

TEST(DescriptorTest, OfComputesDigestAndSize) {
    const Descriptor d = Descriptor::of("application/octet-stream", "abc");
    EXPECT_EQ(d.digest, Digest::of("abc"));
    EXPECT_EQ(d.size, 3);
    EXPECT_FALSE(d.data);
}

TEST(DescriptorTest, EmbeddedDataIsBase64AndChecked) {
    // manifest.md's empty config descriptor.
    const std::string json =
        R"({"mediaType":"application/vnd.oci.empty.v1+json",)"
        R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
        R"("size":2,"data":"e30="})";
    const Descriptor d = parse_descriptor(json);
    ASSERT_TRUE(d.data);
    EXPECT_EQ(*d.data, "{}");
    EXPECT_EQ(d.serialize(), json);
    EXPECT_THAT(parse_error(R"({"mediaType":"a/b","digest":")" + Digest::of("{}").to_string() +
                            R"(","size":3,"data":"e30="})"),
                HasSubstr("holds 2 bytes but size says 3"));
    EXPECT_THAT(parse_error(R"({"mediaType":"a/b","digest":")" + Digest::of("{]").to_string() +
                            R"(","size":2,"data":"e30="})"),
                HasSubstr("does not match the digest"));
    EXPECT_THAT(parse_error(R"({"mediaType":"a/b","digest":")" + Digest::of("{}").to_string() +
                            R"(","size":2,"data":"e30"})"),
                HasSubstr("base64"));
}

TEST(DescriptorTest, Base64MatchesRfc4648) {
    for (const auto& [plain, encoded] : std::vector<std::pair<std::string, std::string>>{
             {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}}) {
        EXPECT_EQ(xarch::util::base64_encode(plain), encoded);
        EXPECT_EQ(xarch::util::base64_decode(encoded), plain);
    }
    const std::string binary = xarch::test::random_bytes(1000, 3);
    EXPECT_EQ(xarch::util::base64_decode(xarch::util::base64_encode(binary)), binary);
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!", "=Zm9", "Zg==Zg=="}) {
        EXPECT_FALSE(xarch::util::base64_decode(bad)) << bad;
    }
}

TEST(DescriptorTest, StringsAreEscapedAsGoDoes) {
    Descriptor d;
    d.media_type = "a/b";
    d.digest = Digest::parse(kDigest);
    d.annotations = {{"k", "<a & b>\"\\\n\t\x01\x7f\u2028\u2029\xff\xc3\xa9"}};
    const std::string json = d.serialize();
    EXPECT_THAT(json, HasSubstr(R"("k":"\u003ca \u0026 b\u003e\"\\\n\t\u0001)"
                                "\x7f"
                                R"(\u2028\u2029\ufffd)"
                                "\xc3\xa9\"}"));
    // What Go writes reads back to the same model (the invalid byte became U+FFFD).
    const Descriptor back = parse_descriptor(json);
    EXPECT_EQ(back.annotations.at("k"),
              std::string("<a & b>\"\\\n\t\x01\x7f\u2028\u2029\xef\xbf\xbd\xc3\xa9"));
}

struct BadInput {
    const char* name;
    std::string json;
    const char* why;
};

void PrintTo(const BadInput& input, std::ostream* out) {
    *out << input.name;
}

class DescriptorParseError : public testing::TestWithParam<BadInput> {};

TEST_P(DescriptorParseError, IsInvalidArgumentNamingTheField) {
    EXPECT_THAT(parse_error(GetParam().json), HasSubstr(GetParam().why)) << GetParam().json;
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    DescriptorParseError,
    testing::Values(
        BadInput{"NotJson", "{", "malformed JSON at byte 1"},
        BadInput{"TrailingGarbage", with("") + "x", "malformed JSON"},
        BadInput{"Array", "[]", "the document must be an object, got an array"},
        BadInput{"NoMediaType", R"({"digest":")" + kDigest + R"(","size":1})",
                 "\"mediaType\" is required"},
        BadInput{"NoDigest", R"({"mediaType":"a/b","size":1})", "\"digest\" is required"},
        BadInput{"NoSize", R"({"mediaType":"a/b","digest":")" + kDigest + R"("})",
                 "\"size\" is required"},
        BadInput{"SizeString", R"({"mediaType":"a/b","digest":")" + kDigest + R"(","size":"1"})",
                 "\"size\" must be an integer, got a string"},
        BadInput{"SizeFraction", R"({"mediaType":"a/b","digest":")" + kDigest + R"(","size":1.5})",
                 "must be an integer, got 1.5"},
        BadInput{"SizeExponent", R"({"mediaType":"a/b","digest":")" + kDigest + R"(","size":1e3})",
                 "must be an integer, got 1000"},
        BadInput{"SizeHuge",
                 R"({"mediaType":"a/b","digest":")" + kDigest + R"(","size":18446744073709551615})",
                 "out of range"},
        BadInput{"SizeHugeDouble",
                 R"({"mediaType":"a/b","digest":")" + kDigest + R"(","size":1e400})",
                 "out of range for a 64-bit float"},
        BadInput{"SizeNegative", R"({"mediaType":"a/b","digest":")" + kDigest + R"(","size":-1})",
                 "must not be negative"},
        BadInput{"MediaTypeNumber", R"({"mediaType":1,"digest":")" + kDigest + R"(","size":1})",
                 "\"mediaType\" must be a string, got a number"},
        BadInput{"MediaTypePattern", R"({"mediaType":"ab","digest":")" + kDigest + R"(","size":1})",
                 "is not a media type"},
        BadInput{"DigestUppercase", R"({"mediaType":"a/b","digest":"sha256:ABC","size":1})",
                 "\"digest\" holds an invalid digest"},
        BadInput{"UrlRelative", with(R"(,"urls":["value"])"), "\"urls[0]\" is not an absolute URI"},
        BadInput{"UrlsString", with(R"(,"urls":"https://x")"), "\"urls\" must be an array"},
        BadInput{"AnnotationNumber", with(R"(,"annotations":{"a":1})"),
                 "\"annotations.a\" must be a string"},
        BadInput{"PlatformNoOs", with(R"(,"platform":{"architecture":"amd64"})"),
                 "\"platform.os\" is required"},
        BadInput{"PlatformFeatures",
                 with(R"(,"platform":{"architecture":"amd64","os":"linux","os.features":"x"})"),
                 "\"platform.os.features\" must be an array"},
        BadInput{"ArtifactType", with(R"(,"artifactType":"foo/.bar")"), "is not a media type"},
        BadInput{"InvalidUtf8", "{\"mediaType\":\"\xff\"}", "malformed JSON"},
        BadInput{"DeepNesting", std::string(5000, '[') + std::string(5000, ']'), "malformed JSON"}),
    [](const testing::TestParamInfo<BadInput>& p) { return p.param.name; });

TEST(DescriptorTest, UnknownFieldsAreIgnored) {
    const Descriptor d = parse_descriptor(with(R"(,"features":["x"],"future":{"a":[1,2]})"));
    EXPECT_EQ(d.serialize(), with(""));
}

TEST(DescriptorTest, NullIsAbsentOnlyWhenCompatible) {
    const std::string json = with(R"(,"urls":null,"annotations":null,"platform":null)");
    EXPECT_EQ(parse_descriptor(json).serialize(), with(""));
    EXPECT_THAT(parse_error(json, Validation::kSchema), HasSubstr("\"urls\" must not be null"));
}

TEST(DescriptorTest, LenientDigestAlgorithmsRoundTrip) {
    const std::string json =
        R"({"mediaType":"a/b",)"
        R"("digest":"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564","size":1})";
    EXPECT_EQ(parse_descriptor(json).serialize(), json);
}

TEST(DescriptorTest, UrlsMustBeAbsoluteUris) {
    for (const char* ok : {"https://example.com/foo", "http://[::1]:5000/v2/x?a=b#c",
                           "urn:isbn:0451450523", "s3://bucket/key%20name"}) {
        EXPECT_TRUE(xarch::oci::is_absolute_uri(ok)) << ok;
    }
    for (const char* bad : {"value", "/relative/path", "://x", "1http://x", "https://a b",
                            "https://x/%zz", "https://x/\x01", ""}) {
        EXPECT_FALSE(xarch::oci::is_absolute_uri(bad)) << bad;
    }
}

TEST(DescriptorMediaTypeTest, Classifies) {
    EXPECT_TRUE(media_type::is_manifest(media_type::kOciManifest));
    EXPECT_TRUE(media_type::is_manifest(media_type::kDockerManifest));
    EXPECT_FALSE(media_type::is_manifest(media_type::kOciIndex));
    EXPECT_TRUE(media_type::is_index(media_type::kOciIndex));
    EXPECT_TRUE(media_type::is_index(media_type::kDockerManifestList));
    EXPECT_FALSE(media_type::is_index(media_type::kDockerManifest));
    for (std::string_view layer :
         {media_type::kOciLayer, media_type::kOciLayerGzip, media_type::kOciLayerZstd,
          media_type::kOciLayerNondistributable, media_type::kOciLayerNondistributableGzip,
          media_type::kOciLayerNondistributableZstd, media_type::kDockerLayerGzip,
          media_type::kDockerForeignLayer}) {
        EXPECT_TRUE(media_type::is_layer(layer)) << layer;
        EXPECT_FALSE(media_type::is_config(layer)) << layer;
    }
    EXPECT_TRUE(media_type::is_config(media_type::kOciConfig));
    EXPECT_TRUE(media_type::is_config(media_type::kDockerConfig));
    EXPECT_FALSE(media_type::is_layer(media_type::kOciEmpty));
    EXPECT_EQ(media_type::kOciEmpty, "application/vnd.oci.empty.v1+json");
    EXPECT_TRUE(media_type::is_nondistributable(media_type::kDockerForeignLayer));
    EXPECT_FALSE(media_type::is_nondistributable(media_type::kOciLayerGzip));
}

TEST(DescriptorMediaTypeTest, WellFormedFollowsRfc6838) {
    const std::string max(127, 'a');
    for (const std::string& ok :
         {std::string("application/vnd.oci.image.manifest.v1+json"), std::string("text/plain"),
          max + "/" + max, std::string("a/b!#$&^_.+-")}) {
        EXPECT_TRUE(media_type::is_well_formed(ok)) << ok;
    }
    for (const std::string& bad :
         {std::string("application"), std::string(".foo/bar"), std::string("foo/.bar"), max + "a/b",
          "b/" + max + "a", std::string("a/b/c"), std::string("a /b"), std::string("")}) {
        EXPECT_FALSE(media_type::is_well_formed(bad)) << bad;
    }
}

}  // namespace
