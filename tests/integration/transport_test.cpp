// SPDX-License-Identifier: Apache-2.0
// The registry transport against the shared test registries (tests/integration/registry): scheme
// detection and TLS on the plain and TLS registries, Basic auth, the Bearer flow against the real
// token-auth registry and its issuer, parallel transfers, and retries through the fault proxy.
// Skips with the reason when the registries are not there (outside ctest).
#include "registry/transport.hpp"

#include "integration/registry/registry_env.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace xarch::registry;
using namespace std::chrono_literals;
using xarch::test::RegistryEnv;
using xarch::test::ScopedFault;

constexpr const char* kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string sha256(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0xf];
    }
    return out;
}

std::string random_bytes(std::size_t size) {
    std::mt19937_64 generator{std::random_device{}()};
    std::string out(size, '\0');
    for (char& c : out) {
        c = static_cast<char>(generator());
    }
    return out;
}

// A repository name of this test's own: the registries are shared by tests running at once.
std::string repo(std::string_view what) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "transport-it/";
    for (char c : std::string(info->name()) + "-" + std::string(what)) {
        name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return name + "-" + std::to_string(::getpid());
}

TransportRequest request(std::string method, std::string target, std::vector<std::string> scopes) {
    TransportRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.scopes = std::move(scopes);
    return r;
}

// Monolithic upload (POST, then PUT with the digest) through `transport`; returns the digest.
std::string push_blob(Transport& transport, const std::string& name, const std::string& content) {
    const std::vector<std::string> scopes = {repository_scope(name, "pull,push")};
    TransportRequest start = request("POST", "/v2/" + name + "/blobs/uploads/", scopes);
    start.accept_status = {202};
    const HttpResponse started = transport.send(start);
    const std::string location = started.headers.get("Location").value_or("");
    EXPECT_FALSE(location.empty());
    const std::string digest = sha256(content);
    TransportRequest put = request(
        "PUT",
        location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest,
        scopes);
    if (!put.target.starts_with("/") && !put.target.starts_with("http")) {
        put.target = "/" + put.target;
    }
    put.body = content;
    put.headers.add("Content-Type", "application/octet-stream");
    put.accept_status = {201};
    transport.send(put);
    return digest;
}

std::string get_blob(Transport& transport, const std::string& name, const std::string& digest) {
    std::string body;
    TransportRequest get =
        request("GET", "/v2/" + name + "/blobs/" + digest, {repository_scope(name, "pull")});
    get.follow_redirects = true;
    get.sink = [&](std::string_view chunk) { body.append(chunk); };
    transport.send(get);
    return body;
}

// Token issuer log entries whose scopes mention `name`, optionally only for `user`.
std::size_t tokens_for(const RegistryEnv& env,
                       const std::string& name,
                       std::string_view user = {}) {
    const boost::json::value log = boost::json::parse(xarch::test::token_log(env));
    std::size_t count = 0;
    for (const auto& entry : log.as_array()) {
        const auto& object = entry.as_object();
        if (!user.empty() &&
            (!object.at("user").is_string() || object.at("user").as_string() != user)) {
            continue;
        }
        for (const auto& scope : object.at("scopes").as_array()) {
            if (std::string_view(scope.as_string()).find(name) != std::string_view::npos) {
                ++count;
                break;
            }
        }
    }
    return count;
}

class TransportIntegration : public testing::Test {
protected:
    void SetUp() override {
        std::string why;
        auto env = xarch::test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = *env;
    }

    TransportOptions options(bool with_credentials = false) const {
        TransportOptions o;
        o.certs_dir = "";
        o.retry.initial_backoff = 20ms;
        o.retry.max_backoff = 200ms;
        o.connect_timeout = 10s;
        o.low_speed_time = 10s;
        if (with_credentials) {
            xarch::Credentials credentials;
            credentials.username = env_.user;
            credentials.password = env_.password;
            o.credentials = [credentials](std::string_view) { return credentials; };
        }
        return o;
    }

    HttpResponse get_index(Transport& transport, const std::string& name = "") {
        TransportRequest get = request(
            "GET",
            "/v2/" + (name.empty() ? env_.busybox_repo : name) + "/manifests/" + env_.busybox_tag,
            {repository_scope(name.empty() ? env_.busybox_repo : name, "pull")});
        get.headers.add("Accept", kManifestAccept);
        return transport.send(get);
    }

