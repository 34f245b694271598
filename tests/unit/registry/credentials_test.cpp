// SPDX-License-Identifier: Apache-2.0
// Credentials from Docker's client configuration: config.json variants in temporary
// DOCKER_CONFIG folders, fake docker-credential-* helpers (bash scripts on a temporary search
// path) that answer, refuse, crash, hang or print garbage, the precedence of credHelpers over
// credsStore over auths, and that no secret ever reaches a message.
#include "registry/credentials.hpp"

#include "util/base64.hpp"

#include <xarch/credentials.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;
using xarch::Credentials;
using xarch::CredentialsLookup;
using xarch::DockerConfigOptions;
using xarch::Error;
using xarch::ErrorCode;

// base64("alice:s3cr3t-Pa55") and friends, computed once by hand and checked below.
constexpr const char* kAliceAuth = "YWxpY2U6czNjcjN0LVBhNTU=";
constexpr const char* kAlicePassword = "s3cr3t-Pa55";

class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                              "/xarch-credentials-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void write_file(const fs::path& path, std::string_view text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

// A temporary DOCKER_CONFIG folder with a bin/ folder for helpers.
class DockerConfigKeychain : public testing::Test {
protected:
    fs::path config_dir() const { return dir_.path() / "docker"; }
    fs::path bin_dir() const { return dir_.path() / "bin"; }

    void write_config(std::string_view json) const {
        write_file(config_dir() / "config.json", json);
    }

    // bin/docker-credential-<name>, a bash script with `body`.
    void write_helper(std::string_view name, std::string_view body) const {
        const fs::path path = bin_dir() / ("docker-credential-" + std::string(name));
        write_file(path, "#!/bin/bash\n" + std::string(body) + "\n");
        fs::permissions(path, fs::perms::owner_all);
    }

    CredentialsLookup keychain(std::chrono::milliseconds timeout = 10s) const {
        DockerConfigOptions options;
        options.config_dir = config_dir();
        options.helper_path = "/usr/bin:" + bin_dir().string() + ":/bin";
        options.helper_timeout = timeout;
        return xarch::docker_config_keychain(options);
    }

    // The message of the Error a lookup throws, with its code checked.
    std::string lookup_error(std::string_view registry,
                             ErrorCode code,
                             std::chrono::milliseconds timeout = 10s) const {
        try {
            keychain(timeout)(registry);
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), code) << e.what();
            return e.what();
        }
        ADD_FAILURE() << "no error for " << registry;
        return "";
    }

    TempDir dir_;
};

// ---- the file alone ----

TEST_F(DockerConfigKeychain, MissingFileOrFolderIsAnonymous) {
    EXPECT_EQ(keychain()("registry.example"), std::nullopt);
    fs::create_directories(config_dir());
    EXPECT_EQ(keychain()("registry.example"), std::nullopt);
}

TEST_F(DockerConfigKeychain, EmptyFileIsAnonymous) {
    write_config("");
    EXPECT_EQ(keychain()("registry.example"), std::nullopt);
    write_config(" \n\t\n");
    EXPECT_EQ(keychain()("registry.example"), std::nullopt);
    write_config("null");
    EXPECT_EQ(keychain()("registry.example"), std::nullopt);
    write_config("{}");
    EXPECT_EQ(keychain()("registry.example"), std::nullopt);
}

TEST_F(DockerConfigKeychain, AuthFieldGivesUsernameAndPassword) {
    write_config(std::string(R"({"auths": {"registry.example": {"auth": ")") + kAliceAuth +
                 R"("}}})");
    const std::optional<Credentials> found = keychain()("registry.example");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->username, "alice");
    EXPECT_EQ(found->password, kAlicePassword);
    EXPECT_EQ(keychain()("other.example"), std::nullopt);
}

TEST_F(DockerConfigKeychain, AuthSplitsAtTheFirstColonAndTrimsNul) {
    // base64("bob:pa:ss\0\0")
    write_config(R"({"auths": {"r.example": {"auth": "Ym9iOnBhOnNzAAA="}}})");
    const std::optional<Credentials> found = keychain()("r.example");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->username, "bob");
    EXPECT_EQ(found->password, "pa:ss");
}

