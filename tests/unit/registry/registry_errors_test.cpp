// SPDX-License-Identifier: Apache-2.0
#include "registry/registry_errors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace xarch::registry;
using xarch::ErrorCode;

TEST(TransportErrors, ParsesDistributionBodies) {
    const auto errors = parse_error_body(
        R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},)"
        R"({"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})");
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].code, "MANIFEST_UNKNOWN");
    EXPECT_EQ(errors[0].message, "manifest unknown");
    EXPECT_EQ(errors[1].code, "NAME_UNKNOWN");
}

TEST(TransportErrors, MalformedOrHugeBodiesGiveNothing) {
    for (const std::string& body :
         {std::string(), std::string("<html>502</html>"), std::string(R"({"errors":)"),
          std::string(R"({"errors":{}})"), std::string(R"({"errors":[1,"x",{"code":5}]})"),
          std::string("[]"), std::string("null")}) {
        EXPECT_TRUE(parse_error_body(body).empty()) << body;
    }
    const std::string huge =
        R"({"errors":[{"code":"X","message":")" + std::string(kMaxErrorBody, 'a') + R"("}]})";
    EXPECT_TRUE(parse_error_body(huge).empty());
}

TEST(TransportErrors, MessageFormat) {
    const auto info = describe_http_error(
        "GET", "https://127.0.0.1:5000/v2/library/busybox/manifests/latest", 404,
        R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
    EXPECT_EQ(info.message,
              "GET https://127.0.0.1:5000/v2/library/busybox/manifests/latest: 404 "
              "MANIFEST_UNKNOWN: manifest unknown");
    EXPECT_EQ(info.code, ErrorCode::kNotFound);
    EXPECT_EQ(info.http_status, 404);
    EXPECT_EQ(info.distribution_code, "MANIFEST_UNKNOWN");
    EXPECT_FALSE(info.temporary);
}

TEST(TransportErrors, StatusMapping) {
    EXPECT_EQ(describe_http_error("GET", "http://h/v2/", 401, "").code, ErrorCode::kAuthentication);
    EXPECT_EQ(describe_http_error("GET", "http://h/v2/", 403, "").code,
              ErrorCode::kPermissionDenied);
    EXPECT_EQ(describe_http_error("GET", "http://h/v2/", 405, "").code, ErrorCode::kUnsupported);
    EXPECT_EQ(describe_http_error("PUT", "http://h/v2/", 400,
                                  R"({"errors":[{"code":"DIGEST_INVALID","message":"x"}]})")
                  .code,
              ErrorCode::kDigestMismatch);
    EXPECT_EQ(describe_http_error("GET", "http://h/v2/", 400, "").code, ErrorCode::kRegistry);
    for (int status : {408, 429, 500, 502, 503, 504, 599}) {
        EXPECT_TRUE(describe_http_error("GET", "http://h/", status, "").temporary) << status;
    }
    for (int status : {400, 401, 403, 404, 409, 501, 505}) {
        EXPECT_FALSE(describe_http_error("GET", "http://h/", status, "").temporary) << status;
    }
    EXPECT_TRUE(
        describe_http_error("GET", "http://h/", 400, R"({"errors":[{"code":"TOOMANYREQUESTS"}]})")
            .temporary);
}

TEST(TransportErrors, NoBodyGivesTheReasonPhrase) {
    EXPECT_EQ(describe_http_error("HEAD", "http://h/v2/a/blobs/sha256:x", 500, "").message,
              "HEAD http://h/v2/a/blobs/sha256:x: 500 Internal Server Error");
    EXPECT_EQ(describe_http_error("GET", "http://h/x", 502, "upstream connect error").message,
              "GET http://h/x: 502 Bad Gateway: upstream connect error");
    EXPECT_EQ(describe_http_error("GET", "http://h/x", 502, "<html>big page</html>").message,
              "GET http://h/x: 502 Bad Gateway");
    EXPECT_EQ(describe_http_error("GET", "http://h/x", 299, "").message, "GET http://h/x: 299");
}

TEST(TransportErrors, QueryIsNotShownAndServerTextIsSanitized) {
    const auto info = describe_http_error(
        "PATCH", "https://reg/v2/a/blobs/uploads/u?_state=SECRETSTATE", 500,
        R"({"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"bad\r\nInjected: header"}]})");
    EXPECT_EQ(info.message.find("SECRETSTATE"), std::string::npos);
    EXPECT_EQ(info.message.find('\n'), std::string::npos);
    EXPECT_NE(info.message.find("bad\\x0d\\x0aInjected"), std::string::npos);
    const auto many = describe_http_error(
        "GET", "http://h/", 400, R"({"errors":[{"code":"A","message":"a"},{"code":"B"}]})");
    EXPECT_EQ(many.message, "GET http://h/: 400 A: a (and 1 more: B)");
}

TEST(TransportErrors, ThrowErrorPicksTheClass) {
    auto info = describe_http_error("GET", "http://h/", 401, "");
    EXPECT_THROW(throw_error(info), xarch::AuthError);
    info = describe_http_error("GET", "http://h/", 503, "");
    try {
        throw_error(info);
    } catch (const xarch::AuthError&) {
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_TRUE(e.temporary());
        EXPECT_EQ(e.http_status(), 503);
    }
}

TEST(TransportErrors, Redaction) {
    EXPECT_EQ(redact("token abc123 and abc123 again", {"abc123", ""}),
              "token <redacted> and <redacted> again");
    EXPECT_EQ(redact("nothing here", {"secret"}), "nothing here");
    // A secret that contains the replacement text does not loop.
    EXPECT_EQ(redact("x<redacted>x", {"<redacted>"}), "x<redacted>x");
}

TEST(TransportErrors, SanitizeCutsLongText) {
    EXPECT_EQ(sanitize_for_message(std::string(10, 'a'), 4), "aaaa...");
    EXPECT_EQ(sanitize_for_message("\x01\xff"), "\\x01\\xff");
}

}  // namespace