    void expect_index(const HttpResponse& response) {
        EXPECT_EQ(response.status, 200);
        EXPECT_EQ(std::to_string(response.body.size()), env_.get("XARCH_TEST_BUSYBOX_INDEX_SIZE"));
        EXPECT_EQ(sha256(response.body), env_.busybox_index_digest);
        EXPECT_EQ(response.headers.get("docker-content-digest"), env_.busybox_index_digest);
    }

    RegistryEnv env_;
};

// ---- Scheme and TLS -----------------------------------------------------------------------

TEST_F(TransportIntegration, PlainRegistryFallsBackToHttp) {
    Session session(options());
    const auto transport = session.transport(env_.plain);
    EXPECT_EQ(transport->scheme(), Scheme::kHttp);
    EXPECT_EQ(transport->base_url(), "http://" + env_.plain);
    expect_index(get_index(*transport));
}

TEST_F(TransportIntegration, TlsVerifiedWithTheCaBundleAndBasicAuth) {
    TransportOptions o = options(true);
    o.ca_bundle = env_.tls_ca;
    Session session(o);
    const auto transport = session.transport(env_.tls);
    EXPECT_EQ(transport->scheme(), Scheme::kHttps);
    const HttpResponse response = get_index(*transport);
    expect_index(response);
    EXPECT_EQ(response.http_version, 2);  // Go's TLS server offers HTTP/2
}

TEST_F(TransportIntegration, TlsWithoutItsCaIsAClearErrorWhenNotInsecure) {
    TransportOptions o = options(true);
    o.insecure_loopback = false;
    Session session(o);
    try {
        session.transport(env_.tls)->ping();
        ADD_FAILURE();
    } catch (const NetworkError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.failure(), NetworkFailure::kTlsVerify) << message;
        EXPECT_FALSE(e.temporary());
        EXPECT_NE(message.find("GET https://" + env_.tls + "/v2/: TLS certificate verification"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("ca_bundle"), std::string::npos) << message;
    }
}

TEST_F(TransportIntegration, LoopbackTlsWithoutItsCaIsUsedUnverified) {
    Session session(options(true));
    const auto transport = session.transport(env_.tls);
    EXPECT_EQ(transport->scheme(), Scheme::kHttpsUnverified);
    expect_index(get_index(*transport));
}

TEST_F(TransportIntegration, CertsDirPinsTheCaEvenOnLoopback) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("xarch-certs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / env_.tls);
    std::filesystem::copy_file(env_.tls_ca, dir / env_.tls / "ca.crt",
                               std::filesystem::copy_options::overwrite_existing);
    {
        TransportOptions o = options(true);
        o.certs_dir = dir.string();
        Session session(o);
        const auto transport = session.transport(env_.tls);
        EXPECT_EQ(transport->scheme(), Scheme::kHttps);
        expect_index(get_index(*transport));
    }
    // A CA in certs.d that did not sign the certificate: verified HTTPS only, no fallback.
    std::filesystem::copy_file(env_.get("XARCH_TEST_TOKEN_CERT"), dir / env_.tls / "ca.crt",
                               std::filesystem::copy_options::overwrite_existing);
    {
        TransportOptions o = options(true);
        o.certs_dir = dir.string();
        Session session(o);
        try {
            session.transport(env_.tls)->ping();
            ADD_FAILURE();
        } catch (const NetworkError& e) {
            EXPECT_EQ(e.failure(), NetworkFailure::kTlsVerify) << e.what();
        }
    }
    std::filesystem::remove_all(dir);
}

// ---- Basic --------------------------------------------------------------------------------

TEST_F(TransportIntegration, BasicAuthFailures) {
    TransportOptions o = options();
    o.ca_bundle = env_.tls_ca;
    xarch::Credentials wrong;
    wrong.username = env_.user;
    wrong.password = "wrong-" + env_.password;
    o.credentials = [wrong](std::string_view) { return wrong; };
    {
        Session session(o);
        try {
            get_index(*session.transport(env_.tls));
            ADD_FAILURE();
        } catch (const xarch::AuthError& e) {
            const std::string message = e.what();
            EXPECT_EQ(e.http_status(), 401);
            EXPECT_NE(message.find("refused the credentials"), std::string::npos) << message;
            EXPECT_EQ(message.find(wrong.password), std::string::npos) << message;
            EXPECT_EQ(message.find(env_.password), std::string::npos) << message;
        }
    }
    o.credentials = nullptr;
    Session anonymous(o);
    try {
        get_index(*anonymous.transport(env_.tls));
        ADD_FAILURE();
    } catch (const xarch::AuthError& e) {
        EXPECT_NE(std::string(e.what()).find("no credentials were found"), std::string::npos)
            << e.what();
    }
}