TEST_F(DockerConfigKeychain, FieldsAndTokens) {
    write_config(R"({
        "auths": {
            "a.example": {"username": "u", "password": "p"},
            "b.example": {"identitytoken": "refresh-token"},
            "c.example": {"registrytoken": "bearer-token"},
            "d.example": {"username": "ignored", "password": "ignored", "auth": "YTpi"},
            "e.example": {},
            "f.example": null
        }
    })");
    const CredentialsLookup lookup = keychain();
    EXPECT_EQ(lookup("a.example"), (Credentials{"u", "p", "", ""}));
    EXPECT_EQ(lookup("b.example"), (Credentials{"", "", "refresh-token", ""}));
    EXPECT_EQ(lookup("c.example"), (Credentials{"", "", "", "bearer-token"}));
    EXPECT_EQ(lookup("d.example"), (Credentials{"a", "b", "", ""}));  // auth wins, as in docker
    EXPECT_EQ(lookup("e.example"), std::nullopt);
    EXPECT_EQ(lookup("f.example"), std::nullopt);
}

TEST_F(DockerConfigKeychain, FieldNamesMatchCaseInsensitively) {
    write_config(R"({"Auths": {"r.example": {"Username": "u", "PASSWORD": "p"}}})");
    EXPECT_EQ(keychain()("r.example"), (Credentials{"u", "p", "", ""}));
}

TEST_F(DockerConfigKeychain, DockerHubUsesTheHistoricalKey) {
    write_config(std::string(R"({"auths": {"https://index.docker.io/v1/": {"auth": ")") +
                 kAliceAuth + R"("}}})");
    const CredentialsLookup lookup = keychain();
    ASSERT_TRUE(lookup("docker.io").has_value());
    EXPECT_EQ(lookup("docker.io")->username, "alice");
    EXPECT_EQ(lookup("index.docker.io")->username, "alice");
    // registry-1.docker.io is only the API host; docker/cli never asks for it.
    EXPECT_EQ(lookup("registry-1.docker.io"), std::nullopt);
}

TEST_F(DockerConfigKeychain, DockerHubIsNotFoundUnderAPlainHostname) {
    // docker/cli looks Docker Hub up under https://index.docker.io/v1/ only.
    write_config(R"({"auths": {"docker.io": {"username": "u", "password": "p"}}})");
    EXPECT_EQ(keychain()("docker.io"), std::nullopt);
}

TEST_F(DockerConfigKeychain, KeysWrittenAsUrlsMatchTheirHost) {
    write_config(R"({"auths": {
        "https://registry.example:5000/v2/": {"username": "a", "password": "1"},
        "http://plain.example": {"username": "b", "password": "2"},
        "legacy.example/v1/": {"username": "c", "password": "3"},
        "https://[::1]:5000/": {"username": "d", "password": "4"}
    }})");
    const CredentialsLookup lookup = keychain();
    EXPECT_EQ(lookup("registry.example:5000")->username, "a");
    EXPECT_EQ(lookup("plain.example")->username, "b");
    EXPECT_EQ(lookup("legacy.example")->username, "c");
    EXPECT_EQ(lookup("[::1]:5000")->username, "d");
    EXPECT_EQ(lookup("registry.example"), std::nullopt);
}

TEST_F(DockerConfigKeychain, ExactKeyWinsOverAUrlKey) {
    write_config(R"({"auths": {
        "https://r.example/v2/": {"username": "url", "password": "1"},
        "r.example": {"username": "exact", "password": "2"}
    }})");
    EXPECT_EQ(keychain()("r.example")->username, "exact");
}

TEST_F(DockerConfigKeychain, TrailingTextAfterTheObjectIsIgnored) {
    // encoding/json's Decoder reads one value, so docker/cli accepts this file.
    write_config(R"({"auths": {"r.example": {"username": "u", "password": "p"}}} trailing)");
    EXPECT_EQ(keychain()("r.example")->username, "u");
}

