// SPDX-License-Identifier: Apache-2.0
// resolve_endpoint against a Docker config folder laid out as docker/cli writes it (config.json,
// contexts/meta/<sha256>/meta.json, contexts/tls/<sha256>/docker/*.pem) and the environment
// variables docker/cli reads, each set for the test and put back afterwards.
#include "engine/endpoint.hpp"

#include "integration/test_support.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace xarch::engine {
namespace {
namespace fs = std::filesystem;

constexpr std::array kVariables = {"DOCKER_HOST", "DOCKER_CONTEXT",   "DOCKER_TLS_VERIFY",
                                   "DOCKER_TLS",  "DOCKER_CERT_PATH", "DOCKER_CONFIG"};

// The sha256 of a context name in hex, by OpenSSL: docker/cli's folder name for the context.
std::string context_id(const std::string& name) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(name.data(), name.size(), digest, &size, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

using xarch::test::error_of;

class EngineEndpointTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* name : kVariables) {
            if (const char* value = std::getenv(name)) {
                saved_[name] = value;
            }
            ::unsetenv(name);
        }
        config_ = fs::path(::testing::TempDir()) /
                  ("xarch_endpoint_" + std::to_string(::getpid()) + "_" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(config_);
        fs::create_directories(config_);
    }
    void TearDown() override {
        for (const char* name : kVariables) {
            if (const auto it = saved_.find(name); it != saved_.end()) {
                ::setenv(name, it->second.c_str(), 1);
            } else {
                ::unsetenv(name);
            }
        }
        fs::remove_all(config_);
    }

    // A context as `docker context create NAME --docker host=HOST[,skip-tls-verify=true]`
    // stores it.
    void make_context(const std::string& name, const std::string& host, bool skip_verify = false) {
        write(
            config_ / "contexts" / "meta" / context_id(name) / "meta.json",
            R"({"Name":")" + name +
                R"(","Metadata":{"Description":"made by the test"},"Endpoints":{"docker":{"Host":")" +
                host + R"(","SkipTLSVerify":)" + (skip_verify ? "true" : "false") + "}}}");
    }
    fs::path context_tls(const std::string& name) {
        return config_ / "contexts" / "tls" / context_id(name) / "docker";
    }
    void write_pems(const fs::path& dir) {
        for (const char* file : {"ca.pem", "cert.pem", "key.pem"}) {
            write(dir / file, std::string("-----BEGIN TEST ") + file + "-----\n");
        }
    }

    fs::path config_;
    std::map<std::string, std::string> saved_;
};

TEST_F(EngineEndpointTest, NothingSetIsTheLocalSocket) {
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "unix:///var/run/docker.sock");
    EXPECT_FALSE(endpoint.tls);
    EXPECT_EQ(endpoint.source, "default");
    EXPECT_EQ(resolve_endpoint("default", config_).host, "unix:///var/run/docker.sock");
}

TEST_F(EngineEndpointTest, DockerHostWinsOverContexts) {
    make_context("remote", "tcp://192.0.2.7:2375");
    write(config_ / "config.json", R"({"auths":{},"currentContext":"remote"})");
    ::setenv("DOCKER_CONTEXT", "remote", 1);
    ::setenv("DOCKER_HOST", "tcp://192.0.2.1:2375", 1);
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "tcp://192.0.2.1:2375");
    EXPECT_EQ(endpoint.source, "DOCKER_HOST");
    EXPECT_FALSE(endpoint.tls);
    // "default" is the default context: DOCKER_HOST too.
    EXPECT_EQ(resolve_endpoint("default", config_).host, "tcp://192.0.2.1:2375");
}

TEST_F(EngineEndpointTest, DockerTlsVerifyReadsTheCertPath) {
    const fs::path certs = config_ / "certs";
    write_pems(certs);
    ::setenv("DOCKER_HOST", "tcp://192.0.2.1", 1);
    ::setenv("DOCKER_TLS_VERIFY", "1", 1);
    ::setenv("DOCKER_CERT_PATH", certs.c_str(), 1);
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "tcp://192.0.2.1:2376");  // Docker's TLS port when none is given
    EXPECT_TRUE(endpoint.tls);
    EXPECT_TRUE(endpoint.tls_verify);
    EXPECT_EQ(endpoint.ca, certs / "ca.pem");
    EXPECT_EQ(endpoint.cert, certs / "cert.pem");
    EXPECT_EQ(endpoint.key, certs / "key.pem");
    // An explicit tcp:// address takes the same variables, as `docker -H` does.
    const auto given = resolve_endpoint("tcp://192.0.2.9:3000", config_);
    EXPECT_EQ(given.host, "tcp://192.0.2.9:3000");
    EXPECT_TRUE(given.tls);
    EXPECT_EQ(given.cert, certs / "cert.pem");
}

