// SPDX-License-Identifier: Apache-2.0
// The transport against scripted loopback servers: scheme fallback, Basic and Bearer flows,
// retries, resumed downloads, redirects and redaction, deterministically and offline. The same
// behaviour against the real registry is in tests/integration/transport_test.cpp.
#include "registry/transport.hpp"

#include "unit/registry/test_server.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace xarch::registry;
using namespace std::chrono_literals;
using xarch::test::reply;
using xarch::test::Reply;
using xarch::test::ServerRequest;
using xarch::test::TestServer;

constexpr const char* kPassword = "s3cret-Pa55word";

TransportOptions options(std::optional<xarch::Credentials> creds = std::nullopt) {
    TransportOptions o;
    o.certs_dir = "";
    o.retry.initial_backoff = 5ms;
    o.retry.max_backoff = 20ms;
    o.retry.max_attempts = 3;
    o.connect_timeout = 5s;
    if (creds) {
        o.credentials = [creds](std::string_view) { return creds; };
    }
    return o;
}

xarch::Credentials user(std::string password = kPassword) {
    xarch::Credentials c;
    c.username = "bob";
    c.password = std::move(password);
    return c;
}

TransportRequest get(std::string target, std::vector<std::string> scopes = {}) {
    TransportRequest request;
    request.target = std::move(target);
    request.scopes = std::move(scopes);
    return request;
}

std::string unauthorized_body() {
    return R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
}

// ---- Scheme selection ---------------------------------------------------------------------

TEST(TransportScheme, LoopbackFallsBackToPlainHttp) {
    TestServer server([](const ServerRequest&) { return reply(200, "{}"); });
    Session session(options());
    const auto transport = session.transport(server.authority());
    EXPECT_EQ(transport->scheme(), Scheme::kHttp);
    EXPECT_EQ(transport->base_url(), "http://" + server.authority());
    // Settled once: later calls do not ping again.
    transport->ping();
    EXPECT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(session.transport(server.authority()), transport);
}

TEST(TransportScheme, NotInsecureMeansHttpsOnlyWithAClearError) {
    TestServer server([](const ServerRequest&) { return reply(200, "{}"); });
    TransportOptions o = options();
    o.insecure_loopback = false;
    Session session(o);
    try {
        session.transport(server.authority())->ping();
        ADD_FAILURE();
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.failure(), NetworkFailure::kTls);
        EXPECT_FALSE(e.temporary());
        const std::string message = e.what();
        EXPECT_NE(message.find("GET https://" + server.authority() + "/v2/: TLS handshake failed"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("insecure"), std::string::npos) << message;
    }
    EXPECT_EQ(server.requests().size(), 0u);
}

TEST(TransportScheme, ListedInsecureRegistryMayUsePlainHttp) {
    TestServer server([](const ServerRequest&) { return reply(200, "{}"); });
    TransportOptions o = options();
    o.insecure_loopback = false;
    o.insecure_registries = {"http://" + server.authority() + "/"};
    Session session(o);
    EXPECT_EQ(session.transport(server.authority())->scheme(), Scheme::kHttp);
}

TEST(TransportScheme, UnreachableRegistryIsATemporaryNetworkError) {
    int port = 0;
    {
        TestServer gone([](const ServerRequest&) { return reply(200); });
        port = std::stoi(gone.authority().substr(10));
    }
    Session session(options());
    try {
        session.transport("127.0.0.1:" + std::to_string(port))->ping();
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kNetwork);
        EXPECT_TRUE(e.temporary());
        EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts"), std::string::npos)
            << e.what();
    }
}

