// SPDX-License-Identifier: Apache-2.0
// registry_auth_header: decoded back, the JSON has exactly docker's types.AuthConfig keys, and
// the encoding is Go's base64.URLEncoding (URL-safe alphabet, with padding).
#include "engine/client.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace xarch::engine {
namespace {

constexpr std::string_view kPrefix = "X-Registry-Auth: ";

std::string encoded_part(const std::string& header) {
    EXPECT_TRUE(header.starts_with(kPrefix)) << header;
    return header.substr(kPrefix.size());
}

boost::json::object decoded(const std::string& header) {
    const std::string encoded = encoded_part(header);
    EXPECT_EQ(encoded.find_first_of("+/"), std::string::npos) << "not URL-safe: " << encoded;
    EXPECT_EQ(encoded.size() % 4, 0U) << "not padded: " << encoded;
    const auto json = util::base64url_decode(encoded);
    EXPECT_TRUE(json.has_value()) << encoded;
    return boost::json::parse(json.value_or("{}")).as_object();
}

std::set<std::string> keys(const boost::json::object& object) {
    std::set<std::string> out;
    for (const auto& entry : object) {
        out.emplace(entry.key());
    }
    return out;
}

TEST(EngineRegistryAuthHeaderTest, UsernameAndPassword) {
    // Chosen so that standard base64 would need '+' and '/': the URL alphabet must show.
    Credentials credentials;
    credentials.username = "bob";
    credentials.password = "p>>>?~~~?";
    const auto header = registry_auth_header(credentials, "127.0.0.1:5000");
    const auto json = decoded(header);
    EXPECT_EQ(keys(json), (std::set<std::string>{"username", "password", "serveraddress"}));
    EXPECT_EQ(json.at("username"), "bob");
    EXPECT_EQ(json.at("password"), "p>>>?~~~?");
    EXPECT_EQ(json.at("serveraddress"), "127.0.0.1:5000");
    // The same bytes in the standard alphabet would differ exactly where '-' and '_' are.
    const std::string encoded = encoded_part(header);
    std::string standard = encoded;
    for (char& c : standard) {
        c = c == '-' ? '+' : (c == '_' ? '/' : c);
    }
    EXPECT_EQ(util::base64_decode(standard), util::base64url_decode(encoded));
    EXPECT_NE(standard, encoded) << "the test's password did not exercise the URL alphabet";
}

TEST(EngineRegistryAuthHeaderTest, IdentityToken) {
    Credentials credentials;
    credentials.username = "<token>";
    credentials.identity_token = "refresh-me";
    const auto json = decoded(registry_auth_header(credentials, "registry.example"));
    EXPECT_EQ(keys(json), (std::set<std::string>{"username", "serveraddress", "identitytoken"}));
    EXPECT_EQ(json.at("identitytoken"), "refresh-me");
    EXPECT_EQ(json.at("serveraddress"), "registry.example");
}

TEST(EngineRegistryAuthHeaderTest, RegistryToken) {
    Credentials credentials;
    credentials.registry_token = "bearer-as-is";
    const auto json = decoded(registry_auth_header(credentials, "registry.example"));
    EXPECT_EQ(keys(json), (std::set<std::string>{"registrytoken"}));
    EXPECT_EQ(json.at("registrytoken"), "bearer-as-is");
}

TEST(EngineRegistryAuthHeaderTest, AnonymousIsAnEmptyObject) {
    for (const auto& credentials : {std::optional<Credentials>(), std::optional(Credentials{})}) {
        const auto header = registry_auth_header(credentials, "127.0.0.1:5000");
        EXPECT_EQ(util::base64url_decode(encoded_part(header)), "{}");
        EXPECT_TRUE(decoded(header).empty());
    }
}

TEST(EngineBase64UrlTest, RoundTripsEveryLengthAndKeepsPadding) {
    std::string bytes;
    for (int i = 0; i < 70; ++i) {
        const std::string encoded = util::base64url_encode(bytes);
        EXPECT_EQ(encoded.size(), (bytes.size() + 2) / 3 * 4);
        EXPECT_EQ(util::base64url_decode(encoded), bytes);
        bytes += static_cast<char>(0xfb + i);  // bytes that map to '-' and '_' often
    }
    EXPECT_EQ(util::base64url_decode("ab+/"), std::nullopt);  // the standard alphabet's digits
    EXPECT_EQ(util::base64url_decode("abc"), std::nullopt);   // unpadded
}

}  // namespace
}  // namespace xarch::engine
