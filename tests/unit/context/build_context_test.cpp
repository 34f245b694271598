// SPDX-License-Identifier: Apache-2.0
// xarch::BuildContext settings as buildx's flags give them, the Dockerfile (-f inside and outside
// the context, text), which ignore file wins, and the files Docker always sends.
#include "context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace xarch_context_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using xarch::BuildContext;
using xarch::Error;
using xarch::ErrorCode;
using xarch::NamedContext;
using xarch::ScanOptions;
using xarch::SecretSource;

ScanOptions no_cache() {
    ScanOptions o;
    o.use_cache = false;
    return o;
}

template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no xarch::Error thrown";
    return Error(ErrorCode::kInternal, "none");
}

TEST(BuildContext, MissingDirectoryQuotesIt) {
    TempTree t;
    const Error e = error_of([&] { BuildContext::from_directory(t / "nope"); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr((t / "nope").string() + "\" is not a directory"));
    t.file("plain");
    EXPECT_EQ(error_of([&] { BuildContext::from_directory(t / "plain"); }).code(),
              ErrorCode::kNotFound);
    EXPECT_EQ(error_of([&] { BuildContext::from_directory(""); }).code(),
              ErrorCode::kInvalidArgument);
}

TEST(BuildContext, DefaultDockerfileIsInTheContext) {
    TempTree t;
    t.file("Dockerfile", "FROM scratch\n");
    BuildContext ctx = BuildContext::from_directory(t.root());
    EXPECT_EQ(ctx.directory(), t.root());
    EXPECT_EQ(ctx.dockerfile_path(), t / "Dockerfile");
    EXPECT_EQ(ctx.dockerfile_text(), "FROM scratch\n");
}

TEST(BuildContext, MissingDefaultDockerfileSaysHowToGiveOne) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    const Error e = error_of([&] { static_cast<void>(ctx.dockerfile_text()); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("-f"));
}

TEST(BuildContext, DockerfileNotFoundQuotesThePath) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    const Error e = error_of([&] { ctx.set_dockerfile(t / "Dockerfile.missing"); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("Dockerfile.missing\" not found"));
    EXPECT_THAT(e.what(), HasSubstr("relative to the current directory"));
    t.dir("adir");
    EXPECT_THAT(error_of([&] { ctx.set_dockerfile(t / "adir"); }).what(),
                HasSubstr("is a directory"));
    EXPECT_EQ(error_of([&] { ctx.set_dockerfile("-"); }).code(), ErrorCode::kInvalidArgument);
}

TEST(BuildContext, RelativeDockerfileIsRelativeToTheCurrentDirectory) {
    TempTree t;
    t.file("ctx/Dockerfile", "FROM ctx\n");
    t.file("other/Dockerfile", "FROM other\n");
    const fs::path saved = fs::current_path();
    fs::current_path(t.root());
    BuildContext ctx = BuildContext::from_directory("ctx");
    ctx.set_dockerfile("other/Dockerfile");  // as buildx: not ctx/other/Dockerfile
    fs::current_path(saved);
    EXPECT_EQ(ctx.dockerfile_text(), "FROM other\n");
    EXPECT_EQ(ctx.dockerfile_path(), t / "other/Dockerfile");
    EXPECT_EQ(ctx.directory(), t / "ctx");
}

TEST(BuildContext, DockerfileText) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    ctx.set_dockerfile_text("FROM stdin\n");
    EXPECT_EQ(ctx.dockerfile_text(), "FROM stdin\n");
    EXPECT_EQ(ctx.dockerfile_path(), std::nullopt);
}

TEST(BuildContext, DockerfileSpecificIgnoreFileWins) {
    TempTree t;
    t.file("ctx/.dockerignore", "a\n");
    t.file("ctx/a");
    t.file("ctx/b");
    t.file("ctx/sub/app.Dockerfile", "FROM x\n");
    t.file("ctx/sub/app.Dockerfile.dockerignore", "b\n");
    BuildContext ctx = BuildContext::from_directory(t / "ctx");
    EXPECT_EQ(ctx.ignore_file(), t / "ctx/.dockerignore");
    EXPECT_THAT(paths(ctx.scan(no_cache())),
                ElementsAre(".dockerignore", "b", "sub", "sub/app.Dockerfile",
                            "sub/app.Dockerfile.dockerignore"));
    ctx.set_dockerfile(t / "ctx/sub/app.Dockerfile");
    EXPECT_EQ(ctx.ignore_file(), t / "ctx/sub/app.Dockerfile.dockerignore");
    EXPECT_THAT(paths(ctx.scan(no_cache())),
                ElementsAre(".dockerignore", "a", "sub", "sub/app.Dockerfile",
                            "sub/app.Dockerfile.dockerignore"));
}