TEST(TransportScheme, UnreachableRegistryIsTriedMaxAttemptsTimesBySend) {
    int port = 0;
    {
        TestServer gone([](const ServerRequest&) { return reply(200); });
        port = std::stoi(gone.authority().substr(10));
    }
    Session session(options());
    try {
        // send() retries the whole request, its ping included: 3 attempts, not 3 times 3, and
        // the message says so once.
        session.transport("127.0.0.1:" + std::to_string(port))->send(get("/v2/a/manifests/x"));
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.code(), xarch::ErrorCode::kNetwork);
        const auto first = message.find("(gave up after 3 attempts)");
        EXPECT_NE(first, std::string::npos) << message;
        EXPECT_EQ(message.find("gave up", first + 2), std::string::npos) << message;
    }
}

TEST(TransportScheme, BadRegistryNamesAreRefused) {
    Session session(options());
    for (const char* bad : {"", "a b", "host/path", "h:99999", "user@host"}) {
        EXPECT_THROW(session.transport(bad), xarch::Error) << bad;
    }
}

// ---- Basic --------------------------------------------------------------------------------

Reply basic_registry(const ServerRequest& r) {
    if (r.header("authorization") != basic_authorization("bob", kPassword)) {
        return reply(401, unauthorized_body(),
                     {{"WWW-Authenticate", R"(Basic realm="Registry Realm")"}});
    }
    return reply(200, "ok " + r.target);
}

TEST(TransportBasic, SendsCredentialsOnEveryRequest) {
    TestServer server(basic_registry);
    Session session(options(user()));
    const auto transport = session.transport(server.authority());
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(transport->send(get("/v2/a/manifests/x")).body, "ok /v2/a/manifests/x");
    }
    // The ping (anonymous, 401) and three requests, each authenticated at once.
    EXPECT_EQ(server.requests().size(), 4u);
}

TEST(TransportBasic, WrongPasswordIsAnAuthErrorWithoutThePassword) {
    TestServer server(basic_registry);
    Session session(options(user("wrong-password-value")));
    try {
        session.transport(server.authority())->send(get("/v2/a/manifests/x"));
        ADD_FAILURE();
    } catch (const xarch::AuthError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.http_status(), 401);
        EXPECT_NE(message.find("401 UNAUTHORIZED"), std::string::npos) << message;
        EXPECT_NE(message.find("refused the credentials"), std::string::npos) << message;
        EXPECT_EQ(message.find("wrong-password-value"), std::string::npos) << message;
    }
}

TEST(TransportBasic, MissingCredentialsSaySo) {
    TestServer server(basic_registry);
    Session session(options());
    try {
        session.transport(server.authority())->send(get("/v2/a/manifests/x"));
        ADD_FAILURE();
    } catch (const xarch::AuthError& e) {
        EXPECT_NE(std::string(e.what()).find("no credentials were found"), std::string::npos)
            << e.what();
    }
}

// ---- Bearer -------------------------------------------------------------------------------

// A registry with its token service on the same port. Tokens are "tok-N"; a token grants the
// scopes it was asked for, except push on repositories under denied/.
class BearerRegistry {
public:
    explicit BearerRegistry(int expires_in = 300, bool oauth = false)
        : expires_in_(expires_in),
          oauth_(oauth),
          server_([this](const ServerRequest& r) { return handle(r); }) {}

    std::string authority() const { return server_.authority(); }
    std::size_t token_requests() const { return server_.count("/token"); }
    const TestServer& server() const { return server_; }
    std::vector<std::string> token_queries() const {
        std::vector<std::string> out;
        for (const auto& r : server_.requests()) {
            if (r.target.rfind("/token", 0) == 0) {
                out.push_back(r.method + " " + r.target + " " + r.body);
            }
        }
        return out;
    }
    std::string last_token_auth() const {
        std::string out;
        for (const auto& r : server_.requests()) {
            if (r.target.rfind("/token", 0) == 0) {
                out = r.header("authorization");
            }
        }
        return out;
    }

private:
    std::string challenge(const std::string& scope, bool insufficient) const {
        std::string value = R"(Bearer realm=")" + server_.url("/token") + R"(",service="svc")";
        if (!scope.empty()) {
            value += R"(,scope=")" + scope + R"(")";
        }
        if (insufficient) {
            value += R"(,error="insufficient_scope")";
        }
        return value;
    }

