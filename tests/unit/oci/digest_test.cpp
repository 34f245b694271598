// SPDX-License-Identifier: Apache-2.0
// Digest: known vectors, streaming, strict parsing with errors that quote the input, the lenient
// grammar for other algorithms, value semantics, DigestVerifier and ChainIDs.
#include "oci/internal.hpp"
#include "oci_test_util.hpp"
#include "util/quote.hpp"

#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using testing::AllOf;
using testing::HasSubstr;
using xarch::Digest;
using xarch::DigestAlgorithm;
using xarch::DigestVerifier;
using xarch::Error;
using xarch::ErrorCode;
using xarch::Hasher;
using xarch::test::error_of;

constexpr const char* kSha256Empty =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kSha256Abc =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kSha512Empty =
    "sha512:"
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2"
    "877eec2f63b931bd47417a81a538327af927da3e";
constexpr const char* kSha512Abc =
    "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c2"
    "3a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
constexpr const char* kSha384Abc =
    "sha384:"
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1"
    "34c825a7";

// ---- computing ----

TEST(DigestTest, KnownVectors) {
    EXPECT_EQ(Digest::of("").to_string(), kSha256Empty);
    EXPECT_EQ(Digest::of("abc").to_string(), kSha256Abc);
    EXPECT_EQ(Digest::of("", DigestAlgorithm::kSha512).to_string(), kSha512Empty);
    EXPECT_EQ(Digest::of("abc", DigestAlgorithm::kSha512).to_string(), kSha512Abc);
    EXPECT_EQ(Digest::of("abc", DigestAlgorithm::kSha384).to_string(), kSha384Abc);
}

TEST(DigestTest, BytesAndStringOverloadsAgree) {
    const std::string text = "abc";
    const auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
    EXPECT_EQ(Digest::of(bytes), Digest::of(text));
}

TEST(DigestTest, HasherStreamsInPieces) {
    const std::string data = xarch::test::random_bytes(100000, 7);
    for (DigestAlgorithm algorithm : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
        Hasher hasher(algorithm);
        std::size_t at = 0;
        std::size_t step = 1;
        while (at < data.size()) {
            const std::size_t n = std::min(step, data.size() - at);
            hasher.update(std::string_view(data).substr(at, n));
            at += n;
            step = step * 3 + 1;
        }
        EXPECT_EQ(hasher.size(), static_cast<std::int64_t>(data.size()));
        EXPECT_EQ(hasher.finish(), Digest::of(data, algorithm));
    }
}

