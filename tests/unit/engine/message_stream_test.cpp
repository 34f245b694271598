// SPDX-License-Identifier: Apache-2.0
// MessageSplitter: the engine's message stream cut into chunks anywhere gives the same messages.
#include "engine/message_stream.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace xarch::engine {
namespace {

// The messages of `chunks` fed in order, then finish(), each serialized.
std::vector<std::string> split(const std::vector<std::string>& chunks) {
    std::vector<std::string> out;
    MessageSplitter splitter([&](const boost::json::object& message) {
        out.push_back(boost::json::serialize(message));
    });
    for (const auto& chunk : chunks) {
        splitter.feed(chunk);
    }
    splitter.finish();
    return out;
}

// A /build answer as dockerd 20.10 writes it (lines end in "\r\n"), with a UTF-8 payload and an
// escaped newline inside a string.
const std::string kBuildAnswer =
    "{\"stream\":\"Step 1/3 : FROM busybox\"}\r\n"
    "{\"stream\":\"\\n\"}\r\n"
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":36412,\"total\":1040367},"
    "\"id\":\"62e1066491e9\"}\r\n"
    "{\"stream\":\"I am building for arm64 \xc3\xa9\\n\"}\r\n"
    "{\"aux\":{\"ID\":\"sha256:5618fb\"}}\r\n"
    "{\"errorDetail\":{\"code\":1,\"message\":\"exit 3\"},\"error\":\"exit 3\"}\r\n";

std::vector<std::string> expected_build_messages() {
    // Parsed line by line on their own: what the splitter must give whatever the chunking.
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < kBuildAnswer.size()) {
        const std::size_t end = kBuildAnswer.find("\r\n", start);
        out.push_back(boost::json::serialize(
            boost::json::parse(kBuildAnswer.substr(start, end - start)).as_object()));
        start = end + 2;
    }
    return out;
}

TEST(EngineMessageSplitterTest, EverySplitPointGivesTheSameMessages) {
    const auto expected = expected_build_messages();
    ASSERT_EQ(expected.size(), 6U);
    EXPECT_EQ(split({kBuildAnswer}), expected);
    for (std::size_t at = 0; at <= kBuildAnswer.size(); ++at) {
        EXPECT_EQ(split({kBuildAnswer.substr(0, at), kBuildAnswer.substr(at)}), expected)
            << "split at " << at;
    }
}

TEST(EngineMessageSplitterTest, RandomChunkingsGiveTheSameMessages) {
    const auto expected = expected_build_messages();
    std::mt19937 random(7);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::string> chunks;
        std::size_t at = 0;
        while (at < kBuildAnswer.size()) {
            const std::size_t size = std::uniform_int_distribution<std::size_t>(0, 40)(random);
            chunks.push_back(kBuildAnswer.substr(at, size));
            at += size;
        }
        EXPECT_EQ(split(chunks), expected) << "round " << round;
    }
    // One byte at a time.
    std::vector<std::string> bytes;
    for (const char c : kBuildAnswer) {
        bytes.emplace_back(1, c);
    }
    EXPECT_EQ(split(bytes), expected);
}

TEST(EngineMessageSplitterTest, PlainTextLinesComeAsStreamMessages) {
    const auto messages = split({"Loaded image: x:1\n", "\n  \r\n", "[1,2]\n\"text\"\n{\"a\":1}"});
    ASSERT_EQ(messages.size(), 4U);
    EXPECT_EQ(messages[0], R"({"stream":"Loaded image: x:1"})");
    EXPECT_EQ(messages[1], R"({"stream":"[1,2]"})");  // JSON, but not a message object
    EXPECT_EQ(messages[2], R"({"stream":"\"text\""})");
    EXPECT_EQ(messages[3], R"({"a":1})");  // the last line, without its newline, at finish()
}

TEST(EngineMessageSplitterTest, AnExceptionFromTheSinkPropagates) {
    int seen = 0;
    MessageSplitter splitter([&](const boost::json::object&) {
        if (++seen == 2) {
            throw Error(ErrorCode::kIo, "stop here");
        }
    });
    EXPECT_THROW(splitter.feed("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"), Error);
    EXPECT_EQ(seen, 2);
}

TEST(EngineMessageSplitterTest, PendingCountsTheUnfinishedLine) {
    std::vector<std::string> out;
    MessageSplitter splitter([&](const boost::json::object& message) {
        out.push_back(boost::json::serialize(message));
    });
    splitter.feed("{\"a\":1}\n{\"b\"");
    EXPECT_EQ(out.size(), 1U);
    EXPECT_EQ(splitter.pending(), 4U);
    splitter.feed(":2}\n");
    EXPECT_EQ(splitter.pending(), 0U);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[1], R"({"b":2})");
}

}  // namespace
}  // namespace xarch::engine