// ---- Bearer -------------------------------------------------------------------------------

TEST_F(TransportIntegration, BearerTokenIsCachedAndReused) {
    Session session(options(true));
    const auto transport = session.transport(env_.token);
    const std::string name = repo("cache");
    for (int i = 0; i < 4; ++i) {
        TransportRequest get =
            request("GET", "/v2/" + name + "/manifests/latest", {repository_scope(name, "pull")});
        get.accept_status = {404};
        const HttpResponse response = transport->send(get);
        EXPECT_NE(response.body.find("_UNKNOWN"), std::string::npos) << response.body;
    }
    EXPECT_EQ(tokens_for(env_, name), 1u);
    // The seeded index through the token registry, with the credentials' token.
    expect_index(get_index(*transport));
}

TEST_F(TransportIntegration, BearerTokenIsRenewedAfterExpiry) {
    const std::string short_user = env_.get("XARCH_TEST_TOKEN_SHORT_USER");
    if (short_user.empty()) {
        GTEST_SKIP() << "the env file has no short-lived token user";
    }
    TransportOptions o = options();
    xarch::Credentials credentials;
    credentials.username = short_user;
    credentials.password = env_.password;
    o.credentials = [credentials](std::string_view) { return credentials; };
    Session session(o);
    const auto transport = session.transport(env_.token);
    const std::string name = repo("expiry");
    TransportRequest get =
        request("GET", "/v2/" + name + "/manifests/latest", {repository_scope(name, "pull")});
    get.accept_status = {404};
    transport->send(get);
    transport->send(get);
    EXPECT_EQ(tokens_for(env_, name, short_user), 1u);
    const int ttl = std::stoi(env_.get("XARCH_TEST_TOKEN_SHORT_TTL").empty()
                                  ? std::string("2")
                                  : env_.get("XARCH_TEST_TOKEN_SHORT_TTL"));
    std::this_thread::sleep_for(std::chrono::milliseconds(ttl * 1000 + 200));
    transport->send(get);
    EXPECT_EQ(tokens_for(env_, name, short_user), 2u);
}

TEST_F(TransportIntegration, CrossRepositoryMountUsesATwoScopeToken) {
    Session session(options(true));
    const auto transport = session.transport(env_.token);
    const std::string source = repo("src");
    const std::string target = repo("dst");
    const std::string content = random_bytes(4096);
    const std::string digest = push_blob(*transport, source, content);
    TransportRequest mount =
        request("POST", "/v2/" + target + "/blobs/uploads/?mount=" + digest + "&from=" + source,
                {repository_scope(target, "pull,push"), repository_scope(source, "pull")});
    mount.accept_status = {201, 202};
    EXPECT_EQ(transport->send(mount).status, 201);  // mounted, not an upload session
    EXPECT_EQ(get_blob(*transport, target, digest), content);
    // The issuer saw one request naming both repositories.
    const boost::json::value log = boost::json::parse(xarch::test::token_log(env_));
    bool both = false;
    for (const auto& entry : log.as_array()) {
        std::string scopes;
        for (const auto& scope : entry.as_object().at("scopes").as_array()) {
            scopes += std::string(scope.as_string()) + " ";
        }
        both = both || (scopes.find(repository_scope(target, "pull,push")) != std::string::npos &&
                        scopes.find(repository_scope(source, "pull")) != std::string::npos);
    }
    EXPECT_TRUE(both) << xarch::test::token_log(env_);
}

TEST_F(TransportIntegration, DeniedPushScope) {
    Session session(options(true));
    const std::string name = "denied/" + repo("push").substr(13);
    TransportRequest start =
        request("POST", "/v2/" + name + "/blobs/uploads/", {repository_scope(name, "pull,push")});
    try {
        session.transport(env_.token)->send(start);
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.code(), xarch::ErrorCode::kPermissionDenied) << message;
        EXPECT_EQ(e.http_status(), 401);
        EXPECT_NE(
            message.find("POST http://" + env_.token + "/v2/" + name + "/blobs/uploads/: 401"),
            std::string::npos)
            << message;
        EXPECT_NE(message.find(repository_scope(name, "pull,push")), std::string::npos) << message;
        EXPECT_EQ(message.find(env_.password), std::string::npos) << message;
    }
}

