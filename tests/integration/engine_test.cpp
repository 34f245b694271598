// SPDX-License-Identifier: Apache-2.0
// engine::Client against the test dockerd (tests/integration/dockerd): version negotiation,
// /info and /version, JSON requests and the engine's 404, a pull streamed from the test
// registry, the errors for a missing socket and a refused port, and TCP + TLS with client
// certificates, by the environment variables and by a context `docker context create` wrote.
// The docker CLI and curl are the independent clients the answers are compared with.
#include "engine/client.hpp"
#include "engine/endpoint.hpp"
#include "integration/dockerd/dockerd_env.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace xarch::engine {
namespace {
namespace fs = std::filesystem;
using test::run;

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

using xarch::test::error_of;

// Sets environment variables for one test and puts them back.
class ScopedEnv {
public:
    void set(const char* name, const std::string& value) {
        remember(name);
        ::setenv(name, value.c_str(), 1);
    }
    void unset(const char* name) {
        remember(name);
        ::unsetenv(name);
    }
    ~ScopedEnv() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }

private:
    void remember(const std::string& name) {
        if (saved_.count(name) == 0) {
            const char* value = std::getenv(name.c_str());
            saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
        }
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        host_ = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why_);
        dir_ = test::fresh_test_dir("xarch_engine");
        // No variable of the developer's shell may steer these tests.
        for (const char* name : {"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS",
                                 "DOCKER_CERT_PATH"}) {
            env_.unset(name);
        }
        env_.set("DOCKER_CONFIG", (dir_ / "docker-config").string());
    }
    void TearDown() override { fs::remove_all(dir_); }

    // The docker CLI on the test engine.
    std::string docker(const std::string& arguments) {
        return trimmed(run("DOCKER_HOST=" + host_ + " docker " + arguments));
    }

    std::string host_;
    std::string why_;
    fs::path dir_;
    ScopedEnv env_;
};

#define REQUIRE_DOCKERD()         \
    do {                          \
        if (host_.empty()) {      \
            GTEST_SKIP() << why_; \
        }                         \
    } while (false)

TEST_F(EngineTest, NegotiatesTheEnginesVersionCappedAtXarchs) {
    REQUIRE_DOCKERD();
    Client client(resolve_endpoint(host_));
    const std::string engine = docker("version --format '{{.Server.APIVersion}}'");
    const std::string version = client.api_version();
    // min(engine, kMaxApiVersion), compared as numbers.
    const auto minor = [](const std::string& v) { return std::stoi(v.substr(v.find('.') + 1)); };
    const std::string max(kMaxApiVersion);
    EXPECT_EQ(version, minor(engine) < minor(max) ? engine : max);
    EXPECT_EQ(client.api_version(), version);
    EXPECT_EQ(client.host(), host_);
}

TEST_F(EngineTest, InfoMatchesWhatTheDockerCliSees) {
    REQUIRE_DOCKERD();
    Client client(resolve_endpoint(host_));
    const EngineInfo info = client.info();
    EXPECT_EQ(info.name, docker("info --format '{{.Name}}'"));
    EXPECT_EQ(info.server_version, docker("version --format '{{.Server.Version}}'"));
    EXPECT_EQ(info.os, docker("version --format '{{.Server.Os}}'"));
    EXPECT_EQ(info.architecture, docker("version --format '{{.Server.Arch}}'"));
    EXPECT_EQ(std::to_string(info.cpus), docker("info --format '{{.NCPU}}'"));
    EXPECT_EQ(info.api_version, client.api_version());
    EXPECT_FALSE(info.name.empty());
    EXPECT_GT(info.cpus, 0);
    // GOARCH names: this host's engine reports the name the platform strings use.
    const std::string machine = trimmed(run("uname -m"));
    if (machine == "x86_64") {
        EXPECT_EQ(info.architecture, "amd64");
    } else if (machine == "aarch64") {
        EXPECT_EQ(info.architecture, "arm64");
    }
}