TEST(BuildContext, DockerfileOutsideTheContextBringsItsIgnoreFile) {
    TempTree t;
    t.file("ctx/keep");
    t.file("ctx/secret.key");
    t.file("build/Dockerfile", "FROM x\n");
    t.file("build/Dockerfile.dockerignore", "*.key\n");
    BuildContext ctx = BuildContext::from_directory(t / "ctx");
    ctx.set_dockerfile(t / "build/Dockerfile");
    EXPECT_EQ(ctx.ignore_file(), t / "build/Dockerfile.dockerignore");
    EXPECT_THAT(ctx.ignore_patterns(), ElementsAre("*.key"));
    EXPECT_THAT(paths(ctx.scan(no_cache())), ElementsAre("keep"));
}

TEST(BuildContext, DockerfileAndIgnoreFileAreAlwaysSent) {
    TempTree t;
    t.file(".dockerignore", "*\n");
    t.file("Dockerfile", "FROM x\n");
    t.file("app.go");
    t.file("docker/Dockerfile.prod", "FROM y\n");
    BuildContext ctx = BuildContext::from_directory(t.root());
    EXPECT_THAT(paths(ctx.scan(no_cache())), ElementsAre(".dockerignore", "Dockerfile"));
    ctx.set_dockerfile(t / "docker/Dockerfile.prod");
    EXPECT_THAT(paths(ctx.scan(no_cache())),
                ElementsAre(".dockerignore", "docker", "docker/Dockerfile.prod"));
}

TEST(BuildContext, AlwaysSentNamesWithPatternCharacters) {
    TempTree t;
    t.file(".dockerignore", "*\n");
    t.file("Dockerfile[1]", "FROM x\n");
    t.file("Dockerfile1");
    BuildContext ctx = BuildContext::from_directory(t.root());
    ctx.set_dockerfile(t / "Dockerfile[1]");
    EXPECT_THAT(paths(ctx.scan(no_cache())), ElementsAre(".dockerignore", "Dockerfile[1]"));
}

TEST(BuildContext, BuildArgs) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    ::setenv("XARCH_TEST_FROM_ENV", "env value", 1);
    ::unsetenv("XARCH_TEST_UNSET");
    ctx.add_build_arg("A=1");
    ctx.add_build_arg("B=x=y");
    ctx.add_build_arg("EMPTY=");
    ctx.add_build_arg("XARCH_TEST_FROM_ENV");
    ctx.add_build_arg("XARCH_TEST_UNSET");
    ctx.set_build_arg("A", "2");
    const std::map<std::string, std::string> want{
        {"A", "2"}, {"B", "x=y"}, {"EMPTY", ""}, {"XARCH_TEST_FROM_ENV", "env value"}};
    EXPECT_EQ(ctx.build_args(), want);
    const Error e = error_of([&] { ctx.add_build_arg("=oops"); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("\"=oops\""));
}

TEST(BuildContext, LabelsAndTarget) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    ctx.add_label("org.opencontainers.image.title=demo");
    ctx.add_label("flag");
    const std::map<std::string, std::string> want{{"flag", ""},
                                                  {"org.opencontainers.image.title", "demo"}};
    EXPECT_EQ(ctx.labels(), want);
    EXPECT_THAT(error_of([&] { ctx.add_label("=v"); }).what(), HasSubstr("\"=v\""));
    ctx.set_target("release");
    EXPECT_EQ(ctx.target(), "release");
}