TEST_F(TransportIntegration, AnonymousPullOnPublicAndNoPushElsewhere) {
    Session session(options());
    const auto transport = session.transport(env_.token);
    expect_index(get_index(*transport, "public/busybox"));
    TransportRequest start = request("POST", "/v2/" + repo("anon") + "/blobs/uploads/",
                                     {repository_scope(repo("anon"), "pull,push")});
    EXPECT_THROW(transport->send(start), xarch::AuthError);
}

TEST_F(TransportIntegration, WrongPasswordAtTheTokenService) {
    TransportOptions o = options();
    xarch::Credentials wrong;
    wrong.username = env_.user;
    wrong.password = "nope-" + env_.password;
    o.credentials = [wrong](std::string_view) { return wrong; };
    Session session(o);
    try {
        get_index(*session.transport(env_.token));
        ADD_FAILURE();
    } catch (const xarch::AuthError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(env_.token_realm + ": 401"), std::string::npos) << message;
        EXPECT_EQ(message.find(wrong.password), std::string::npos) << message;
    }
}

// ---- Parallel transfers -------------------------------------------------------------------

TEST_F(TransportIntegration, ParallelGetsThroughOneClient) {
    for (const bool token : {false, true}) {
        TransportOptions o = options(token);
        o.max_parallel = 4;
        Session session(o);
        const auto transport = session.transport(token ? env_.token : env_.plain);
        const std::string name = repo(token ? "token" : "plain");
        std::vector<std::string> contents;
        std::vector<std::string> digests;
        for (int i = 0; i < 8; ++i) {
            contents.push_back(random_bytes(256 * 1024 + static_cast<std::size_t>(i)));
            digests.push_back(push_blob(*transport, name, contents.back()));
        }
        std::vector<std::thread> threads;
        std::atomic<int> ok{0};
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int round = 0; round < 3; ++round) {
                    const std::size_t i = static_cast<std::size_t>((t + round) % 8);
                    if (get_blob(*transport, name, digests[i]) == contents[i]) {
                        ++ok;
                    }
                }
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
        EXPECT_EQ(ok.load(), 24);
        EXPECT_LE(session.http().peak_active(), 4u);
        if (token) {
            // One token for the pushes (pull,push), which also covers the pulls.
            EXPECT_EQ(tokens_for(env_, name), 1u);
        }
    }
}

// ---- Retries through the fault proxy ------------------------------------------------------

class TransportFaults : public TransportIntegration {
protected:
    void SetUp() override {
        TransportIntegration::SetUp();
        if (IsSkipped()) {
            return;
        }
        // The blob goes to the plain registry directly; the proxy serves it under faults.
        Session direct(options());
        name_ = repo("blob");
        content_ = random_bytes(1024 * 1024);
        digest_ = push_blob(*direct.transport(env_.plain), name_, content_);
    }

    std::string path_regex() const { return "^/v2/" + name_ + "/blobs/"; }

    std::string name_;
    std::string content_;
    std::string digest_;
};

TEST_F(TransportFaults, ServerErrorsThenSuccess) {
    ScopedFault fault(env_, R"({"kind":"status500","path":")" + path_regex() + R"(","count":2})");
    Session session(options());
    EXPECT_EQ(get_blob(*session.transport(env_.fault_proxy), name_, digest_), content_);
    EXPECT_NE(xarch::test::fault_state(env_).find("status500"), std::string::npos);
}