    Reply handle(const ServerRequest& r) {
        if (r.target.rfind("/token", 0) == 0) {
            if (r.method == "POST" && !oauth_) {
                return reply(404, "no oauth here");
            }
            const std::string auth = r.header("authorization");
            if (!auth.empty() && auth != basic_authorization("bob", kPassword)) {
                return reply(401, R"({"details":"bad credentials"})");
            }
            std::string scopes = r.target + " " + r.body;
            std::string granted;
            for (const char* repo : {"a", "b", "src", "dst", "denied/x"}) {
                for (const char* encoded : {"%3Apull%2Cpush", "%3Apull"}) {
                    const std::string needle =
                        std::string("repository%3A") +
                        (std::string(repo) == "denied/x" ? "denied%2Fx" : repo) + encoded;
                    if (scopes.find(needle) != std::string::npos) {
                        const bool push = std::string(encoded).find("push") != std::string::npos;
                        granted +=
                            std::string(repo) + ":" +
                            (push && std::string(repo) != "denied/x" ? "pull,push" : "pull") + ";";
                        break;
                    }
                }
            }
            const int n = ++issued_;
            {
                const std::lock_guard lock(mutex_);
                grants_["tok-" + std::to_string(n)] = granted;
            }
            return reply(200, R"({"token":"tok-)" + std::to_string(n) + R"(","expires_in":)" +
                                  std::to_string(expires_in_) + "}");
        }
        if (r.target == "/v2/") {
            return reply(401, unauthorized_body(), {{"WWW-Authenticate", challenge("", false)}});
        }
        // /v2/<repo>/<kind>/...: the repository is everything up to the kind.
        std::string repo = r.target.substr(4);
        for (const char* kind : {"/manifests/", "/blobs/"}) {
            if (const auto at = repo.find(kind); at != std::string::npos) {
                repo = repo.substr(0, at);
            }
        }
        const bool push = r.method != "GET" && r.method != "HEAD";
        const std::string needed = repo + ":" + (push ? "pull,push" : "pull") + ";";
        const std::string scope = "repository:" + repo + ":" + (push ? "pull,push" : "pull");
        const std::string auth = r.header("authorization");
        if (auth.rfind("Bearer ", 0) != 0) {
            return reply(401, unauthorized_body(), {{"WWW-Authenticate", challenge(scope, false)}});
        }
        std::string granted;
        {
            const std::lock_guard lock(mutex_);
            granted = grants_[auth.substr(7)];
        }
        if (granted.find(needed) == std::string::npos) {
            return reply(
                401,
                R"({"errors":[{"code":"UNAUTHORIZED","message":"access to the requested resource is not authorized for )" +
                    auth.substr(7) + R"("}]})",
                {{"WWW-Authenticate", challenge(scope, true)}});
        }
        return reply(push ? 201 : 200, "content of " + r.target);
    }

    int expires_in_;
    bool oauth_;
    std::atomic<int> issued_{0};
    std::mutex mutex_;
    std::map<std::string, std::string> grants_;
    TestServer server_;
};

TEST(TransportBearer, TokenIsFetchedOnceAndReused) {
    BearerRegistry registry;
    Session session(options(user()));
    const auto transport = session.transport(registry.authority());
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(transport->send(get("/v2/a/manifests/x", {repository_scope("a", "pull")})).body,
                  "content of /v2/a/manifests/x");
    }
    EXPECT_EQ(registry.token_requests(), 1u);
    const auto queries = registry.token_queries();
    EXPECT_NE(queries.at(0).find("service=svc"), std::string::npos) << queries.at(0);
    EXPECT_NE(queries.at(0).find("scope=repository%3Aa%3Apull"), std::string::npos);
    EXPECT_EQ(registry.last_token_auth(), basic_authorization("bob", kPassword));
    EXPECT_EQ(session.tokens().fetches(), 1u);
}