TEST_F(EngineEndpointTest, CertPathDefaultsToTheConfigFolderAndCertsAreOptional) {
    write(config_ / "ca.pem", "-----BEGIN TEST-----\n");
    ::setenv("DOCKER_HOST", "tcp://192.0.2.1:2376", 1);
    ::setenv("DOCKER_TLS_VERIFY", "yes", 1);
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_TRUE(endpoint.tls);
    EXPECT_EQ(endpoint.ca, config_ / "ca.pem");
    EXPECT_TRUE(endpoint.cert.empty());  // no cert.pem and key.pem there: none sent
    EXPECT_TRUE(endpoint.key.empty());
}

TEST_F(EngineEndpointTest, DockerTlsWithoutVerify) {
    ::setenv("DOCKER_HOST", "tcp://192.0.2.1:2376", 1);
    ::setenv("DOCKER_TLS", "1", 1);
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_TRUE(endpoint.tls);
    EXPECT_FALSE(endpoint.tls_verify);
    EXPECT_TRUE(endpoint.ca.empty());
}

TEST_F(EngineEndpointTest, TlsVerifyWithoutCaIsAnError) {
    const fs::path certs = config_ / "empty-certs";
    fs::create_directories(certs);
    ::setenv("DOCKER_HOST", "tcp://192.0.2.1:2376", 1);
    ::setenv("DOCKER_TLS_VERIFY", "1", 1);
    ::setenv("DOCKER_CERT_PATH", certs.c_str(), 1);
    const auto message =
        error_of([&] { resolve_endpoint("", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find((certs / "ca.pem").string()), std::string::npos) << message;
    EXPECT_NE(message.find("DOCKER_CERT_PATH"), std::string::npos) << message;
    // A certificate without its key is refused as docker refuses it.
    write(certs / "ca.pem", "x");
    write(certs / "cert.pem", "x");
    const auto half = error_of([&] { resolve_endpoint("", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(half.find("key.pem"), std::string::npos) << half;
}

TEST_F(EngineEndpointTest, TlsVariablesDoNotApplyToASocket) {
    ::setenv("DOCKER_HOST", "unix:///run/x.sock", 1);
    ::setenv("DOCKER_TLS_VERIFY", "1", 1);
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "unix:///run/x.sock");
    EXPECT_FALSE(endpoint.tls);
}

TEST_F(EngineEndpointTest, DockerContextNamesAContextWithTlsFiles) {
    make_context("remote", "tcp://192.0.2.7:2376");
    write_pems(context_tls("remote"));
    ::setenv("DOCKER_CONTEXT", "remote", 1);
    const auto endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "tcp://192.0.2.7:2376");
    EXPECT_EQ(endpoint.source, "context \"remote\"");
    EXPECT_TRUE(endpoint.tls);
    EXPECT_TRUE(endpoint.tls_verify);
    EXPECT_EQ(endpoint.ca, context_tls("remote") / "ca.pem");
    EXPECT_EQ(endpoint.cert, context_tls("remote") / "cert.pem");
    EXPECT_EQ(endpoint.key, context_tls("remote") / "key.pem");
    // The same context by name.
    EXPECT_EQ(resolve_endpoint("remote", config_).host, "tcp://192.0.2.7:2376");
}

TEST_F(EngineEndpointTest, CurrentContextFromConfigJsonAndDockerContextOverridesIt) {
    make_context("first", "tcp://192.0.2.1:2375");
    make_context("second", "unix:///run/second.sock");
    write(config_ / "config.json", R"({"auths":{},"currentContext":"first"})");
    auto endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "tcp://192.0.2.1:2375");
    EXPECT_FALSE(endpoint.tls);  // no TLS files, no SkipTLSVerify: plain HTTP
    ::setenv("DOCKER_CONTEXT", "second", 1);
    endpoint = resolve_endpoint("", config_);
    EXPECT_EQ(endpoint.host, "unix:///run/second.sock");
    EXPECT_EQ(endpoint.source, "context \"second\"");
    // DOCKER_CONFIG is where the store is when no folder is given.
    ::setenv("DOCKER_CONFIG", config_.c_str(), 1);
    EXPECT_EQ(resolve_endpoint("").host, "unix:///run/second.sock");
    ::unsetenv("DOCKER_CONTEXT");
    EXPECT_EQ(resolve_endpoint("").host, "tcp://192.0.2.1:2375");
}

TEST_F(EngineEndpointTest, SkipTlsVerifyTurnsTlsOnWithoutVerification) {
    make_context("insecure", "tcp://192.0.2.3:2376", true);
    const auto endpoint = resolve_endpoint("insecure", config_);
    EXPECT_TRUE(endpoint.tls);
    EXPECT_FALSE(endpoint.tls_verify);
    EXPECT_TRUE(endpoint.ca.empty());
}

TEST_F(EngineEndpointTest, ASocketContextIgnoresTlsFiles) {
    make_context("local", "unix:///run/local.sock");
    write_pems(context_tls("local"));
    const auto endpoint = resolve_endpoint("local", config_);
    EXPECT_EQ(endpoint.host, "unix:///run/local.sock");
    EXPECT_FALSE(endpoint.tls);
}

TEST_F(EngineEndpointTest, UnknownContextListsTheOnesThatExist) {
    make_context("alpha", "tcp://192.0.2.1:2375");
    make_context("beta", "tcp://192.0.2.2:2375");
    ::setenv("DOCKER_CONTEXT", "gamma", 1);
    const auto message =
        error_of([&] { resolve_endpoint("", config_); }, ErrorCode::kInvalidArgument);
    for (const char* text :
         {"\"gamma\"", "DOCKER_CONTEXT", "\"default\"", "\"alpha\"", "\"beta\""}) {
        EXPECT_NE(message.find(text), std::string::npos) << text << " in " << message;
    }
    ::unsetenv("DOCKER_CONTEXT");
    write(config_ / "config.json", R"({"currentContext":"delta"})");
    const auto from_config =
        error_of([&] { resolve_endpoint("", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(from_config.find("config.json"), std::string::npos) << from_config;
}

TEST_F(EngineEndpointTest, AddressesAndTheirErrors) {
    EXPECT_EQ(resolve_endpoint("unix:///tmp/d.sock", config_).host, "unix:///tmp/d.sock");
    EXPECT_EQ(resolve_endpoint("tcp://192.0.2.5", config_).host, "tcp://192.0.2.5:2375");
    EXPECT_EQ(resolve_endpoint("tcp://[::1]:2375", config_).host, "tcp://[::1]:2375");
    EXPECT_EQ(resolve_endpoint("tcp://192.0.2.5:2375", config_).source, "endpoint");
    auto message = error_of([&] { resolve_endpoint("ssh://me@192.0.2.5", config_); },
                            ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find("\"ssh://me@192.0.2.5\""), std::string::npos) << message;
    EXPECT_NE(message.find("unix://"), std::string::npos) << message;
    error_of([&] { resolve_endpoint("tcp://192.0.2.5:99999", config_); },
             ErrorCode::kInvalidArgument);
    error_of([&] { resolve_endpoint("tcp://:2375", config_); }, ErrorCode::kInvalidArgument);
    error_of([&] { resolve_endpoint("unix://", config_); }, ErrorCode::kInvalidArgument);
    // A path is neither an address nor a context name.
    message = error_of([&] { resolve_endpoint("/var/run/docker.sock", config_); },
                       ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find("/var/run/docker.sock"), std::string::npos) << message;
    // DOCKER_HOST without a scheme says where it came from.
    ::setenv("DOCKER_HOST", "192.0.2.5:2375", 1);
    message = error_of([&] { resolve_endpoint("", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find("DOCKER_HOST"), std::string::npos) << message;
}

TEST_F(EngineEndpointTest, MalformedFilesAreNamed) {
    write(config_ / "config.json", "{\"currentContext\": ");
    auto message = error_of([&] { resolve_endpoint("", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find((config_ / "config.json").string()), std::string::npos) << message;
    const fs::path meta = config_ / "contexts" / "meta" / context_id("broken") / "meta.json";
    write(meta, "not json");
    message = error_of([&] { resolve_endpoint("broken", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find(meta.string()), std::string::npos) << message;
    write(meta, R"({"Name":"broken","Endpoints":{}})");
    message = error_of([&] { resolve_endpoint("broken", config_); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find("no docker endpoint"), std::string::npos) << message;
}

}  // namespace
}  // namespace xarch::engine