TEST_F(EngineTest, GetJsonAndTheEnginesNotFound) {
    REQUIRE_DOCKERD();
    Client client(resolve_endpoint(host_));
    const auto images = client.get_json("/images/json");
    ASSERT_TRUE(images.is_array());
    for (const auto& image : images.as_array()) {
        EXPECT_TRUE(std::string_view(image.at("Id").as_string()).starts_with("sha256:"));
    }
    // The engine's own words for the missing image, asked with curl.
    const std::string raw = run("curl -s --unix-socket " + unix_socket_path(host_) +
                                " http://localhost/images/nonexistent-xyz/json");
    const std::string engine_text = std::string(boost::json::parse(raw).at("message").as_string());
    try {
        client.get_json("/images/nonexistent-xyz/json");
        ADD_FAILURE() << "found an image that does not exist";
    } catch (const EngineError& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
        EXPECT_EQ(e.http_status(), 404);
        EXPECT_EQ(e.engine_message(), engine_text);
        EXPECT_NE(std::string(e.what()).find(engine_text), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(host_), std::string::npos) << e.what();
    }
}

TEST_F(EngineTest, PullStreamsStatusMessages) {
    REQUIRE_DOCKERD();
    std::string why;
    const auto registry = test::load_registry_env(&why);
    if (!registry) {
        GTEST_SKIP() << why;
    }
    const std::string image = registry->plain + "/" + registry->busybox_repo;
    Client client(resolve_endpoint(host_));
    Client::Request request;
    request.path_and_query = "/images/create?fromImage=" + image + "&tag=" + registry->busybox_tag;
    request.headers = {registry_auth_header(std::nullopt, registry->plain)};
    std::vector<std::string> statuses;
    std::vector<std::string> errors;
    client.stream(request, [&](const boost::json::object& message) {
        if (const auto* status = message.if_contains("status"); status && status->is_string()) {
            statuses.emplace_back(status->as_string());
        }
        if (auto error = message_error(message); !error.empty()) {
            errors.push_back(error);
        }
    });
    EXPECT_TRUE(errors.empty()) << errors.front();
    ASSERT_FALSE(statuses.empty());
    // The pull's last word names the digest the registry serves for the tag.
    bool digest_seen = false;
    for (const auto& status : statuses) {
        digest_seen =
            digest_seen || status.find(registry->busybox_index_digest) != std::string::npos;
    }
    EXPECT_TRUE(digest_seen) << "no status names " << registry->busybox_index_digest;
    // The engine has it now, as its own client sees (other tests may have pulled the same
    // image by a platform's digest too: any of its repo digests).
    EXPECT_THAT(docker("image inspect --format '{{json .RepoDigests}}' " + image + ":" +
                       registry->busybox_tag),
                ::testing::HasSubstr(image + "@" + registry->busybox_index_digest));
}

TEST_F(EngineTest, AMissingSocketSaysWhatToDo) {
    const std::string host = "unix://" + (dir_ / "no-dockerd.sock").string();
    Client client(resolve_endpoint(host));
    const auto message = error_of([&] { client.api_version(); }, ErrorCode::kNetwork);
    EXPECT_NE(message.find("cannot connect to the Docker Engine at " + host +
                           ": no such file; is dockerd running? set DOCKER_HOST or the builder's "
                           "endpoint"),
              std::string::npos)
        << message;
}

TEST_F(EngineTest, ARefusedPortSaysWhatToDo) {
    // A port nobody listens on: bound, then closed.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t size = sizeof(address);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
    ::close(fd);
    const std::string host = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    Client client(resolve_endpoint(host));
    const auto message = error_of([&] { client.get_json("/info"); }, ErrorCode::kNetwork);
    EXPECT_NE(message.find("cannot connect to the Docker Engine at " + host + ": "),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("refused"), std::string::npos) << message;
    EXPECT_NE(message.find("is dockerd running?"), std::string::npos) << message;
}

