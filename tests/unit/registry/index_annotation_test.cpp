// SPDX-License-Identifier: Apache-2.0
// IndexAnnotation::parse: buildx's `imagetools create --annotation` syntax and its errors.
#include <xarch/error.hpp>
#include <xarch/registry.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using xarch::IndexAnnotation;
using xarch::Platform;

TEST(IndexAnnotation, PlainAndIndexGoOnTheIndex) {
    for (const char* text : {"k=v=w", "index:k=v=w"}) {
        const auto parsed = IndexAnnotation::parse(text);
        ASSERT_EQ(parsed.size(), 1U) << text;
        EXPECT_EQ(parsed[0], (IndexAnnotation{false, std::nullopt, "k", "v=w"})) << text;
    }
    EXPECT_EQ(IndexAnnotation::parse("k=")[0].value, "");
}

TEST(IndexAnnotation, DescriptorsAllOrOnePlatform) {
    EXPECT_EQ(IndexAnnotation::parse("manifest-descriptor:k=v")[0],
              (IndexAnnotation{true, std::nullopt, "k", "v"}));
    const auto arm = IndexAnnotation::parse("manifest-descriptor[linux/arm/v7]:k=v");
    ASSERT_EQ(arm.size(), 1U);
    EXPECT_TRUE(arm[0].on_descriptors);
    ASSERT_TRUE(arm[0].platform.has_value());
    EXPECT_EQ(arm[0].platform->to_string(), "linux/arm/v7");
}

TEST(IndexAnnotation, SeveralTypesGiveOneEach) {
    const auto both = IndexAnnotation::parse("index,manifest-descriptor[linux/amd64]:k=v");
    ASSERT_EQ(both.size(), 2U);
    EXPECT_FALSE(both[0].on_descriptors);
    EXPECT_TRUE(both[1].on_descriptors);
    EXPECT_EQ(both[1].platform, Platform::parse("linux/amd64"));
}

TEST(IndexAnnotation, ErrorsQuoteTheText) {
    const auto message = [](const std::string& text) {
        try {
            IndexAnnotation::parse(text);
        } catch (const xarch::Error& e) {
            EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("title"), R"(invalid annotation "title": expected key=value)");
    EXPECT_EQ(message("index:=v"), R"(invalid annotation "index:=v": the key is empty)");
    EXPECT_NE(message("manifest:k=v").find(R"(annotation type "manifest" is not supported)"),
              std::string::npos);
    EXPECT_NE(message("index[linux/amd64]:k=v").find("is not supported"), std::string::npos);
    EXPECT_NE(message("manifest-descriptor[nope/x/y/z]:k=v"), "no error");
}

}  // namespace