TEST(TransportBearer, ParallelRequestsShareOneToken) {
    BearerRegistry registry;
    Session session(options(user()));
    const auto transport = session.transport(registry.authority());
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 3; ++i) {
                if (transport->send(get("/v2/a/blobs/x", {repository_scope("a", "pull")})).status ==
                    200) {
                    ++ok;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(ok.load(), 24);
    EXPECT_EQ(registry.token_requests(), 1u);
    std::size_t pings = 0;
    for (const auto& r : registry.server().requests()) {
        pings += r.target == "/v2/" ? 1 : 0;
    }
    EXPECT_EQ(pings, 1u);  // one ping for all threads
}

TEST(TransportBearer, AnonymousTokensHaveNoAuthorization) {
    BearerRegistry registry;
    Session session(options());
    const auto transport = session.transport(registry.authority());
    EXPECT_EQ(transport->send(get("/v2/a/manifests/x", {repository_scope("a", "pull")})).status,
              200);
    EXPECT_EQ(registry.last_token_auth(), "");
}

TEST(TransportBearer, ScopeFromTheChallengeIsAdded) {
    BearerRegistry registry;
    Session session(options(user()));
    // The request declares no scope; the registry's 401 names it and the retry carries it.
    EXPECT_EQ(session.transport(registry.authority())->send(get("/v2/b/manifests/x")).status, 200);
    EXPECT_EQ(registry.token_requests(), 2u);
    EXPECT_NE(registry.token_queries().back().find("scope=repository%3Ab%3Apull"),
              std::string::npos);
}

TEST(TransportBearer, MountAsksForTwoScopesInOneToken) {
    BearerRegistry registry;
    Session session(options(user()));
    TransportRequest mount =
        get("/v2/dst/blobs/uploads/?mount=sha256:x&from=src",
            {repository_scope("dst", "pull,push"), repository_scope("src", "pull")});
    mount.method = "POST";
    EXPECT_EQ(session.transport(registry.authority())->send(mount).status, 201);
    ASSERT_EQ(registry.token_requests(), 1u);
    const std::string query = registry.token_queries().at(0);
    EXPECT_NE(query.find("scope=repository%3Adst%3Apull%2Cpush&scope=repository%3Asrc%3Apull"),
              std::string::npos)
        << query;
}

TEST(TransportBearer, DeniedPushIsPermissionDeniedWithoutSecrets) {
    BearerRegistry registry;
    Session session(options(user()));
    TransportRequest put =
        get("/v2/denied/x/manifests/v1", {repository_scope("denied/x", "pull,push")});
    put.method = "PUT";
    put.body = "{}";
    try {
        session.transport(registry.authority())->send(put);
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.code(), xarch::ErrorCode::kPermissionDenied) << message;
        EXPECT_EQ(e.http_status(), 401);
        EXPECT_NE(message.find("PUT http://" + registry.authority() +
                               "/v2/denied/x/manifests/v1: 401 UNAUTHORIZED"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("repository:denied/x:pull,push"), std::string::npos) << message;
        // The registry echoed the token in its message: it is redacted.
        EXPECT_EQ(message.find("tok-"), std::string::npos) << message;
        EXPECT_NE(message.find("<redacted>"), std::string::npos) << message;
        EXPECT_EQ(message.find(kPassword), std::string::npos) << message;
    }
    EXPECT_EQ(registry.token_requests(), 2u);  // the first token, and one retry only
}

TEST(TransportBearer, DeniedWithoutCredentialsIsAnAuthError) {
    BearerRegistry registry;
    Session session(options());
    // Push on denied/ is never granted; without credentials that is "log in", not "forbidden".
    TransportRequest put =
        get("/v2/denied/x/manifests/v1", {repository_scope("denied/x", "pull,push")});
    put.method = "PUT";
    put.body = "{}";
    EXPECT_THROW(session.transport(registry.authority())->send(put), xarch::AuthError);
}

TEST(TransportBearer, WrongCredentialsAtTheTokenService) {
    BearerRegistry registry;
    Session session(options(user("not-the-password")));
    try {
        session.transport(registry.authority())
            ->send(get("/v2/a/manifests/x", {repository_scope("a", "pull")}));
        ADD_FAILURE();
    } catch (const xarch::AuthError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("GET http://" + registry.authority() + "/token: 401"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("refused the credentials"), std::string::npos) << message;
        EXPECT_EQ(message.find("not-the-password"), std::string::npos) << message;
        EXPECT_EQ(message.find("scope="), std::string::npos) << message;  // no query shown
    }
}

TEST(TransportBearer, ExpiredTokensAreRenewed) {
    BearerRegistry registry(/*expires_in=*/1);
    Session session(options(user()));
    const auto transport = session.transport(registry.authority());
    const auto request = get("/v2/a/manifests/x", {repository_scope("a", "pull")});
    transport->send(request);
    transport->send(request);
    EXPECT_EQ(registry.token_requests(), 1u);
    std::this_thread::sleep_for(900ms);  // past 80 % of the lifetime
    transport->send(request);
    EXPECT_EQ(registry.token_requests(), 2u);
}

TEST(TransportBearer, IdentityTokenUsesOAuthThenFallsBackToGet) {
    xarch::Credentials creds;
    creds.identity_token = "refresh-token-value";
    {
        BearerRegistry registry(300, /*oauth=*/true);
        Session session(options(creds));
        session.transport(registry.authority())
            ->send(get("/v2/a/manifests/x", {repository_scope("a", "pull")}));
        const auto queries = registry.token_queries();
        ASSERT_EQ(queries.size(), 1u);
        EXPECT_EQ(queries[0].rfind("POST /token ", 0), 0u) << queries[0];
        EXPECT_NE(queries[0].find("grant_type=refresh_token&refresh_token=refresh-token-value"),
                  std::string::npos);
        EXPECT_NE(queries[0].find("scope=repository%3Aa%3Apull"), std::string::npos);
    }
    {
        BearerRegistry registry(300, /*oauth=*/false);
        Session session(options(creds));
        session.transport(registry.authority())
            ->send(get("/v2/a/manifests/x", {repository_scope("a", "pull")}));
        const auto queries = registry.token_queries();
        ASSERT_EQ(queries.size(), 2u);
        EXPECT_EQ(queries[0].rfind("POST", 0), 0u);
        EXPECT_EQ(queries[1].rfind("GET /token?service=svc&scope=", 0), 0u) << queries[1];
    }
}

TEST(TransportBearer, RegistryTokenIsSentAsIs) {
    xarch::Credentials creds;
    creds.registry_token = "tok-999";
    std::string seen;
    TestServer server([&](const ServerRequest& r) {
        if (r.target != "/v2/") {
            seen = r.header("authorization");
        }
        return reply(200);
    });
    Session session(options(creds));
    session.transport(server.authority())->send(get("/v2/a/manifests/x"));
    EXPECT_EQ(seen, "Bearer tok-999");
}

TEST(TransportBearer, EndlessUnauthorizedEndsAfterOneRetry) {
    std::atomic<int> hits{0};
    std::string realm;
    TestServer server([&](const ServerRequest& r) {
        if (r.target.rfind("/token", 0) == 0) {
            return reply(200, R"({"token":"t"})");
        }
        ++hits;
        return reply(401, unauthorized_body(),
                     {{"WWW-Authenticate", R"(Bearer realm=")" + realm + R"(",service="s")"}});
    });
    realm = server.url("/token");
    Session session(options(user()));
    EXPECT_THROW(session.transport(server.authority())->send(get("/v2/a/manifests/x")),
                 xarch::AuthError);
    EXPECT_EQ(hits.load(), 3);  // ping, request, one retry
}

// ---- Retries ------------------------------------------------------------------------------

TEST(TransportRetry, TemporaryStatusesAreRetried) {
    std::atomic<int> hits{0};
    TestServer server([&](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        return ++hits < 3 ? reply(500, R"({"errors":[{"code":"UNKNOWN","message":"boom"}]})")
                          : reply(200, "finally");
    });
    Session session(options());
    EXPECT_EQ(session.transport(server.authority())->send(get("/v2/a/manifests/x")).body,
              "finally");
    EXPECT_EQ(hits.load(), 3);
}

TEST(TransportRetry, RetryAfterIsHonored) {
    std::atomic<int> hits{0};
    TestServer server([&](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        return ++hits == 1 ? reply(429, "", {{"Retry-After", "1"}}) : reply(200, "ok");
    });
    Session session(options());
    const auto transport = session.transport(server.authority());
    transport->ping();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(transport->send(get("/v2/a/manifests/x")).body, "ok");
    EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST(TransportRetry, ExhaustedAttemptsGiveATemporaryError) {
    TestServer server(
        [](const ServerRequest& r) { return r.target == "/v2/" ? reply(200) : reply(503); });
    Session session(options());
    try {
        session.transport(server.authority())->send(get("/v2/a/manifests/x"));
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_TRUE(e.temporary());
        EXPECT_EQ(e.http_status(), 503);
        EXPECT_EQ(std::string(e.what()),
                  "GET http://" + server.authority() +
                      "/v2/a/manifests/x: 503 Service Unavailable (gave up after 3 attempts)");
    }
    EXPECT_EQ(server.count("/v2/a/"), 3u);
}

TEST(TransportRetry, PostAndOtherClientErrorsAreNotRetried) {
    TestServer server([](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        return r.method == "POST"
                   ? reply(500)
                   : reply(
                         400,
                         R"({"errors":[{"code":"NAME_INVALID","message":"invalid repository name"}]})");
    });
    Session session(options());
    const auto transport = session.transport(server.authority());
    TransportRequest post = get("/v2/a/blobs/uploads/");
    post.method = "POST";
    EXPECT_THROW(transport->send(post), xarch::RegistryError);
    EXPECT_EQ(server.count("/v2/a/blobs/uploads/"), 1u);
    try {
        transport->send(get("/v2/a/manifests/x"));
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_FALSE(e.temporary());
        EXPECT_EQ(e.distribution_code(), "NAME_INVALID");
    }
    EXPECT_EQ(server.count("/v2/a/manifests/"), 1u);
}

TEST(TransportRetry, NotFoundAndForbidden) {
    TestServer server([](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        if (r.target.find("forbidden") != std::string::npos) {
            return reply(
                403,
                R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})");
        }
        return reply(404,
                     R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
    });
    Session session(options());
    const auto transport = session.transport(server.authority());
    try {
        transport->send(get("/v2/library/busybox/manifests/latest"));
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kNotFound);
        EXPECT_EQ(std::string(e.what()), "GET http://" + server.authority() +
                                             "/v2/library/busybox/manifests/latest: 404 "
                                             "MANIFEST_UNKNOWN: manifest unknown");
    }
    try {
        transport->send(get("/v2/forbidden/manifests/latest"));
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kPermissionDenied);
        EXPECT_EQ(e.distribution_code(), "DENIED");
    }
    // An expected 404 (blob absent) is an answer, not an error.
    TransportRequest head = get("/v2/a/blobs/sha256:x");
    head.method = "HEAD";
    head.accept_status = {200, 404};
    EXPECT_EQ(transport->send(head).status, 404);
}

