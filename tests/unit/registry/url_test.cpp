// SPDX-License-Identifier: Apache-2.0
#include "registry/url.hpp"

#include <gtest/gtest.h>

namespace {

using namespace xarch::registry;

TEST(TransportUrl, ParsesAbsoluteUrls) {
    const auto url = parse_url("HTTPS://Registry.Example:5000/v2/a/b/blobs/uploads/x?_state=abc#f");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->scheme, "https");
    EXPECT_EQ(url->host, "registry.example");
    EXPECT_EQ(url->port, "5000");
    EXPECT_EQ(url->target, "/v2/a/b/blobs/uploads/x?_state=abc");
    EXPECT_EQ(url->authority(), "registry.example:5000");
    EXPECT_EQ(url->origin(), "https://registry.example:5000");
    EXPECT_EQ(parse_url("http://h")->target, "/");
    EXPECT_EQ(parse_url("http://h?x=1")->target, "/?x=1");
    EXPECT_EQ(parse_url("http://[::1]:5000/v2/")->host, "[::1]");
    EXPECT_EQ(parse_url("http://[::1]:5000/v2/")->authority(), "[::1]:5000");
}

TEST(TransportUrl, OriginMakesTheDefaultPortExplicit) {
    EXPECT_EQ(parse_url("https://h/")->origin(), parse_url("https://h:443/x")->origin());
    EXPECT_EQ(parse_url("http://h/")->origin(), "http://h:80");
    EXPECT_NE(parse_url("http://h/")->origin(), parse_url("https://h/")->origin());
}

TEST(TransportUrl, RejectsWhatIsNotAnHttpUrl) {
    for (const char* bad : {"", "h/v2/", "ftp://h/", "file:///etc/passwd", "http://", "http://:80/",
                            "http://u:p@h/", "http://h:0/", "http://h:65536/", "http://h:x/",
                            "http://h:/", "http://h h/", "http://[::1/", "http://h%2f/"}) {
        EXPECT_FALSE(parse_url(bad)) << bad;
    }
}

TEST(TransportUrl, ResolvesLocations) {
    const Url base = *parse_url("https://reg:5000/v2/a/blobs/uploads/");
    EXPECT_EQ(resolve_url(base, "/v2/a/blobs/uploads/u1?_state=s")->str(),
              "https://reg:5000/v2/a/blobs/uploads/u1?_state=s");
    EXPECT_EQ(resolve_url(base, "https://storage.example/b?sig=1")->str(),
              "https://storage.example/b?sig=1");
    EXPECT_EQ(resolve_url(base, "//cdn.example/x")->str(), "https://cdn.example/x");
    EXPECT_EQ(resolve_url(base, "u2")->str(), "https://reg:5000/v2/a/blobs/uploads/u2");
    EXPECT_EQ(resolve_url(base, "?x=1")->str(), "https://reg:5000/v2/a/blobs/uploads/?x=1");
    EXPECT_EQ(resolve_url(base, "  /trimmed  ")->str(), "https://reg:5000/trimmed");
    EXPECT_FALSE(resolve_url(base, "ftp://elsewhere/"));
}

TEST(TransportUrl, MessagesDropQueryFragmentAndUserinfo) {
    EXPECT_EQ(url_for_message("https://reg/v2/a/blobs/uploads/u?_state=SECRET&digest=x"),
              "https://reg/v2/a/blobs/uploads/u");
    EXPECT_EQ(url_for_message("https://s3.example/b?X-Amz-Signature=abc#frag"),
              "https://s3.example/b");
    EXPECT_EQ(url_for_message("https://user:pass@h/x?y"), "https://h/x");
    EXPECT_EQ(url_for_message("not a url?secret"), "not a url");
}

TEST(TransportUrl, PercentEncodesQueryValues) {
    EXPECT_EQ(percent_encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    EXPECT_EQ(percent_encode("a b&c=d~_.-"), "a%20b%26c%3Dd~_.-");
    EXPECT_EQ(percent_encode("\xff"), "%FF");
}

TEST(TransportUrl, LoopbackHosts) {
    for (const char* host : {"localhost", "localhost:5000", "LOCALHOST:1", "127.0.0.1",
                             "127.0.0.1:5000", "127.255.1.2:80", "[::1]", "[::1]:5000", "::1"}) {
        EXPECT_TRUE(is_loopback(host)) << host;
    }
    for (const char* host :
         {"128.0.0.1", "127.0.0", "127.0.0.1.5", "127.0.0.256", "localhost.example", "example.com",
          "192.0.2.1:5000", "[::2]:5000", "1127.0.0.1", ""}) {
        EXPECT_FALSE(is_loopback(host)) << host;
    }
}

TEST(TransportUrl, HostOfAuthority) {
    EXPECT_EQ(host_of("localhost:5000"), "localhost");
    EXPECT_EQ(host_of("[::1]:5000"), "[::1]");
    EXPECT_EQ(host_of("::1"), "::1");
    EXPECT_EQ(host_of("reg"), "reg");
}

TEST(TransportUrl, DockerHubApiHost) {
    EXPECT_EQ(api_authority("docker.io"), "registry-1.docker.io");
    EXPECT_EQ(api_authority("index.docker.io"), "registry-1.docker.io");
    EXPECT_EQ(api_authority("ghcr.io"), "ghcr.io");
    EXPECT_EQ(api_authority("LocalHost:5000"), "localhost:5000");
}

}  // namespace