TEST_F(TransportFaults, TooManyRequestsHonorsRetryAfter) {
    ScopedFault fault(
        env_, R"({"kind":"status429","retry_after":1,"path":")" + path_regex() + R"(","count":1})");
    Session session(options());
    const auto transport = session.transport(env_.fault_proxy);
    transport->ping();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(get_blob(*transport, name_, digest_), content_);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(TransportFaults, ResetMidBodyResumes) {
    for (const char* kind : {"reset-mid-body", "truncate-body"}) {
        ScopedFault fault(env_, R"({"kind":")" + std::string(kind) + R"(","path":")" +
                                    path_regex() + R"(","count":1})");
        Session session(options());
        std::uint64_t last = 0;
        std::string body;
        TransportRequest get =
            request("GET", "/v2/" + name_ + "/blobs/" + digest_, {repository_scope(name_, "pull")});
        get.sink = [&](std::string_view chunk) { body.append(chunk); };
        get.progress = [&](const TransferProgress& p) { last = p.done; };
        const HttpResponse response = session.transport(env_.fault_proxy)->send(get);
        EXPECT_EQ(response.status, 200) << kind;
        EXPECT_EQ(body.size(), content_.size()) << kind;
        EXPECT_TRUE(body == content_) << kind;
        EXPECT_EQ(last, content_.size()) << kind;
    }
}

TEST_F(TransportFaults, ExhaustedAttemptsAreATemporaryError) {
    ScopedFault fault(env_, R"({"kind":"status500","path":")" + path_regex() + R"(","count":-1})");
    Session session(options());
    try {
        get_blob(*session.transport(env_.fault_proxy), name_, digest_);
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        const std::string message = e.what();
        EXPECT_TRUE(e.temporary());
        EXPECT_EQ(e.http_status(), 500);
        EXPECT_NE(message.find("GET http://" + env_.fault_proxy + "/v2/" + name_ + "/blobs/" +
                               digest_ + ": 500"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("gave up after 5 attempts"), std::string::npos) << message;
    }
}

TEST_F(TransportFaults, ConnectionResetsAreRetried) {
    ScopedFault fault(env_, R"({"kind":"reset","path":")" + path_regex() + R"(","count":2})");
    Session session(options());
    EXPECT_EQ(get_blob(*session.transport(env_.fault_proxy), name_, digest_), content_);
}

TEST_F(TransportFaults, HugeContentLengthIsACleanError) {
    ScopedFault fault(
        env_,
        R"({"kind":"status","status":200,"headers":{"Content-Length":"1099511627776","Content-Type":"application/vnd.oci.image.index.v1+json"},"body":"{}","path":"^/v2/)" +
            name_ + R"(/manifests/","count":-1})");
    Session session(options());
    TransportRequest get =
        request("GET", "/v2/" + name_ + "/manifests/latest", {repository_scope(name_, "pull")});
    get.headers.add("Accept", kManifestAccept);
    try {
        session.transport(env_.fault_proxy)->send(get);
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kRegistry);
        EXPECT_NE(std::string(e.what()).find("larger than the limit"), std::string::npos)
            << e.what();
    }
}

TEST_F(TransportFaults, UnauthorizedLoopEnds) {
    ScopedFault fault(
        env_, R"({"kind":"status","status":401,"headers":{"WWW-Authenticate":"Bearer realm=\")" +
                  env_.token_realm + R"(\",service=\"x\""},"path":"^/v2/)" + name_ +
                  R"(/","count":-1})");
    Session session(options(true));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(get_blob(*session.transport(env_.fault_proxy), name_, digest_), xarch::AuthError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(TransportFaults, CancelAStalledRequest) {
    ScopedFault fault(env_,
                      R"({"kind":"delay","delay":10,"path":")" + path_regex() + R"(","count":1})");
    Session session(options());
    const auto transport = session.transport(env_.fault_proxy);
    transport->ping();
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(300ms);
        cancel = true;
    });
    TransportRequest get =
        request("GET", "/v2/" + name_ + "/blobs/" + digest_, {repository_scope(name_, "pull")});
    get.sink = [](std::string_view) {};
    get.cancel = &cancel;
    const auto start = std::chrono::steady_clock::now();
    try {
        transport->send(get);
        ADD_FAILURE();
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kCancelled) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    canceller.join();
}

TEST_F(TransportFaults, HeaderInjectionThroughAReference) {
    Session session(options());
    const auto transport = session.transport(env_.fault_proxy);
    try {
        transport->send(request("GET", "/v2/" + name_ + "/manifests/x\r\nX-Xarch-Fault: reset",
                                {repository_scope(name_, "pull")}));
        ADD_FAILURE();
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument) << e.what();
    }
    EXPECT_EQ(xarch::test::proxy_log(env_).find("X-Xarch-Fault"), std::string::npos);
}

}  // namespace