TEST_F(DockerConfigKeychain, FileIsReadAgainOnEveryLookup) {
    const CredentialsLookup lookup = keychain();
    EXPECT_EQ(lookup("r.example"), std::nullopt);
    write_config(R"({"auths": {"r.example": {"username": "u", "password": "p"}}})");
    EXPECT_EQ(lookup("r.example")->username, "u");
}

TEST_F(DockerConfigKeychain, EnvironmentChoosesTheFolder) {
    write_config(R"({"auths": {"r.example": {"username": "from-env", "password": "p"}}})");
    const char* old_config = std::getenv("DOCKER_CONFIG");
    const std::string saved_config = old_config != nullptr ? old_config : "";
    const char* old_home = std::getenv("HOME");
    const std::string saved_home = old_home != nullptr ? old_home : "";

    ::setenv("DOCKER_CONFIG", config_dir().c_str(), 1);
    EXPECT_EQ(xarch::docker_config_keychain()("r.example")->username, "from-env");

    // Without DOCKER_CONFIG (or with it empty): $HOME/.docker.
    write_file(dir_.path() / "home" / ".docker" / "config.json",
               R"({"auths": {"r.example": {"username": "from-home", "password": "p"}}})");
    ::setenv("DOCKER_CONFIG", "", 1);
    ::setenv("HOME", (dir_.path() / "home").c_str(), 1);
    EXPECT_EQ(xarch::docker_config_keychain()("r.example")->username, "from-home");
    ::unsetenv("DOCKER_CONFIG");
    EXPECT_EQ(xarch::docker_config_keychain()("r.example")->username, "from-home");
    // An explicit folder wins over both.
    DockerConfigOptions options;
    options.config_dir = config_dir();
    EXPECT_EQ(xarch::docker_config_keychain(options)("r.example")->username, "from-env");

    if (old_config != nullptr) {
        ::setenv("DOCKER_CONFIG", saved_config.c_str(), 1);
    }
    if (old_home != nullptr) {
        ::setenv("HOME", saved_home.c_str(), 1);
    }
}

TEST_F(DockerConfigKeychain, BadArgumentsAreRefused) {
    DockerConfigOptions options;
    options.helper_timeout = 0ms;
    EXPECT_THROW(xarch::docker_config_keychain(options), Error);
    EXPECT_THAT(lookup_error("", ErrorCode::kInvalidArgument), HasSubstr("no registry"));
}

// ---- malformed files: a clear error naming the file, and never a secret ----

struct Malformed {
    const char* json;
    const char* why;
};

// Printed as its expected message part with only letters and digits kept, since ctest's test
// names carry the printed value.
void PrintTo(const Malformed& c, std::ostream* out) {
    for (const char* p = c.why; *p != '\0'; ++p) {
        const bool keep =
            (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
        *out << (keep ? *p : '_');
    }
}

class DockerConfigMalformed : public DockerConfigKeychain,
                              public testing::WithParamInterface<Malformed> {};

TEST_P(DockerConfigMalformed, IsAnErrorNamingTheFileWithoutSecrets) {
    write_config(GetParam().json);
    const std::string message = lookup_error("r.example", ErrorCode::kInvalidArgument);
    EXPECT_THAT(message, HasSubstr((config_dir() / "config.json").string()));
    EXPECT_THAT(message, HasSubstr(GetParam().why));
    for (const char* secret : {"c2VjcmV0", "secret", "hunter2", "Zm9vYmFy", "tok3n", "notbase64"}) {
        EXPECT_THAT(message, Not(HasSubstr(secret)));
    }
}

INSTANTIATE_TEST_SUITE_P(
    Files,
    DockerConfigMalformed,
    testing::Values(
        // A syntax error right after a secret: the position is given, never the text.
        Malformed{R"({"auths": {"r.example": {"auth": "c2VjcmV0Omh1bnRlcjI=" }})", "line 1"},
        Malformed{"{\n  \"auths\": {\n    \"r.example\": {\"password\": \"hunter2\",,}\n  }\n}",
                  "line 3"},
        Malformed{R"({"auths": {"r.example": {"auth": "notbase64!secret"}}})", "not valid base64"},
        Malformed{R"({"auths": {"r.example": {"auth": "c2VjcmV0"}}})", "username:password"},
        // base64(":hunter2"): an empty username
        Malformed{R"({"auths": {"r.example": {"auth": "Omh1bnRlcjI="}}})", "username:password"},
        Malformed{R"({"auths": {"r.example": {"auth": "Zm9vYmFy="}}})", "not valid base64"},
        Malformed{R"({"auths": {"r.example": {"password": 12345}}})", "\"password\""},
        Malformed{R"({"auths": {"r.example": {"registrytoken": "tok3n\r\nX-Evil: 1"}}})",
                  "control characters"},
        Malformed{R"({"auths": {"r.example": "hunter2"}})", "must be an object"},
        Malformed{R"({"auths": ["hunter2"]})", "\"auths\" must be an object"},
        Malformed{R"({"credsStore": 5})", "\"credsStore\" must be a string"},
        Malformed{R"({"credHelpers": {"r.example": 5}})", "must be a string"},
        Malformed{R"({"credHelpers": []})", "must be an object"},
        Malformed{R"(["hunter2"])", "top level"},
        Malformed{R"({"auths": {"r.example": {"password": "hunter2")", "JSON"}));

// ---- credential helpers ----

// Answers with the server URL it was given (read from stdin) inside the username.
constexpr std::string_view kEchoHelper =
    R"(read -r url || true
[ "$1" = get ] || exit 3
printf '{"ServerURL":"%s","Username":"user-for-%s",' "$url" "$url"
printf '"Secret":"s3cret-from-helper"}\n')";

