// SPDX-License-Identifier: Apache-2.0
// Reference: the distribution/reference grammar and ParseNormalizedNamed's normalization, the
// familiar form, round trips, errors that quote the input, and the value-type operations.
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace {

using testing::HasSubstr;
using testing::Not;
using xarch::Error;
using xarch::ErrorCode;
using xarch::Reference;

const std::string kHex64(64, 'f');
const std::string kDigest = "sha256:" + kHex64;
const std::string kBusyboxDigest =
    "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
const std::string kImageId = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

// The message of the Error that `parse` throws (checked to be kInvalidArgument), or "" when it
// does not throw.
template <typename Parse>
std::string error_of(Parse&& parse) {
    try {
        parse();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
        return e.what();
    }
    return "";
}

// ---- the valid table ----

struct Valid {
    std::string input;
    std::string registry;
    std::string repository;
    std::string tag;  // after the default: "latest" unless a digest was given without a tag
    std::string digest;
    std::string familiar;
};

std::vector<Valid> valid_cases() {
    const std::string a255(255, 'a');
    const std::string tag128 = "t" + std::string(127, 'x');
    std::string deep;  // a/a/.../a: 255 characters, the longest repository
    for (int i = 0; i < 127; ++i) {
        deep += "a/";
    }
    deep += "a";
    return {
        // distribution/reference's Parse table, through ParseNormalizedNamed.
        {"test_com", "docker.io", "library/test_com", "latest", "", "test_com:latest"},
        {"test.com:tag", "docker.io", "library/test.com", "tag", "", "test.com:tag"},
        {"test.com:5000", "docker.io", "library/test.com", "5000", "", "test.com:5000"},
        {"test.com/repo:tag", "test.com", "repo", "tag", "", "test.com/repo:tag"},
        {"test:5000/repo", "test:5000", "repo", "latest", "", "test:5000/repo:latest"},
        {"test:5000/repo:tag", "test:5000", "repo", "tag", "", "test:5000/repo:tag"},
        {"test:5000/repo@" + kDigest, "test:5000", "repo", "", kDigest,
         "test:5000/repo@" + kDigest},
        {"test:5000/repo:tag@" + kDigest, "test:5000", "repo", "tag", kDigest,
         "test:5000/repo:tag@" + kDigest},
        {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", "",
         "lowercase:Uppercase"},
        {deep + ":tag-puts-this-over-max", "docker.io", deep, "tag-puts-this-over-max", "",
         deep + ":tag-puts-this-over-max"},
        {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "latest", "",
         "sub-dom1.foo.com/bar/baz/quux:latest"},
        {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
         "some-long-tag", "", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"},
        {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
         "test.example.com", "", "b.gcr.io/test.example.com/my-app:test.example.com"},
        {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", "",
         "xn--n3h.com/myimage:xn--n3h.com"},
        {"xn--7o8h.com/myimage:xn--7o8h.com@" + kDigest, "xn--7o8h.com", "myimage", "xn--7o8h.com",
         kDigest, "xn--7o8h.com/myimage:xn--7o8h.com@" + kDigest},
        {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", "", "foo_bar.com:8080"},
        {"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", "",
         "foo/foo_bar.com:8080"},
        {"192.0.2.1", "docker.io", "library/192.0.2.1", "latest", "", "192.0.2.1:latest"},
        {"192.0.2.1:tag", "docker.io", "library/192.0.2.1", "tag", "", "192.0.2.1:tag"},
        {"192.0.2.1:5000", "docker.io", "library/192.0.2.1", "5000", "", "192.0.2.1:5000"},
        {"192.0.2.1/repo", "192.0.2.1", "repo", "latest", "", "192.0.2.1/repo:latest"},
        {"192.0.2.1:5000/repo", "192.0.2.1:5000", "repo", "latest", "",
         "192.0.2.1:5000/repo:latest"},
        {"192.0.2.1:5000/repo:5050", "192.0.2.1:5000", "repo", "5050", "",
         "192.0.2.1:5000/repo:5050"},
        {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", "latest", "", "[2001:db8::1]/repo:latest"},
        {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", "",
         "[2001:db8:1:2:3:4:5:6]/repo:tag"},
        {"[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "latest", "",
         "[2001:db8::1]:5000/repo:latest"},
        {"[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", "",
         "[2001:db8::1]:5000/repo:tag"},
        {"[2001:db8::1]:5000/repo@" + kDigest, "[2001:db8::1]:5000", "repo", "", kDigest,
         "[2001:db8::1]:5000/repo@" + kDigest},
        {"[2001:db8::1]:5000/repo:tag@" + kDigest, "[2001:db8::1]:5000", "repo", "tag", kDigest,
         "[2001:db8::1]:5000/repo:tag@" + kDigest},
        {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "latest", "",
         "[2001:db8::]:5000/repo:latest"},
        {"[::1]:5000/repo", "[::1]:5000", "repo", "latest", "", "[::1]:5000/repo:latest"},
        {"[::1]:5000/x", "[::1]:5000", "x", "latest", "", "[::1]:5000/x:latest"},
        {"example.com/" + a255 + ":tag", "example.com", a255, "tag", "",
         "example.com/" + a255 + ":tag"},
        // normalize_test.go: names Docker accepts, and what they normalize to.
        {"docker/docker", "docker.io", "docker/docker", "latest", "", "docker/docker:latest"},
        {"library/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
        {"debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
        {"busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
        {"localhost/library/debian", "localhost", "library/debian", "latest", "",
         "localhost/library/debian:latest"},
        {"localhost/debian", "localhost", "debian", "latest", "", "localhost/debian:latest"},
        {"LOCALDOMAIN/library/debian", "LOCALDOMAIN", "library/debian", "latest", "",
         "LOCALDOMAIN/library/debian:latest"},
        {"LOCALDOMAIN/debian", "LOCALDOMAIN", "debian", "latest", "", "LOCALDOMAIN/debian:latest"},
        {"docker.io/docker/docker", "docker.io", "docker/docker", "latest", "",
         "docker/docker:latest"},
        {"docker.io/library/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
        {"docker.io/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
        {"index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", "",
         "docker/docker:latest"},
        {"index.docker.io/library/debian", "docker.io", "library/debian", "latest", "",
         "debian:latest"},
        {"index.docker.io/debian", "docker.io", "library/debian", "latest", "", "debian:latest"},
        {"127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", "latest", "",
         "127.0.0.1:5000/docker/docker:latest"},
        {"127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "latest", "",
         "127.0.0.1:5000/library/debian:latest"},
        {"127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "latest", "",
         "127.0.0.1:5000/debian:latest"},
        {"192.0.2.1", "docker.io", "library/192.0.2.1", "latest", "", "192.0.2.1:latest"},
        {"192.0.2.1:80", "docker.io", "library/192.0.2.1", "80", "", "192.0.2.1:80"},
        {"192.0.2.1:8/debian", "192.0.2.1:8", "debian", "latest", "",
         "192.0.2.1:8/debian:latest"},
        {"192.0.2.2:25000/debian", "192.0.2.2:25000", "debian", "latest", "",
         "192.0.2.2:25000/debian:latest"},
        {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
         "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest", "",
         "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest"},
        {"[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "latest", "",
         "[fc00::1]:5000/docker:latest"},
        {"[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "latest", "",
         "[fc00::1]:5000/docker/docker:latest"},
        {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian",
         "latest", "", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest"},
        {"docker.io/" + kImageId, "docker.io", "library/" + kImageId, "latest", "",
         kImageId + ":latest"},
        {"Docker/docker", "Docker", "docker", "latest", "", "Docker/docker:latest"},
        {"DOCKER/docker", "DOCKER", "docker", "latest", "", "DOCKER/docker:latest"},
        {"docker-rules/docker", "docker.io", "docker-rules/docker", "latest", "",
         "docker-rules/docker:latest"},
        {"docker---rules/docker", "docker.io", "docker---rules/docker", "latest", "",
         "docker---rules/docker:latest"},
        {"doc/docker", "docker.io", "doc/docker", "latest", "", "doc/docker:latest"},
        {"d/docker", "docker.io", "d/docker", "latest", "", "d/docker:latest"},
        {"jess/t", "docker.io", "jess/t", "latest", "", "jess/t:latest"},
        {"dock__er/docker", "docker.io", "dock__er/docker", "latest", "", "dock__er/docker:latest"},
        {"busybox:latest@" + kBusyboxDigest, "docker.io", "library/busybox", "latest",
         kBusyboxDigest, "busybox:latest@" + kBusyboxDigest},
        {"nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", "latest", "",
         "nonlibrary/ubuntu:latest"},
        {"other/library", "docker.io", "other/library", "latest", "", "other/library:latest"},
        {"library/foo/bar", "docker.io", "library/foo/bar", "latest", "", "library/foo/bar:latest"},
        {"store/foo/bar", "docker.io", "store/foo/bar", "latest", "", "store/foo/bar:latest"},
        {"ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "latest", "",
         "ubuntu-12.04-base:latest"},
        {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "latest", "",
         "127.0.0.1:8000/private/moonbase:latest"},
        {"example.com:8000/privatebasee", "example.com:8000", "privatebasee", "latest", "",
         "example.com:8000/privatebasee:latest"},
        // The brief's forms and our own edges.
        {"localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", "", "localhost:5000/a/b:tag"},
        {"host.example/name@" + kDigest, "host.example", "name", "", kDigest,
         "host.example/name@" + kDigest},
        {"name:tag@" + kDigest, "docker.io", "library/name", "tag", kDigest, "name:tag@" + kDigest},
        {"busybox@" + kDigest, "docker.io", "library/busybox", "", kDigest, "busybox@" + kDigest},
        {"busybox@sha512:" + std::string(128, 'a'), "docker.io", "library/busybox", "",
         "sha512:" + std::string(128, 'a'), "busybox@sha512:" + std::string(128, 'a')},
        {"busybox@sha384:" + std::string(96, '0'), "docker.io", "library/busybox", "",
         "sha384:" + std::string(96, '0'), "busybox@sha384:" + std::string(96, '0')},
        {"localhost", "docker.io", "library/localhost", "latest", "", "localhost:latest"},
        {"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},
        {"docker.io/library/foo/bar", "docker.io", "library/foo/bar", "latest", "",
         "library/foo/bar:latest"},
        {"busybox:" + tag128, "docker.io", "library/busybox", tag128, "", "busybox:" + tag128},
        {"foo:_private", "docker.io", "library/foo", "_private", "", "foo:_private"},
        {"registry.example.com:443/ns/app:v1.2.3-rc.1", "registry.example.com:443", "ns/app",
         "v1.2.3-rc.1", "", "registry.example.com:443/ns/app:v1.2.3-rc.1"},
        {"a.b/c_d/e__f/g-h/i.j", "a.b", "c_d/e__f/g-h/i.j", "latest", "",
         "a.b/c_d/e__f/g-h/i.j:latest"},
        {"localhost:65535/x", "localhost:65535", "x", "latest", "", "localhost:65535/x:latest"},
        {"ghcr.io/owner/repo:sha-1234abc", "ghcr.io", "owner/repo", "sha-1234abc", "",
         "ghcr.io/owner/repo:sha-1234abc"},
        // Where distribution's familiar form would change the meaning, docker.io/ stays.
        {"docker.io/foo.bar/baz", "docker.io", "foo.bar/baz", "latest", "",
         "docker.io/foo.bar/baz:latest"},
        {"docker.io/localhost/x:1", "docker.io", "localhost/x", "1", "", "docker.io/localhost/x:1"},
        {"Registry.Example.COM/app", "Registry.Example.COM", "app", "latest", "",
         "Registry.Example.COM/app:latest"},
    };
}

// A parameter prints as its input with only [A-Za-z0-9._:/@-] kept: ctest's test names carry
// the printed value, and brackets, quotes or ';' there would break CMake's lists.
std::string printable(std::string_view input) {
    std::string out;
    for (char c : input.substr(0, 60)) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '/' ||
                          c == '@' || c == '-';
        out += keep ? c : '?';
    }
    return input.size() > 60 ? out + "..." : out;
}

void PrintTo(const Valid& c, std::ostream* out) {
    *out << printable(c.input);
}

class ReferenceValid : public testing::TestWithParam<Valid> {};

TEST_P(ReferenceValid, ParsesIntoParts) {
    const Valid& c = GetParam();
    SCOPED_TRACE(xarch::util::quote(c.input));
    const Reference r = Reference::parse(c.input);
    EXPECT_EQ(r.registry(), c.registry);
    EXPECT_EQ(r.repository(), c.repository);
    EXPECT_EQ(r.tag(), c.tag);
    EXPECT_EQ(r.digest(), c.digest);
    EXPECT_EQ(r.name(), c.registry + "/" + c.repository);
    EXPECT_EQ(r.familiar(), c.familiar);
    EXPECT_FALSE(r.empty());
}

TEST_P(ReferenceValid, RoundTripsThroughCanonicalAndFamiliarForms) {
    const Reference r = Reference::parse(GetParam().input);
    EXPECT_EQ(Reference::parse(r.to_string()), r);
    EXPECT_EQ(Reference::parse(r.to_string()).to_string(), r.to_string());
    EXPECT_EQ(Reference::parse(r.familiar()), r);
    EXPECT_EQ(std::hash<Reference>{}(Reference::parse(r.familiar())), std::hash<Reference>{}(r));
}

TEST_P(ReferenceValid, CanonicalFormIsFullyQualified) {
    const Valid& c = GetParam();
    std::string expected = c.registry + "/" + c.repository;
    if (!c.tag.empty()) {
        expected += ":" + c.tag;
    }
    if (!c.digest.empty()) {
        expected += "@" + c.digest;
    }
    EXPECT_EQ(Reference::parse(c.input).to_string(), expected);
}

std::string case_name(const testing::TestParamInfo<Valid>& info) {
    return "case" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Table, ReferenceValid, testing::ValuesIn(valid_cases()), case_name);

// ---- the invalid table ----

struct Invalid {
    std::string input;
    std::string why;  // a part of the message
};

std::vector<Invalid> invalid_cases() {
    const std::string too_long_namespace =
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
        "namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_"
        "its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_"
        "greater_than_255/docker";
    using namespace std::string_literals;
    return {
        // distribution/reference's own invalid inputs.
        {"", "empty"},
        {":justtag", "repository name is missing"},
        {"@" + kDigest, "repository name is missing"},
        {"repo@sha256:" + std::string(34, 'f'), "must have 64 hex digits"},
        {"validname@invaliddigest:" + kHex64, "unsupported digest algorithm"},
        {"Uppercase:tag", "must be lowercase"},
        {"test:5000/Uppercase/lowercase:tag", "must be lowercase"},
        {"domain/" + std::string(256, 'a') + ":tag", "more than 255 characters"},
        {"example.com/" + std::string(256, 'a'), "more than 255 characters"},
        {"aa/asdf$$^/aa", "invalid character"},
        {"[2001:db8::1]", "invalid character"},
        {"[2001:db8::1]:5000", "invalid character"},
        {"[2001:db8::1]:tag", "invalid character"},
        {"[fe80::1%eth0]:5000/repo", "IPv6"},
        {"[fe80::1%@invalidzone]:5000/repo", "IPv6"},
        {"https://github.com/docker/docker", "empty port"},
        {"docker/Docker", "must be lowercase"},
        {"-docker", "must start and end with a lowercase letter or digit"},
        {"-docker/docker", "must start and end"},
        {"-docker.io/docker/docker", "registry host"},
        {"docker///docker", "empty path component"},
        {"docker.io/docker/Docker", "must be lowercase"},
        {"docker.io/docker///docker", "empty path component"},
        {"[fc00::1]", "tag"},
        {"[fc00::1]:5000", "tag"},
        {"fc00::1:5000/debian", "more than one ':'"},
        {"[2001:db8:3:4::192.0.2.33]:5000/debian", "IPv6"},
        {kImageId, "image ID"},
        {"docker-/docker", "must start and end"},
        {"-docker-/docker", "must start and end"},
        {"____/____", "must start and end"},
        {"_docker/_docker", "must start and end"},
        {"dock..er/docker", "registry host"},
        {"dock_.er/docker", "registry host"},
        {"dock-.er/docker", "registry host"},
        {"docker/", "empty path component"},
        {too_long_namespace, "more than 255 characters"},
        {"busybox:" + std::string(129, 'a'), "more than 128 characters"},
        {"busybox@" + kDigest.substr(0, 40), "must have 64 hex digits"},
        // Tags.
        {"busybox:", "empty tag"},
        {"busybox:-tag", "must start with a letter, digit or '_'"},
        {"busybox:.tag", "must start with a letter, digit or '_'"},
        {"busybox:tag!", "invalid character"},
        {"busybox:tag:more", "invalid character"},
        {"busybox:ta/g", "not a number"},
        {"name:tag@", "empty digest"},
        // Digests.
        {"busybox@", "empty digest"},
        {"busybox@sha256:" + std::string(64, 'F'), "lowercase hex"},
        {"busybox@sha256:" + std::string(63, 'a') + "g", "non-hex"},
        {"busybox@md5:" + std::string(32, 'a'), "unsupported digest algorithm"},
        {"busybox@SHA256:" + kHex64, "digest algorithm"},
        {"busybox@sha256", "algorithm:hex"},
        {"busybox@sha256:", "must have 64 hex digits"},
        {"busybox@sha512:" + kHex64, "must have 128 hex digits"},
        {"busybox@" + kDigest + "@" + kDigest, "non-hex"},
        {"busybox@sha256+:" + kHex64, "digest algorithm"},
        // Registries and ports.
        {"localhost:0/foo", "out of range"},
        {"localhost:65536/foo", "out of range"},
        {"localhost:99999999999999999999/foo", "out of range"},
        {"localhost:/foo", "empty port"},
        {"localhost:50x0/foo", "not a number"},
        {"bad_host.com/foo", "registry host"},
        {"Foo_bar/x", "repository name \"Foo_bar\" must be lowercase"},
        {"Foo-/x", "must be lowercase"},
        {"example..com/foo", "registry host"},
        {"ex-.com/foo", "registry host"},
        {"foo./bar", "registry host"},
        {"example.com:5000:6000/foo", "more than one ':'"},
        {"[::1/foo", "no closing ']'"},
        {"[::1]x/foo", "text after ']'"},
        {"[]:5000/foo", "IPv6"},
        // Paths.
        {"/busybox", "empty path component"},
        {"foo//bar", "empty path component"},
        {"docker.io/", "repository name is missing"},
        {"localhost/", "repository name is missing"},
        {"example.com/foo/", "empty path component"},
        {"foo/bar-", "must start and end"},
        {"foo/.bar", "must start and end"},
        {"foo/b___ar", "separator"},
        {"foo/b..ar", "separator"},
        {"foo/b_.ar", "separator"},
        {"foo/b-.ar", "separator"},
        {"foo/b+ar", "invalid character"},
        {std::string(251, 'a'), "more than 255 characters"},
        // Whitespace, control characters and other bytes that could end up in a request line.
        {"busy box", "whitespace"},
        {" busybox", "whitespace"},
        {"busybox ", "whitespace"},
        {"busybox\t", "whitespace or control"},
        {"busybox:latest\n", "whitespace or control"},
        {"busybox\r\nX-Injected: 1", "whitespace or control"},
        {"localhost:5000/foo:tag\r\nHost: evil", "whitespace or control"},
        {"busy\0box"s, "whitespace or control"},
        {"bus\x7fybox", "whitespace or control"},
        {"b\xc3\xbcsybox", "ASCII"},
    };
}

void PrintTo(const Invalid& c, std::ostream* out) {
    *out << printable(c.input);
}

class ReferenceInvalid : public testing::TestWithParam<Invalid> {};

TEST_P(ReferenceInvalid, IsRefusedWithAMessageQuotingTheInput) {
    const Invalid& c = GetParam();
    const std::string message = error_of([&] { Reference::parse(c.input); });
    ASSERT_FALSE(message.empty()) << "parsed: " << xarch::util::quote(c.input);
    EXPECT_THAT(message, HasSubstr(c.why));
    EXPECT_THAT(message, HasSubstr(xarch::util::quote(c.input)));
    // Whatever the input, the message is one printable line.
    for (char ch : message) {
        EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << message;
    }
}

TEST_P(ReferenceInvalid, IsRefusedAsARepositoryToo) {
    SCOPED_TRACE(xarch::util::quote(GetParam().input));
    EXPECT_THROW(Reference::parse_repository(GetParam().input), Error);
}

std::string invalid_name(const testing::TestParamInfo<Invalid>& info) {
    return "case" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Table, ReferenceInvalid, testing::ValuesIn(invalid_cases()), invalid_name);

TEST(ReferenceTables, AreLargeEnough) {
    EXPECT_GE(valid_cases().size() + invalid_cases().size(), 80U);
}

// ---- operations ----

TEST(ReferenceNormalization, FamiliarAndFullSpellingsAreEqual) {
    const Reference a = Reference::parse("busybox");
    EXPECT_EQ(a.to_string(), "docker.io/library/busybox:latest");
    EXPECT_EQ(a, Reference::parse("busybox:latest"));
    EXPECT_EQ(a, Reference::parse("library/busybox"));
    EXPECT_EQ(a, Reference::parse("docker.io/busybox"));
    EXPECT_EQ(a, Reference::parse("docker.io/library/busybox:latest"));
    EXPECT_EQ(a, Reference::parse("index.docker.io/library/busybox"));
    EXPECT_NE(a, Reference::parse("busybox:1.36"));
    EXPECT_NE(a, Reference::parse("localhost/busybox"));

    std::unordered_set<Reference> set;
    set.insert(a);
    set.insert(Reference::parse("index.docker.io/busybox:latest"));
    set.insert(Reference::parse("busybox:1.36"));
    EXPECT_EQ(set.size(), 2U);
}

TEST(ReferenceNormalization, FamiliarNameDropsOnlyOfficialLibrary) {
    EXPECT_EQ(Reference::parse("busybox:1").familiar_name(), "busybox");
    EXPECT_EQ(Reference::parse("docker.io/library/a/b").familiar_name(), "library/a/b");
    EXPECT_EQ(Reference::parse("user/app").familiar_name(), "user/app");
    EXPECT_EQ(Reference::parse("localhost:5000/library/x").familiar_name(),
              "localhost:5000/library/x");
}

TEST(ReferenceIdentifier, IsDigestThenTagThenLatest) {
    EXPECT_EQ(Reference::parse("busybox").identifier(), "latest");
    EXPECT_EQ(Reference::parse("busybox:1.36").identifier(), "1.36");
    EXPECT_EQ(Reference::parse("busybox:1.36@" + kDigest).identifier(), kDigest);
    EXPECT_EQ(Reference::parse("busybox@" + kDigest).identifier(), kDigest);
    EXPECT_EQ(Reference::parse_repository("busybox").identifier(), "latest");
}

TEST(ReferenceApiHost, MapsDockerHubToItsRegistryHost) {
    EXPECT_EQ(Reference::parse("busybox").api_host(), "registry-1.docker.io");
    EXPECT_EQ(Reference::parse("index.docker.io/x/y").api_host(), "registry-1.docker.io");
    EXPECT_EQ(Reference::parse("localhost:5000/x").api_host(), "localhost:5000");
    EXPECT_EQ(Reference::parse("[::1]:5000/x").api_host(), "[::1]:5000");
    EXPECT_EQ(Reference::parse("ghcr.io/o/r").api_host(), "ghcr.io");
}

TEST(ReferenceParseRepository, TakesANameWithoutTagOrDigest) {
    const Reference r = Reference::parse_repository("busybox");
    EXPECT_EQ(r.to_string(), "docker.io/library/busybox");
    EXPECT_EQ(r.familiar(), "busybox");
    EXPECT_FALSE(r.has_tag());
    EXPECT_FALSE(r.has_digest());
    EXPECT_EQ(Reference::parse_repository("localhost:5000/a/b").name(), "localhost:5000/a/b");

    EXPECT_THAT(error_of([] { Reference::parse_repository("busybox:1"); }),
                HasSubstr("no tag or digest"));
    EXPECT_THAT(error_of([] { Reference::parse_repository("busybox@" + kDigest); }),
                HasSubstr("no tag or digest"));
    EXPECT_THAT(error_of([] { Reference::parse_repository("busybox:1"); }),
                HasSubstr("\"busybox:1\""));
}

TEST(ReferenceWith, ReplacesTagAndDigest) {
    const Reference r = Reference::parse("localhost:5000/app:1");
    EXPECT_EQ(r.with_tag("2").to_string(), "localhost:5000/app:2");
    EXPECT_EQ(r.with_digest(kDigest).to_string(), "localhost:5000/app:1@" + kDigest);
    EXPECT_EQ(r.with_digest(kDigest).without_tag().to_string(), "localhost:5000/app@" + kDigest);
    EXPECT_EQ(r.with_digest(kDigest).without_digest(), r);
    EXPECT_EQ(r.without_tag(), Reference::parse_repository("localhost:5000/app"));
    // The original is a value and stays as it was.
    EXPECT_EQ(r.to_string(), "localhost:5000/app:1");
}

TEST(ReferenceWith, ValidatesTheNewPart) {
    const Reference r = Reference::parse("app");
    EXPECT_THAT(error_of([&] { r.with_tag(""); }), HasSubstr("empty tag"));
    EXPECT_THAT(error_of([&] { r.with_tag("-x"); }), HasSubstr("\"-x\""));
    EXPECT_THAT(error_of([&] { r.with_tag(std::string(129, 'a')); }), HasSubstr("more than 128"));
    EXPECT_THAT(error_of([&] { r.with_tag("a\r\nb"); }), HasSubstr("\\x0d"));
    EXPECT_THAT(error_of([&] { r.with_digest("sha256:abc"); }), HasSubstr("64 hex digits"));
    EXPECT_THAT(error_of([&] { r.with_digest("nope"); }), HasSubstr("\"nope\""));
    EXPECT_THAT(error_of([&] { r.with_digest("md5:" + std::string(32, '0')); }),
                HasSubstr("unsupported"));
}

TEST(ReferenceValue, DefaultIsEmpty) {
    const Reference r;
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.to_string(), "");
    EXPECT_EQ(r.name(), "");
    EXPECT_EQ(r, Reference());
    EXPECT_NE(r, Reference::parse("busybox"));
}

TEST(ReferenceValue, StreamsItsCanonicalForm) {
    std::ostringstream out;
    out << Reference::parse("busybox:1");
    EXPECT_EQ(out.str(), "docker.io/library/busybox:1");
}

TEST(ReferenceErrors, NameTheOffendingPart) {
    EXPECT_THAT(error_of([] { Reference::parse("docker.io/Foo/bar"); }),
                HasSubstr("repository name \"Foo/bar\" must be lowercase"));
    EXPECT_THAT(error_of([] { Reference::parse("localhost:8o/x"); }), HasSubstr("\"8o\""));
    EXPECT_THAT(error_of([] { Reference::parse("busybox@sha256:" + std::string(64, 'F')); }),
                HasSubstr("lowercase hex"));
    // A hostile input is shown escaped and shortened, never raw.
    const std::string hostile = "x\r\n" + std::string(500, 'y');
    const std::string message = error_of([&] { Reference::parse(hostile); });
    EXPECT_THAT(message, HasSubstr("\\x0d\\x0a"));
    EXPECT_THAT(message, Not(HasSubstr("\r")));
    EXPECT_LT(message.size(), 300U);
}

// Random strings over the grammar's alphabet: every input either parses into a value that
// round-trips or is refused with an Error; nothing else happens.
TEST(ReferenceFuzz, ParsesOrThrowsAndRoundTrips) {
    constexpr std::string_view kAlphabet = "abcxyz019ABZ._-/:@[]% \r\n\x01\x80";
    std::mt19937 random(12345);
    std::uniform_int_distribution<std::size_t> length(0, 40);
    std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
    std::uniform_int_distribution<int> suffix(0, 3);
    int parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text;
        const std::size_t n = length(random);
        for (std::size_t j = 0; j < n; ++j) {
            text += kAlphabet[pick(random)];
        }
        const int s = suffix(random);
        if (s == 1) {
            text += "@" + kDigest;
        } else if (s == 2) {
            text += ":v1";
        }
        try {
            const Reference r = Reference::parse(text);
            ++parsed;
            EXPECT_EQ(Reference::parse(r.to_string()), r) << xarch::util::quote(text);
            EXPECT_EQ(Reference::parse(r.familiar()), r) << xarch::util::quote(text);
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        }
    }
    EXPECT_GT(parsed, 100);
}

}  // namespace