TEST(DigestTest, HasherIsSpentAfterFinish) {
    Hasher hasher;
    hasher.update("abc");
    EXPECT_EQ(hasher.finish().to_string(), kSha256Abc);
    auto e = error_of([&] { hasher.update("more"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInternal);
    e = error_of([&] { hasher.finish(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInternal);
}

TEST(DigestTest, HasherMoves) {
    Hasher a;
    a.update("ab");
    Hasher b = std::move(a);
    b.update("c");
    EXPECT_EQ(b.finish().to_string(), kSha256Abc);
}

// ---- parsing ----

TEST(DigestTest, ParsesRegisteredAlgorithms) {
    for (const char* text : {kSha256Empty, kSha512Abc, kSha384Abc}) {
        const Digest d = Digest::parse(text);
        EXPECT_EQ(d.to_string(), text);
    }
    const Digest d = Digest::parse(kSha256Abc);
    EXPECT_EQ(d.algorithm(), "sha256");
    EXPECT_EQ(d.registered_algorithm(), DigestAlgorithm::kSha256);
    EXPECT_EQ(d.hex(), std::string_view(kSha256Abc).substr(7));
    EXPECT_FALSE(d.empty());
    EXPECT_EQ(xarch::to_string(DigestAlgorithm::kSha512), "sha512");
}

struct BadDigest {
    const char* text;
    const char* why;
};

void PrintTo(const BadDigest& input, std::ostream* out) {
    *out << xarch::util::quote(input.text);
}

class DigestParseError : public testing::TestWithParam<BadDigest> {};

TEST_P(DigestParseError, IsInvalidArgumentQuotingTheInput) {
    const auto e = error_of([&] { Digest::parse(GetParam().text); });
    ASSERT_TRUE(e) << GetParam().text;
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), AllOf(HasSubstr("invalid digest \""), HasSubstr(GetParam().why)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    DigestParseError,
    testing::Values(
        BadDigest{"", "empty"},
        BadDigest{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "no ':'"},
        BadDigest{"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                  "lowercase"},
        BadDigest{"SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "must be lowercase"},
        BadDigest{"sha256:e3b0c4", "has 6 hex digits, sha256 needs 64"},
        BadDigest{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550",
                  "has 65 hex digits"},
        BadDigest{"sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "hex digits"},
        BadDigest{"md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm \"md5\""},
        BadDigest{"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
                  "unsupported algorithm"},
        BadDigest{":abc", "algorithm before ':' is empty"},
        BadDigest{"sha256:", "empty"},
        BadDigest{"sha256+foo+-b:abc", "separator"},
        BadDigest{"-sha256:abc", "separator"},
        BadDigest{"sha 256:abc", "[a-z0-9+._-]"}));

TEST(DigestTest, ErrorQuotesHostileInputReadably) {
    const auto e = error_of([] { Digest::parse(std::string("sha256:\x01\n", 9)); });
    ASSERT_TRUE(e);
    EXPECT_THAT(e->what(), HasSubstr("\"sha256:\\x01\\x0a\""));
}

TEST(DigestTest, AnyAlgorithmFollowsTheOciGrammar) {
    for (const char* text :
         {"sha256+b64:c86f7763873b6c0aae22d963bab59b4f5debbed6685761b5951584f6efb",
          "sha256+foo-bar:abc", "sha256.foo-bar:abc",
          "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
          "sha256+b64u.unknownlength:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g=", kSha256Abc}) {
        const Digest d = Digest::parse_any_algorithm(text);
        EXPECT_EQ(d.to_string(), text);
    }
    const Digest other = Digest::parse_any_algorithm("multihash+base58:QmRZ");
    EXPECT_EQ(other.algorithm(), "multihash+base58");
    EXPECT_EQ(other.hex(), "QmRZ");
    EXPECT_FALSE(other.registered_algorithm());
    // Registered algorithms keep their strict rules, unknown ones the grammar's.
    for (const char* text :
         {"sha256:abc", "sha512:ABCD", "sha256+foo+-b:abc", "x:a.b", "x:", "X:abc"}) {
        EXPECT_TRUE(error_of([&] { Digest::parse_any_algorithm(text); })) << text;
    }
}

// ---- value semantics ----

TEST(DigestTest, EmptyValue) {
    const Digest d;
    EXPECT_TRUE(d.empty());
    EXPECT_EQ(d.to_string(), "");
    EXPECT_EQ(d.algorithm(), "");
    EXPECT_EQ(d.hex(), "");
    EXPECT_FALSE(d.registered_algorithm());
}

TEST(DigestTest, ComparesOrdersHashesAndPrints) {
    const Digest a = Digest::of("a");
    const Digest b = Digest::of("b");
    EXPECT_EQ(a, Digest::parse(a.to_string()));
    EXPECT_NE(a, b);
    EXPECT_EQ(a < b, a.to_string() < b.to_string());
    const std::set<Digest> ordered = {b, a, a};
    EXPECT_EQ(ordered.size(), 2u);
    const std::unordered_set<Digest> hashed = {a, b, Digest::parse(a.to_string())};
    EXPECT_EQ(hashed.size(), 2u);
    std::ostringstream out;
    out << a;
    EXPECT_EQ(out.str(), a.to_string());
}

// ---- DigestVerifier ----

TEST(DigestVerifierTest, AcceptsMatchingContent) {
    DigestVerifier verifier(Digest::parse(kSha256Abc), 3);
    verifier.update("a");
    verifier.update("bc");
    EXPECT_EQ(verifier.size(), 3);
    EXPECT_NO_THROW(verifier.finish());
}

TEST(DigestVerifierTest, AcceptsUnknownSize) {
    DigestVerifier verifier(Digest::parse(kSha512Abc));
    verifier.update("abc");
    EXPECT_NO_THROW(verifier.finish());
}

TEST(DigestVerifierTest, WrongContentNamesExpectedAndActual) {
    DigestVerifier verifier(Digest::parse(kSha256Abc), 3);
    verifier.update("abd");
    const auto e = error_of([&] { verifier.finish(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_THAT(e->what(), AllOf(HasSubstr(std::string("expected ") + kSha256Abc + " (3 bytes)"),
                                 HasSubstr("got " + Digest::of("abd").to_string() + " (3 bytes)")));
}

TEST(DigestVerifierTest, ShortContentIsAMismatch) {
    DigestVerifier verifier(Digest::parse(kSha256Abc), 4);
    verifier.update("abc");
    const auto e = error_of([&] { verifier.finish(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_THAT(e->what(), AllOf(HasSubstr("(4 bytes)"), HasSubstr("(3 bytes)")));
}

TEST(DigestVerifierTest, OversizedContentStopsEarly) {
    DigestVerifier verifier(Digest::parse(kSha256Abc), 3);
    verifier.update("ab");
    const auto e = error_of([&] { verifier.update("cd"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kDigestMismatch);
    EXPECT_THAT(e->what(), HasSubstr("longer"));
}

TEST(DigestVerifierTest, RefusesWhatItCannotCompute) {
    auto e = error_of([] { DigestVerifier(Digest::parse_any_algorithm("sha256+b64:abc")); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kUnsupported);
    e = error_of([] { DigestVerifier(Digest{}); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    e = error_of([] { DigestVerifier(Digest::of("x"), -1); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
}

// ---- ChainID ----

TEST(DigestTest, ChainIdsFollowTheIdentityRule) {
    const std::vector<Digest> diff_ids = {Digest::of("layer 0"), Digest::of("layer 1"),
                                          Digest::of("layer 2")};
    const std::vector<Digest> chain = xarch::chain_ids(diff_ids);
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0], diff_ids[0]);
    EXPECT_EQ(chain[1], Digest::of(diff_ids[0].to_string() + " " + diff_ids[1].to_string()));
    EXPECT_EQ(chain[2], Digest::of(chain[1].to_string() + " " + diff_ids[2].to_string()));
    EXPECT_EQ(xarch::chain_id(diff_ids), chain[2]);
    EXPECT_TRUE(xarch::chain_ids({}).empty());
    const auto e = error_of([] { xarch::chain_id({}); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
}

TEST(DigestTest, ChainIdStepMatchesImageSpecVector) {
    // identity/chainid_test.go: ChainID(sha256:a, sha256:b).
    EXPECT_EQ(xarch::oci::chain_id_step("sha256:a", "sha256:b"),
              "sha256:970a948bffa8de94d6e22d747ba8c95030e6e546909f98f54e99a13005e173a8");
}

}  // namespace