TEST_F(DockerConfigKeychain, CredsStoreHelperAnswers) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", kEchoHelper);
    const std::optional<Credentials> found = keychain()("r.example:5000");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->username, "user-for-r.example:5000");
    EXPECT_EQ(found->password, "s3cret-from-helper");
    EXPECT_EQ(found->identity_token, "");
}

TEST_F(DockerConfigKeychain, HelperGetsDockerHubsHistoricalKey) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", kEchoHelper);
    EXPECT_EQ(keychain()("docker.io")->username, "user-for-https://index.docker.io/v1/");
}

TEST_F(DockerConfigKeychain, TokenUsernameMeansIdentityToken) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", R"(cat >/dev/null; echo '{"Username":"<token>","Secret":"refresh"}')");
    EXPECT_EQ(keychain()("r.example"), (Credentials{"", "", "refresh", ""}));
}

TEST_F(DockerConfigKeychain, HelperNotFoundAnswerIsAnonymousEvenWithAnAuthsEntry) {
    // With a helper configured, docker/cli takes the helper's word over the file's.
    write_config(R"({"credsStore": "test",
                     "auths": {"r.example": {"username": "file", "password": "p",
                                             "registrytoken": "kept"}}})");
    write_helper("test", "echo 'credentials not found in native keychain'; exit 1");
    EXPECT_EQ(keychain()("other.example"), std::nullopt);
    // nativeStore.Get keeps what the helper does not replace: the registry token.
    EXPECT_EQ(keychain()("r.example"), (Credentials{"", "", "", "kept"}));
}

TEST_F(DockerConfigKeychain, PrecedenceIsCredHelpersThenCredsStoreThenAuths) {
    write_config(R"({
        "credHelpers": {"a.example": "one", "c.example": ""},
        "credsStore": "two",
        "auths": {
            "a.example": {"username": "file-a", "password": "p"},
            "b.example": {"username": "file-b", "password": "p"},
            "c.example": {"username": "file-c", "password": "p"}
        }
    })");
    write_helper("one", R"(cat >/dev/null; echo '{"Username":"from-one","Secret":"1"}')");
    write_helper("two", R"(cat >/dev/null; echo '{"Username":"from-two","Secret":"2"}')");
    const CredentialsLookup lookup = keychain();
    EXPECT_EQ(lookup("a.example")->username, "from-one");
    EXPECT_EQ(lookup("b.example")->username, "from-two");
    EXPECT_EQ(lookup("d.example")->username, "from-two");
    // An empty credHelpers entry means the file, not credsStore.
    EXPECT_EQ(lookup("c.example")->username, "file-c");
}

