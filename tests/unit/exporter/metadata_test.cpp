// SPDX-License-Identifier: Apache-2.0
// The metadata file buildx writes: its keys, their JSON shapes and buildx's indentation.
#include "exporter/metadata.hpp"

#include <xarch/digest.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace xarch::exporter {
namespace {

Descriptor manifest_descriptor() {
    return Descriptor::of(std::string(media_type::kOciManifest), R"({"schemaVersion":2})");
}

TEST(Metadata, EmptyIsAnEmptyObject) {
    EXPECT_EQ(Metadata().to_json(), "{}");
}

TEST(Metadata, SingleImageKeys) {
    Metadata metadata;
    const Descriptor root = manifest_descriptor();
    const Digest config = Digest::of("config");
    metadata.add_image(root, config, {"r.example/a:1", "r.example/b:2"});
    const std::string json = metadata.to_json();
    const auto value = boost::json::parse(json).as_object();
    EXPECT_EQ(value.at("containerimage.digest").as_string(), root.digest.to_string());
    EXPECT_EQ(value.at("containerimage.config.digest").as_string(), config.to_string());
    EXPECT_EQ(value.at("image.name").as_string(), "r.example/a:1,r.example/b:2");
    const auto& descriptor = value.at("containerimage.descriptor").as_object();
    EXPECT_EQ(descriptor.at("mediaType").as_string(), root.media_type);
    EXPECT_EQ(descriptor.at("digest").as_string(), root.digest.to_string());
    EXPECT_EQ(descriptor.at("size").as_int64(), root.size);
    EXPECT_EQ(descriptor.size(), 3U);
    // json.MarshalIndent: keys sorted, two spaces, the descriptor an indented object.
    const std::string expected =
        "{\n  \"containerimage.config.digest\": \"" + config.to_string() +
        "\",\n  \"containerimage.descriptor\": {\n    \"mediaType\": \"" + root.media_type +
        "\",\n    \"digest\": \"" + root.digest.to_string() +
        "\",\n    \"size\": " + std::to_string(root.size) +
        "\n  },\n  \"containerimage.digest\": \"" + root.digest.to_string() +
        "\",\n  \"image.name\": \"r.example/a:1,r.example/b:2\"\n}";
    EXPECT_EQ(json, expected);
}

TEST(Metadata, IndexHasNoConfigDigestAndLaterOutputsWin) {
    Metadata metadata;
    metadata.add_image(manifest_descriptor(), Digest::of("c"), {"a"});
    const Descriptor index =
        Descriptor::of(std::string(media_type::kOciIndex), R"({"schemaVersion":2,"manifests":[]})");
    metadata.add_image(index, std::nullopt, {"docker.io/library/b:latest"});
    const auto value = boost::json::parse(metadata.to_json()).as_object();
    EXPECT_FALSE(value.contains("containerimage.config.digest"));
    EXPECT_EQ(value.at("containerimage.digest").as_string(), index.digest.to_string());
    EXPECT_EQ(value.at("image.name").as_string(), "docker.io/library/b:latest");
}

TEST(Metadata, NoNamesNoImageName) {
    Metadata metadata;
    metadata.add_image(manifest_descriptor(), std::nullopt, {});
    EXPECT_FALSE(boost::json::parse(metadata.to_json()).as_object().contains("image.name"));
}

}  // namespace
}  // namespace xarch::exporter
