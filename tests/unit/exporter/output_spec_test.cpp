// SPDX-License-Identifier: Apache-2.0
// OutputSpec::parse and CacheSpec::parse against buildx's --output and --cache-to forms: the
// shorthands, the CSV quoting, every attribute, and each error quoting the bad value.
#include <xarch/builder.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace xarch {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using Type = OutputSpec::Type;

// The message of the Error(kInvalidArgument) that parsing `text` throws.
template <typename Spec>
std::string parse_error(std::string_view text) {
    try {
        Spec::parse(text);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << text;
        return e.what();
    }
    ADD_FAILURE() << "parsed without error: " << text;
    return {};
}

TEST(OutputSpecParse, BarePathIsLocal) {
    const auto spec = OutputSpec::parse("out/dir");
    EXPECT_EQ(spec.type, Type::kLocal);
    EXPECT_EQ(spec.dest, "out/dir");
}

TEST(OutputSpecParse, DashIsTarToStdout) {
    const auto spec = OutputSpec::parse("-");
    EXPECT_EQ(spec.type, Type::kTar);
    EXPECT_EQ(spec.dest, "-");
}

TEST(OutputSpecParse, RegistryPushes) {
    const auto spec = OutputSpec::parse("type=registry");
    EXPECT_EQ(spec.type, Type::kRegistry);
    EXPECT_TRUE(spec.push);
}

TEST(OutputSpecParse, ImageWithPush) {
    EXPECT_TRUE(OutputSpec::parse("type=image,push=true").push);
    EXPECT_FALSE(OutputSpec::parse("type=image").push);
    EXPECT_FALSE(OutputSpec::parse("type=image,push=0").push);
}

TEST(OutputSpecParse, QuotedNamesHoldCommas) {
    const auto spec =
        OutputSpec::parse(R"(type=image,"name=a.example/x:1,a.example/y:2",push=true)");
    EXPECT_EQ(spec.type, Type::kImage);
    EXPECT_THAT(spec.names, ElementsAre("a.example/x:1", "a.example/y:2"));
    EXPECT_TRUE(spec.push);
}

TEST(OutputSpecParse, DoubledQuotesInQuotedField) {
    const auto spec = OutputSpec::parse(R"(type=local,"dest=a ""b"", c")");
    EXPECT_EQ(spec.dest, R"(a "b", c)");
}

TEST(OutputSpecParse, KeysAreCaseInsensitiveAndTrimmed) {
    const auto spec = OutputSpec::parse(" TYPE =local, Dest=d");
    EXPECT_EQ(spec.type, Type::kLocal);
    EXPECT_EQ(spec.dest, "d");
}

TEST(OutputSpecParse, CompressionAttributes) {
    const auto spec = OutputSpec::parse(
        "type=oci,dest=o.tar,compression=zstd,compression-level=19,force-compression=true,"
        "oci-mediatypes=false");
    EXPECT_EQ(spec.compression, Compression::kZstd);
    EXPECT_EQ(spec.compression_level, 19);
    EXPECT_TRUE(spec.force_compression);
    EXPECT_FALSE(spec.oci_media_types);
    EXPECT_EQ(OutputSpec::parse("type=tar,compression=uncompressed").compression,
              Compression::kUncompressed);
    EXPECT_EQ(OutputSpec::parse("type=tar").compression, Compression::kGzip);
}

TEST(OutputSpecParse, OciTarAndDirectory) {
    const auto archive = OutputSpec::parse("type=oci,dest=img.tar");
    EXPECT_EQ(archive.type, Type::kOci);
    EXPECT_TRUE(archive.tar);
    EXPECT_EQ(archive.dest, "img.tar");
    const auto dir = OutputSpec::parse("type=oci,dest=layout,tar=false");
    EXPECT_FALSE(dir.tar);
    EXPECT_EQ(dir.dest, "layout");
    EXPECT_EQ(OutputSpec::parse("type=oci").dest, "-");
}

TEST(OutputSpecParse, DockerWithoutDestLoads) {
    EXPECT_EQ(OutputSpec::parse("type=docker").dest, "");
    EXPECT_EQ(OutputSpec::parse("type=docker,dest=x.tar").dest, "x.tar");
    EXPECT_EQ(OutputSpec::parse("type=tar").dest, "-");
}

TEST(OutputSpecParse, OtherAttributesKept) {
    const auto spec =
        OutputSpec::parse("type=image,annotation.org.example=v,unpack=false,store=false");
    EXPECT_EQ(spec.attributes.at("annotation.org.example"), "v");
    EXPECT_EQ(spec.attributes.at("unpack"), "false");
    EXPECT_EQ(spec.attributes.at("store"), "false");
}

TEST(OutputSpecParse, ValueMayContainEquals) {
    EXPECT_EQ(OutputSpec::parse("type=local,dest=a=b").dest, "a=b");
}

TEST(OutputSpecParseErrors, MissingType) {
    EXPECT_THAT(parse_error<OutputSpec>("dest=out,tar=false"), HasSubstr("type is required"));
    EXPECT_THAT(parse_error<OutputSpec>("dest=out,tar=false"), HasSubstr("\"dest=out,tar=false\""));
}