TEST_F(DockerConfigKeychain, WithoutHelpersTheFileAnswers) {
    write_config(R"({"credHelpers": {"a.example": "one"},
                     "auths": {"b.example": {"username": "file-b", "password": "p"}}})");
    write_helper("one", "exit 99");  // must not run for b.example
    EXPECT_EQ(keychain()("b.example")->username, "file-b");
}

TEST_F(DockerConfigKeychain, HelperThatIgnoresStdinStillWorks) {
    // The helper exits before reading what we send; that must not raise SIGPIPE here.
    write_config(R"({"credsStore": "test"})");
    write_helper("test", R"(echo '{"Username":"u","Secret":"s"}'; exec 0<&-)");
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(keychain()("r.example")->username, "u");
    }
}

TEST_F(DockerConfigKeychain, TrailingOutputAfterTheAnswerIsIgnored) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", R"(cat >/dev/null; echo '{"Username":"u","Secret":"s"} and more')");
    EXPECT_EQ(keychain()("r.example")->username, "u");
}

TEST_F(DockerConfigKeychain, HelperFailureCarriesItsStderr) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", "cat >/dev/null; echo 'the keyring is locked' >&2; exit 1");
    const std::string message = lookup_error("r.example", ErrorCode::kAuthentication);
    EXPECT_THAT(message, HasSubstr("docker-credential-test"));
    EXPECT_THAT(message, HasSubstr("exit status 1"));
    EXPECT_THAT(message, HasSubstr("the keyring is locked"));
    EXPECT_THAT(message, HasSubstr("\"r.example\""));
}

TEST_F(DockerConfigKeychain, HelperErrorOnStdoutIsShown) {
    // docker-credential-helpers' Serve prints errors on stdout.
    write_config(R"({"credsStore": "test"})");
    write_helper("test", "cat >/dev/null; echo 'no credentials server URL'; exit 1");
    EXPECT_THAT(lookup_error("r.example", ErrorCode::kAuthentication),
                HasSubstr("no credentials server URL"));
}

TEST_F(DockerConfigKeychain, FailingHelperNeverLeaksAnAnswer) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", R"(cat >/dev/null
echo '{"Username":"u","Secret":"top-secret-value"}'
exit 2)");
    const std::string message = lookup_error("r.example", ErrorCode::kAuthentication);
    EXPECT_THAT(message, HasSubstr("exit status 2"));
    EXPECT_THAT(message, Not(HasSubstr("top-secret-value")));
}

TEST_F(DockerConfigKeychain, CrashingHelperIsAnError) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", "echo 'about to crash' >&2; kill -SEGV $$");
    const std::string message = lookup_error("r.example", ErrorCode::kAuthentication);
    EXPECT_THAT(message, HasSubstr("signal " + std::to_string(SIGSEGV)));
    EXPECT_THAT(message, HasSubstr("about to crash"));
}

TEST_F(DockerConfigKeychain, GarbageAnswerIsAnErrorWithoutTheGarbage) {
    write_config(R"({"credsStore": "test"})");
    for (const char* garbage :
         {"echo 'this is not json leaked-secret-1'", "echo '[\"leaked-secret-1\"]'",
          "echo '{\"Username\": 5, \"Secret\": \"leaked-secret-1\"}'",
          "echo '{\"Username\": \"u\", \"Secret\": \"leaked-secret-1'", "true"}) {
        write_helper("test", std::string("cat >/dev/null; ") + garbage);
        const std::string message = lookup_error("r.example", ErrorCode::kAuthentication);
        EXPECT_THAT(message, HasSubstr("not the JSON object")) << garbage;
        EXPECT_THAT(message, Not(HasSubstr("leaked-secret-1"))) << garbage;
    }
}

TEST_F(DockerConfigKeychain, HugeAnswerIsRefusedWithoutHanging) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", "cat >/dev/null; head -c 3000000 /dev/zero | tr '\\0' a");
    EXPECT_THAT(lookup_error("r.example", ErrorCode::kAuthentication), HasSubstr("1 MiB"));
}