TEST(BuildContext, NamedContexts) {
    TempTree t;
    t.dir("deps");
    BuildContext ctx = BuildContext::from_directory(t.root());
    ctx.add_named_context("deps=" + (t / "deps").string());
    ctx.add_named_context("alpine=docker-image://alpine:3.19");
    ctx.add_named_context("docker.io/library/debian:latest=oci-layout:///srv/layout:tag");
    ctx.add_named_context("src=https://github.com/moby/buildkit.git");
    const auto& named = ctx.named_contexts();
    ASSERT_EQ(named.size(), 4u);
    EXPECT_EQ(named.at("deps"),
              (NamedContext{NamedContext::Kind::kDirectory, (t / "deps").string()}));
    EXPECT_EQ(named.at("alpine"), (NamedContext{NamedContext::Kind::kImage, "alpine:3.19"}));
    EXPECT_EQ(named.at("debian"), (NamedContext{NamedContext::Kind::kOciLayout, "/srv/layout:tag"}))
        << "names are keyed like buildx: familiar, without :latest";
    EXPECT_EQ(named.at("src").kind, NamedContext::Kind::kUrl);

    Error e = error_of([&] { ctx.add_named_context("nodelimiter"); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("invalid context value: \"nodelimiter\", expected name=value"));
    e = error_of([&] { ctx.add_named_context("Bad Name=x"); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("invalid context name \"Bad Name\""));
    e = error_of([&] { ctx.add_named_context("deps2=" + (t / "missing").string()); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("missing\" not found"));
    e = error_of([&] { ctx.add_named_context("img=docker-image://bad name"); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
}

TEST(BuildContext, Secrets) {
    TempTree t;
    t.file("token", "s3cret");
    t.file("big", std::string(600 * 1024, 'x'));
    BuildContext ctx = BuildContext::from_directory(t.root());
    ::setenv("XARCH_TEST_SECRET", "v", 1);
    ::unsetenv("XARCH_TEST_NO_SUCH_SECRET");
    ctx.add_secret("id=tok,src=" + (t / "token").string());
    ctx.add_secret("id=api,env=API_TOKEN");
    ctx.add_secret("type=env,id=aws,src=AWS_KEY");
    ctx.add_secret("id=XARCH_TEST_SECRET");
    const auto& s = ctx.secrets();
    EXPECT_EQ(s.at("tok"), (SecretSource{SecretSource::Kind::kFile, (t / "token").string()}));
    EXPECT_EQ(s.at("api"), (SecretSource{SecretSource::Kind::kEnv, "API_TOKEN"}));
    EXPECT_EQ(s.at("aws"), (SecretSource{SecretSource::Kind::kEnv, "AWS_KEY"}));
    EXPECT_EQ(s.at("XARCH_TEST_SECRET"),
              (SecretSource{SecretSource::Kind::kEnv, "XARCH_TEST_SECRET"}));

    // With no src and no such variable, BuildKit looks for a file named like the id.
    Error e = error_of([&] { ctx.add_secret("id=XARCH_TEST_NO_SUCH_SECRET"); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("\"XARCH_TEST_NO_SUCH_SECRET\""));
    e = error_of([&] { ctx.add_secret("id=x,src=" + (t / "nope").string()); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    e = error_of([&] { ctx.add_secret("id=x,path=/y"); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("unexpected key \"path\""));
    e = error_of([&] { ctx.add_secret("id=x,type=vault"); });
    EXPECT_THAT(e.what(), HasSubstr("unsupported secret type \"vault\""));
    e = error_of([&] { ctx.add_secret("src=/etc/hostname"); });
    EXPECT_THAT(e.what(), HasSubstr("missing its id"));
    e = error_of([&] { ctx.add_secret("id=x,novalue"); });
    EXPECT_THAT(e.what(), HasSubstr("\"novalue\" must be a key=value pair"));
    e = error_of([&] { ctx.add_secret("id=big,src=" + (t / "big").string()); });
    EXPECT_THAT(e.what(), HasSubstr("too big"));
}

TEST(BuildContext, Ssh) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    const char* saved = std::getenv("SSH_AUTH_SOCK");
    const std::string saved_value = saved != nullptr ? saved : "";
    ::setenv("SSH_AUTH_SOCK", "/run/agent.sock", 1);
    ctx.add_ssh("default");
    ctx.add_ssh("deploy=/keys/a,/keys/b");
    EXPECT_THAT(ctx.ssh().at("default"), ElementsAre("/run/agent.sock"));
    EXPECT_THAT(ctx.ssh().at("deploy"), ElementsAre("/keys/a", "/keys/b"));
    ::unsetenv("SSH_AUTH_SOCK");
    const Error e = error_of([&] { ctx.add_ssh("other"); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("SSH_AUTH_SOCK"));
    EXPECT_THAT(error_of([&] { ctx.add_ssh("=x"); }).what(), HasSubstr("id is empty"));
    if (saved != nullptr) {
        ::setenv("SSH_AUTH_SOCK", saved_value.c_str(), 1);
    }
}

TEST(BuildContext, EntriesBeforeScanIsAnError) {
    TempTree t;
    BuildContext ctx = BuildContext::from_directory(t.root());
    EXPECT_EQ(error_of([&] { static_cast<void>(ctx.entries()); }).code(),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace xarch_context_test