TEST(OutputSpecParse, OneFieldWithoutTypeIsAPath) {
    // buildx reads any single field not starting with type= as a local destination.
    const auto spec = OutputSpec::parse("dest=out");
    EXPECT_EQ(spec.type, Type::kLocal);
    EXPECT_EQ(spec.dest, "dest=out");
}

TEST(OutputSpecParseErrors, UnknownType) {
    EXPECT_THAT(parse_error<OutputSpec>("type=floppy"), HasSubstr("\"floppy\""));
}

TEST(OutputSpecParseErrors, FieldWithoutEquals) {
    EXPECT_THAT(parse_error<OutputSpec>("type=local,dest"), HasSubstr("invalid value \"dest\""));
    // A trailing comma is an empty last field, as encoding/csv reads it.
    EXPECT_THAT(parse_error<OutputSpec>("type=tar,"), HasSubstr("invalid value \"\""));
}

TEST(OutputSpecParseErrors, CsvQuoting) {
    EXPECT_THAT(parse_error<OutputSpec>(R"(type=local,dest=a"b)"),
                HasSubstr("parse error on line 1, column 18: bare \" in non-quoted-field"));
    EXPECT_THAT(parse_error<OutputSpec>(R"(type=local,"dest=x)"),
                HasSubstr("column 13: extraneous or missing \" in quoted-field"));
    EXPECT_THAT(parse_error<OutputSpec>(R"("type=local"x)"),
                HasSubstr("column 12: extraneous or missing \" in quoted-field"));
}

TEST(OutputSpecParseErrors, Empty) {
    EXPECT_THAT(parse_error<OutputSpec>(""), HasSubstr("empty"));
}

TEST(OutputSpecParseErrors, Destinations) {
    EXPECT_THAT(parse_error<OutputSpec>("type=local"), HasSubstr("dest is required for local"));
    EXPECT_THAT(parse_error<OutputSpec>("type=local,dest=-"), HasSubstr("dest cannot be stdout"));
    EXPECT_THAT(parse_error<OutputSpec>("type=oci,tar=false"),
                HasSubstr("dest is required for oci"));
    EXPECT_THAT(parse_error<OutputSpec>("type=docker,tar=false,dest=d"), HasSubstr("tar=false"));
}

TEST(OutputSpecParseErrors, BadValues) {
    EXPECT_THAT(parse_error<OutputSpec>("type=tar,compression=lz4"), HasSubstr("\"lz4\""));
    EXPECT_THAT(parse_error<OutputSpec>("type=tar,compression-level=high"),
                HasSubstr("non-int value \"high\""));
    EXPECT_THAT(parse_error<OutputSpec>("type=image,push=yes"), HasSubstr("\"yes\""));
    EXPECT_THAT(parse_error<OutputSpec>("type=oci,dest=d,tar=maybe"), HasSubstr("\"maybe\""));
    EXPECT_THAT(parse_error<OutputSpec>("type=oci,dest=x,oci-mediatypes=2"), HasSubstr("\"2\""));
    EXPECT_THAT(parse_error<OutputSpec>("type=oci,dest=x,force-compression="), HasSubstr("\"\""));
}

TEST(CompressionToString, Names) {
    EXPECT_EQ(to_string(Compression::kGzip), "gzip");
    EXPECT_EQ(to_string(Compression::kZstd), "zstd");
    EXPECT_EQ(to_string(Compression::kUncompressed), "uncompressed");
}

TEST(CacheSpecParse, BareReferenceIsRegistry) {
    const auto spec = CacheSpec::parse("registry.example/app:cache");
    EXPECT_EQ(spec.type, "registry");
    EXPECT_EQ(spec.ref, "registry.example/app:cache");
    EXPECT_EQ(spec.mode, "min");
}

TEST(CacheSpecParse, RegistryWithMode) {
    const auto spec =
        CacheSpec::parse("type=registry,ref=r.example/c:1,mode=max,oci-mediatypes=true");
    EXPECT_EQ(spec.type, "registry");
    EXPECT_EQ(spec.ref, "r.example/c:1");
    EXPECT_EQ(spec.mode, "max");
    EXPECT_EQ(spec.attributes.at("oci-mediatypes"), "true");
}

TEST(CacheSpecParse, Local) {
    EXPECT_EQ(CacheSpec::parse("type=local,dest=cache").dest, "cache");
    EXPECT_EQ(CacheSpec::parse("type=local,src=cache").src, "cache");
}

TEST(CacheSpecParseErrors, Each) {
    EXPECT_THAT(parse_error<CacheSpec>("ref=x"), HasSubstr("type required for \"ref=x\""));
    EXPECT_THAT(parse_error<CacheSpec>("type=registry"), HasSubstr("ref is required"));
    EXPECT_THAT(parse_error<CacheSpec>("type=local"), HasSubstr("dest=DIR"));
    EXPECT_THAT(parse_error<CacheSpec>("type=registry,ref=x,mode=most"), HasSubstr("\"most\""));
    EXPECT_THAT(parse_error<CacheSpec>("type=registry,refx"), HasSubstr("invalid value \"refx\""));
    EXPECT_THAT(parse_error<CacheSpec>(R"(type=local,src=a"b)"), HasSubstr("bare \""));
    EXPECT_THAT(parse_error<CacheSpec>(""), HasSubstr("empty"));
}

}  // namespace
}  // namespace xarch