bool process_gone(pid_t pid) {
    // Gone, or a zombie waiting for init: either way it no longer runs.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) {
        return true;
    }
    std::string line;
    std::getline(stat, line);
    const std::size_t close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

TEST_F(DockerConfigKeychain, HangingHelperIsKilledAtTheTimeout) {
    write_config(R"({"credsStore": "test"})");
    const fs::path pid_file = dir_.path() / "sleep.pid";
    write_helper("test", "sleep 30 & echo $! > '" + pid_file.string() + "'; wait");
    const auto start = std::chrono::steady_clock::now();
    const std::string message = lookup_error("r.example", ErrorCode::kAuthentication, 300ms);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_THAT(message, HasSubstr("no answer within 300 ms"));
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 10s);

    // What the helper started went down with it (its own process group was killed).
    std::ifstream in(pid_file);
    pid_t sleeper = 0;
    ASSERT_TRUE(in >> sleeper);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        gone = process_gone(sleeper);
        if (!gone) {
            std::this_thread::sleep_for(10ms);
        }
    }
    EXPECT_TRUE(gone) << "pid " << sleeper;
}

TEST_F(DockerConfigKeychain, HelperThatClosesItsOutputAndLingersTimesOut) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", "exec >&- 2>&-; sleep 30");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THAT(lookup_error("r.example", ErrorCode::kAuthentication, 300ms),
                HasSubstr("no answer within"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(DockerConfigKeychain, MissingHelperIsAnError) {
    write_config(R"({"credsStore": "nothere"})");
    const std::string message = lookup_error("r.example", ErrorCode::kAuthentication);
    EXPECT_THAT(message, HasSubstr("docker-credential-nothere"));
    EXPECT_THAT(message, HasSubstr("not found in PATH"));
}

TEST_F(DockerConfigKeychain, NonExecutableOrRelativeHelpersAreNotRun) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", kEchoHelper);
    fs::permissions(bin_dir() / "docker-credential-test", fs::perms::owner_read);
    EXPECT_THAT(lookup_error("r.example", ErrorCode::kAuthentication),
                HasSubstr("not found in PATH"));

    // A relative search path entry is skipped, as Go's exec.LookPath refuses it.
    fs::permissions(bin_dir() / "docker-credential-test", fs::perms::owner_all);
    DockerConfigOptions options;
    options.config_dir = config_dir();
    options.helper_path = fs::relative(bin_dir()).string();
    EXPECT_THROW(xarch::docker_config_keychain(options)("r.example"), Error);
}

TEST_F(DockerConfigKeychain, HelperNameWithASlashIsRefused) {
    write_config(R"({"credsStore": "../../bin/sh"})");
    EXPECT_THAT(lookup_error("r.example", ErrorCode::kAuthentication),
                HasSubstr("invalid credential helper name"));
}