class EngineTlsTest : public EngineTest {
protected:
    void SetUp() override {
        EngineTest::SetUp();
        tls_host_ = test::test_dockerd_value(XARCH_TEST_DOCKERD_ENV, "DOCKER_TLS_HOST");
        certs_ = test::test_dockerd_value(XARCH_TEST_DOCKERD_ENV, "DOCKER_TLS_CERT_PATH");
    }
    std::string tls_host_;
    fs::path certs_;
};

#define REQUIRE_TLS_DOCKERD()                                                     \
    do {                                                                          \
        REQUIRE_DOCKERD();                                                        \
        if (tls_host_.empty()) {                                                  \
            GTEST_SKIP() << "the test dockerd has no TLS listener (see tls.log)"; \
        }                                                                         \
    } while (false)

TEST_F(EngineTlsTest, TlsWithTheDockerVariables) {
    REQUIRE_TLS_DOCKERD();
    env_.set("DOCKER_HOST", tls_host_);
    env_.set("DOCKER_TLS_VERIFY", "1");
    env_.set("DOCKER_CERT_PATH", certs_.string());
    const Endpoint endpoint = resolve_endpoint("");
    EXPECT_TRUE(endpoint.tls);
    Client client(endpoint);
    EXPECT_EQ(client.api_version(), Client(resolve_endpoint(host_)).api_version());
    const EngineInfo info = client.info();
    // The same engine as on its socket.
    EXPECT_EQ(info.name, docker("info --format '{{.Name}}'"));
    EXPECT_GT(info.cpus, 0);
}

TEST_F(EngineTlsTest, TlsWithAContextTheDockerCliMade) {
    REQUIRE_TLS_DOCKERD();
    const fs::path config = dir_ / "docker-config";
    run("DOCKER_CONFIG=" + config.string() + " docker context create xarch-tls --docker host=" +
        tls_host_ + ",ca=" + (certs_ / "ca.pem").string() +
        ",cert=" + (certs_ / "cert.pem").string() + ",key=" + (certs_ / "key.pem").string());
    run("DOCKER_CONFIG=" + config.string() + " docker context use xarch-tls");
    // As named, and as the current context of config.json.
    for (const std::string spec : {"xarch-tls", ""}) {
        const Endpoint endpoint = resolve_endpoint(spec, config);
        EXPECT_EQ(endpoint.host, tls_host_);
        EXPECT_EQ(endpoint.source, "context \"xarch-tls\"");
        EXPECT_TRUE(endpoint.tls);
        EXPECT_TRUE(endpoint.tls_verify);
        Client client(endpoint);
        EXPECT_EQ(client.info().name, docker("info --format '{{.Name}}'"));
    }
}

TEST_F(EngineTlsTest, WithoutTheClientCertificateTheEngineRefuses) {
    REQUIRE_TLS_DOCKERD();
    Endpoint endpoint;
    endpoint.host = tls_host_;
    endpoint.tls = true;
    endpoint.ca = certs_ / "ca.pem";
    endpoint.source = "endpoint";
    Client client(endpoint);
    try {
        client.api_version();
        ADD_FAILURE() << "the engine answered without a client certificate";
    } catch (const Error& e) {
        EXPECT_TRUE(e.code() == ErrorCode::kAuthentication || e.code() == ErrorCode::kNetwork)
            << e.what();
        const std::string message = e.what();
        EXPECT_NE(message.find(tls_host_), std::string::npos) << message;
        EXPECT_NE(message.find("client certificate"), std::string::npos) << message;
    }
    // Plain HTTP to the TLS port is not taken for an engine either.
    Endpoint plain = endpoint;
    plain.tls = false;
    const auto message = error_of([&] { Client(plain).api_version(); }, ErrorCode::kUnsupported);
    EXPECT_NE(message.find("HTTP 400"), std::string::npos) << message;
}

}  // namespace
}  // namespace xarch::engine