TEST(TransportRetry, ReplayableUploadIsSentWholeAgain) {
    std::atomic<int> hits{0};
    TestServer server([&](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        return ++hits == 1 ? reply(500) : reply(201, std::to_string(r.body.size()));
    });
    Session session(options());
    const std::string payload(100'000, 'p');
    std::size_t offset = 0;
    TransportRequest put = get("/v2/a/blobs/uploads/u?digest=sha256:x");
    put.method = "PUT";
    put.source = BodySource{[&](char* buffer, std::size_t size) {
                                const std::size_t n = std::min(size, payload.size() - offset);
                                std::copy_n(payload.data() + offset, n, buffer);
                                offset += n;
                                return n;
                            },
                            [&] { offset = 0; }, payload.size()};
    EXPECT_EQ(session.transport(server.authority())->send(put).body, "100000");
    for (const auto& r : server.requests()) {
        if (r.method == "PUT") {
            EXPECT_EQ(r.body, payload);
        }
    }
    // Without rewind the same upload is not retried.
    hits = 0;
    put.source->rewind = nullptr;
    offset = 0;
    EXPECT_THROW(session.transport(server.authority())->send(put), xarch::RegistryError);
}

TEST(TransportRetry, ResetMidBodyResumesWithRange) {
    std::string blob;
    for (int i = 0; i < 200'000; ++i) {
        blob += static_cast<char>('a' + i % 26);
    }
    std::atomic<int> hits{0};
    TestServer server([&](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        if (++hits == 1) {
            Reply broken{"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(blob.size()) +
                         "\r\n\r\n" + blob.substr(0, 70'000)};
            broken.after = Reply::After::kReset;
            return broken;
        }
        const std::string range = r.header("range");
        if (range.rfind("bytes=", 0) != 0) {
            return reply(200, blob);
        }
        const std::size_t from = std::stoul(range.substr(6));
        return reply(206, blob.substr(from),
                     {{"Content-Range", "bytes " + std::to_string(from) + "-" +
                                            std::to_string(blob.size() - 1) + "/" +
                                            std::to_string(blob.size())}});
    });
    Session session(options());
    std::string received;
    TransferProgress last;
    TransportRequest request = get("/v2/a/blobs/sha256:x");
    request.sink = [&](std::string_view chunk) { received.append(chunk); };
    request.progress = [&](const TransferProgress& p) { last = p; };
    const HttpResponse response = session.transport(server.authority())->send(request);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body_bytes, blob.size());
    EXPECT_EQ(received.size(), blob.size());
    EXPECT_TRUE(received == blob);
    EXPECT_EQ(last.done, blob.size());
    EXPECT_EQ(last.total, blob.size());
    const auto requests = server.requests();
    EXPECT_EQ(requests.back().header("range").rfind("bytes=", 0), 0u);
    EXPECT_NE(requests.back().header("range"), "bytes=0-");
}

TEST(TransportRetry, ResumeAgainstAServerWithoutRanges) {
    const std::string blob(150'000, 'z');
    std::atomic<int> hits{0};
    TestServer server([&](const ServerRequest& r) {
        if (r.target == "/v2/") {
            return reply(200);
        }
        if (++hits == 1) {
            Reply broken{"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(blob.size()) +
                         "\r\n\r\n" + blob.substr(0, 50'000)};
            broken.after = Reply::After::kReset;
            return broken;
        }
        return reply(200, blob);  // ignores Range
    });
    Session session(options());
    std::string received;
    TransportRequest request = get("/v2/a/blobs/sha256:x");
    request.sink = [&](std::string_view chunk) { received.append(chunk); };
    session.transport(server.authority())->send(request);
    EXPECT_EQ(received.size(), blob.size());
}

TEST(TransportRetry, CancelDuringBackoff) {
    TestServer server([](const ServerRequest& r) {
        return r.target == "/v2/" ? reply(200) : reply(429, "", {{"Retry-After", "30"}});
    });
    Session session(options());
    const auto transport = session.transport(server.authority());
    transport->ping();
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        cancel = true;
    });
    TransportRequest request = get("/v2/a/manifests/x");
    request.cancel = &cancel;
    const auto start = std::chrono::steady_clock::now();
    try {
        transport->send(request);
        ADD_FAILURE();
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kCancelled);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    canceller.join();
}

// ---- Redirects ----------------------------------------------------------------------------

TEST(TransportRedirect, BlobRedirectToStorageDropsAuthorization) {
    TestServer storage([](const ServerRequest& r) {
        return reply(200, "blob bytes; auth=" + r.header("authorization"));
    });
    TestServer registry([&](const ServerRequest& r) {
        if (r.header("authorization") != basic_authorization("bob", kPassword)) {
            return reply(401, "", {{"WWW-Authenticate", R"(Basic realm="r")"}});
        }
        if (r.target.find("/same/") != std::string::npos) {
            return reply(307, "", {{"Location", "/v2/a/blobs/final"}});
        }
        if (r.target == "/v2/a/blobs/final") {
            return reply(200, "same origin; auth=" + r.header("authorization"));
        }
        return reply(307, "", {{"Location", storage.url("/bucket/blob?X-Amz-Signature=sig")}});
    });
    Session session(options(user()));
    const auto transport = session.transport(registry.authority());
    TransportRequest request = get("/v2/a/blobs/sha256:x");
    request.follow_redirects = true;
    std::string body;
    request.sink = [&](std::string_view chunk) { body.append(chunk); };
    transport->send(request);
    EXPECT_EQ(body, "blob bytes; auth=");
    // Without follow_redirects the 307 is the answer (and not a 2xx).
    request.follow_redirects = false;
    request.accept_status = {307};
    EXPECT_EQ(transport->send(request).status, 307);
    // A redirect inside the registry keeps the credentials.
    TransportRequest same = get("/v2/a/blobs/same/x");
    same.follow_redirects = true;
    EXPECT_EQ(transport->send(same).body,
              "same origin; auth=" + basic_authorization("bob", kPassword));
}

TEST(TransportRedirect, TooManyRedirects) {
    TestServer server([](const ServerRequest& r) {
        return r.target == "/v2/" ? reply(200) : reply(302, "", {{"Location", "/v2/loop"}});
    });
    Session session(options());
    TransportRequest request = get("/v2/a/blobs/x");
    request.follow_redirects = true;
    EXPECT_THROW(session.transport(server.authority())->send(request), xarch::RegistryError);
}

// ---- Input checks -------------------------------------------------------------------------

TEST(TransportInput, HeaderInjectionIsRefused) {
    TestServer server([](const ServerRequest&) { return reply(200); });
    Session session(options());
    const auto transport = session.transport(server.authority());
    const std::vector<std::string> targets = {"/v2/a\r\nX-Evil: 1/manifests/x",
                                              "/v2/a b/manifests/x",
                                              std::string("/v2/a\0/manifests/x", 18)};
    for (const std::string& target : targets) {
        try {
            transport->send(get(target));
            ADD_FAILURE() << target;
        } catch (const xarch::Error& e) {
            EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument) << e.what();
        }
    }
    TransportRequest request = get("/v2/a/manifests/x");
    request.headers.add("Accept", "x\r\nInjected: 1");
    EXPECT_THROW(transport->send(request), xarch::Error);
    for (const auto& r : server.requests()) {
        EXPECT_EQ(r.target, "/v2/");
    }
}

TEST(TransportInput, BasicAuthorizationEncoding) {
    EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    EXPECT_EQ(basic_authorization("a", ""), "Basic YTo=");
    EXPECT_EQ(basic_authorization("ab", "c"), "Basic YWI6Yw==");
}

TEST(TransportInput, TokenRequestEncoding) {
    EXPECT_EQ(token_query("registry.docker.io",
                          {"repository:library/busybox:pull", "repository:a/b:pull,push"}),
              "service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull&"
              "scope=repository%3Aa%2Fb%3Apull%2Cpush");
    EXPECT_EQ(token_query("", {}), "");
    EXPECT_EQ(oauth_form("svc", {"repository:a:pull", "repository:b:pull"}, "r t", "xarch"),
              "grant_type=refresh_token&refresh_token=r%20t&client_id=xarch&service=svc&"
              "scope=repository%3Aa%3Apull%20repository%3Ab%3Apull");
}

}  // namespace