TEST_F(DockerConfigKeychain, ConcurrentLookupsEachRunTheirHelper) {
    write_config(R"({"credsStore": "test"})");
    write_helper("test", kEchoHelper);
    const CredentialsLookup lookup = keychain();
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                const std::string host = "r" + std::to_string(t) + ".example";
                const std::optional<Credentials> found = lookup(host);
                if (found && found->username == "user-for-" + host) {
                    ++good;
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(good.load(), 40);
}

// ---- redaction ----

TEST(CredentialsRedaction, ToStringShowsWhichFieldsAreSetButNoSecret) {
    const Credentials credentials{"alice", "hunter2", "refresh-tok", "bearer-tok"};
    const std::string text = credentials.to_string();
    EXPECT_THAT(text, HasSubstr("alice"));
    EXPECT_THAT(text, HasSubstr("<redacted>"));
    for (const char* secret : {"hunter2", "refresh-tok", "bearer-tok"}) {
        EXPECT_THAT(text, Not(HasSubstr(secret)));
    }
    std::ostringstream out;
    out << credentials;
    EXPECT_EQ(out.str(), text);
    EXPECT_THAT(testing::PrintToString(credentials), Not(HasSubstr("hunter2")));
    EXPECT_THAT(Credentials{}.to_string(), Not(HasSubstr("<redacted>")));
}

TEST(CredentialsRedaction, EmptyMeansAnonymous) {
    EXPECT_TRUE(Credentials{}.empty());
    EXPECT_FALSE((Credentials{"u", "", "", ""}.empty()));
    EXPECT_FALSE((Credentials{"", "", "", "t"}.empty()));
    EXPECT_FALSE((Credentials{"", "", "i", ""}.empty()));
}

// ---- docker/cli's helpers ----

TEST(DockerConfigKeys, AuthConfigKey) {
    using xarch::registry::auth_config_key;
    EXPECT_EQ(auth_config_key("docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(auth_config_key("index.docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(auth_config_key("localhost:5000"), "localhost:5000");
    EXPECT_EQ(auth_config_key("registry-1.docker.io"), "registry-1.docker.io");
}

TEST(DockerConfigKeys, ConvertToHostname) {
    using xarch::registry::convert_to_hostname;
    EXPECT_EQ(convert_to_hostname("https://index.docker.io/v1/"), "index.docker.io");
    EXPECT_EQ(convert_to_hostname("http://localhost:5000"), "localhost:5000");
    EXPECT_EQ(convert_to_hostname("https://user@r.example:443/v2/"), "r.example:443");
    EXPECT_EQ(convert_to_hostname("r.example"), "r.example");
    EXPECT_EQ(convert_to_hostname("r.example/v1/"), "r.example");
    EXPECT_EQ(convert_to_hostname("r.example:5000/x"), "r.example:5000");
    EXPECT_EQ(convert_to_hostname("https://[::1]:5000/v2/"), "[::1]:5000");
    EXPECT_EQ(convert_to_hostname("https://[::1]/v2/"), "::1");
    EXPECT_EQ(convert_to_hostname("https://::1:5000/v2/"), "[::1]:5000");
    EXPECT_EQ(convert_to_hostname("https://r.example:abc/v2/"), "r.example:abc");
    EXPECT_EQ(convert_to_hostname("https://r.example:/v2/"), "r.example");
    EXPECT_EQ(convert_to_hostname(""), "");
}

TEST(DockerConfigKeys, DecodeBase64LikeGo) {
    constexpr auto* decode_base64 = &xarch::util::base64_decode;
    EXPECT_EQ(decode_base64(kAliceAuth), "alice:" + std::string(kAlicePassword));
    EXPECT_EQ(decode_base64(""), "");
    EXPECT_EQ(decode_base64("YQ=="), "a");
    EXPECT_EQ(decode_base64("YWI="), "ab");
    EXPECT_EQ(decode_base64("YWJj"), "abc");
    EXPECT_EQ(decode_base64("YW\r\nJj"), "abc");  // Go drops CR and LF
    EXPECT_EQ(decode_base64("+/+/"), std::string("\xfb\xff\xbf"));
    EXPECT_EQ(decode_base64("YQ"), std::nullopt);  // StdEncoding needs padding
    EXPECT_EQ(decode_base64("YQ=a"), std::nullopt);
    EXPECT_EQ(decode_base64("Y==="), std::nullopt);
    EXPECT_EQ(decode_base64("YQ==YQ=="), std::nullopt);
    EXPECT_EQ(decode_base64("YW-j"), std::nullopt);  // URL alphabet is not StdEncoding
    EXPECT_EQ(decode_base64("YW j"), std::nullopt);
}

TEST(DockerConfigParse, KeepsFileOrderAndHelpers) {
    const auto config = xarch::registry::parse_docker_config(
        R"({"auths": {"b": {}, "a": {}}, "credsStore": "s", "credHelpers": {"x": "h"}})",
        "/x/config.json");
    ASSERT_EQ(config.auths.size(), 2U);
    EXPECT_EQ(config.auths[0].key, "b");
    EXPECT_EQ(config.auths[1].key, "a");
    EXPECT_EQ(config.creds_store, "s");
    ASSERT_EQ(config.cred_helpers.size(), 1U);
    EXPECT_EQ(config.cred_helpers[0], (std::pair<std::string, std::string>{"x", "h"}));
}

}  // namespace
