// SPDX-License-Identifier: Apache-2.0
// xarch_context and xarch_context_files: options, scans (ignore rules, digests, symlinks, the
// stat cache), tar contexts, COPY resolution, and the errors, through the shared library only.
#include "capi_test_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace xarch_capi_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ContextPtr = std::unique_ptr<xarch_context, Deleter<xarch_context_free>>;
using FilesPtr = std::unique_ptr<xarch_context_files, Deleter<xarch_context_files_free>>;

// sha256("a\n").
constexpr const char* kDigestOfA =
    "sha256:87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";

class CapiContext : public ::testing::Test {
protected:
    void SetUp() override {
        std::filesystem::create_directories(dir_.path() / "ctx/sub");
        std::filesystem::create_directories(dir_.path() / "ctx/node_modules/pkg");
        write_file(dir_ / "ctx/Dockerfile", "FROM scratch\nCOPY a.txt /\n");
        write_file(dir_ / "ctx/.dockerignore", "node_modules\n*.log\n");
        write_file(dir_ / "ctx/a.txt", "a\n");
        write_file(dir_ / "ctx/debug.log", "log\n");
        write_file(dir_ / "ctx/sub/s.c", "int s;\n");
        write_file(dir_ / "ctx/node_modules/pkg/index.js", "x\n");
        std::filesystem::create_symlink("a.txt", dir_.path() / "ctx/link");
    }

    ContextPtr make(const xarch_context_options* options = nullptr) {
        xarch_context* ctx = nullptr;
        EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "ctx").c_str(), options), XARCH_OK)
            << last_message();
        return ContextPtr(ctx);
    }
    FilesPtr scan(xarch_context* ctx) {
        xarch_scan_options options = XARCH_SCAN_OPTIONS_INIT;
        options.cache_dir = cache_.c_str();
        xarch_context_files* files = nullptr;
        EXPECT_EQ(xarch_context_scan(&files, ctx, &options), XARCH_OK) << last_message();
        return FilesPtr(files);
    }
    static std::vector<std::string> paths(const xarch_context_files* files) {
        std::vector<std::string> out;
        for (size_t i = 0; i < xarch_context_files_size(files); ++i) {
            out.push_back(str(xarch_context_files_path(files, i)));
        }
        return out;
    }
    static size_t index_of(const xarch_context_files* files, const std::string& path) {
        for (size_t i = 0; i < xarch_context_files_size(files); ++i) {
            if (path == xarch_context_files_path(files, i)) {
                return i;
            }
        }
        return SIZE_MAX;
    }

    TempDir dir_;
    std::string cache_ = dir_ / "cache";
};

TEST_F(CapiContext, OptionsInit) {
    xarch_context_options options;
    ASSERT_EQ(xarch_context_options_init(&options, XARCH_CONTEXT_OPTIONS_VERSION), XARCH_OK);
    EXPECT_EQ(options.version, 1u);
    EXPECT_EQ(options.dockerfile, nullptr);
    EXPECT_EQ(options.build_args_count, 0u);
    EXPECT_EQ(xarch_context_options_init(&options, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_context_options_init(&options, 99), XARCH_EUNSUPPORTED);
    EXPECT_EQ(xarch_context_options_init(nullptr, 1), XARCH_EINVAL);
    xarch_scan_options scan;
    ASSERT_EQ(xarch_scan_options_init(&scan, XARCH_SCAN_OPTIONS_VERSION), XARCH_OK);
    EXPECT_EQ(scan.flags, 0u);
    EXPECT_EQ(scan.cache_dir, nullptr);
}

TEST_F(CapiContext, ScanListsWhatTheBuildSees) {
    ContextPtr ctx = make();
    ASSERT_NE(ctx, nullptr);
    EXPECT_EQ(str(xarch_context_directory(ctx.get())), dir_ / "ctx");
    FilesPtr files = scan(ctx.get());
    ASSERT_NE(files, nullptr);
    EXPECT_THAT(paths(files.get()),
                ElementsAre(".dockerignore", "Dockerfile", "a.txt", "link", "sub", "sub/s.c"));
    const size_t a = index_of(files.get(), "a.txt");
    EXPECT_STREQ(xarch_context_files_digest(files.get(), a), kDigestOfA);
    EXPECT_EQ(xarch_context_files_file_size(files.get(), a), 2);
    EXPECT_EQ(xarch_context_files_type(files.get(), a), XARCH_CONTEXT_ENTRY_REGULAR);
    EXPECT_TRUE(S_ISREG(xarch_context_files_mode(files.get(), a)));
    EXPECT_GT(xarch_context_files_mtime_ns(files.get(), a), 0);
    const size_t link = index_of(files.get(), "link");
    EXPECT_EQ(xarch_context_files_type(files.get(), link), XARCH_CONTEXT_ENTRY_SYMLINK);
    EXPECT_STREQ(xarch_context_files_link_target(files.get(), link), "a.txt");
    EXPECT_STREQ(xarch_context_files_digest(files.get(), link), "");
    EXPECT_EQ(xarch_context_files_type(files.get(), index_of(files.get(), "sub")),
              XARCH_CONTEXT_ENTRY_DIRECTORY);
}

TEST_F(CapiContext, GettersRejectBadIndexAndNull) {
    ContextPtr ctx = make();
    FilesPtr files = scan(ctx.get());
    EXPECT_EQ(xarch_context_files_path(files.get(), 999), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("out of range"));
    EXPECT_EQ(xarch_context_files_size(nullptr), 0u);
    EXPECT_EQ(xarch_context_files_type(nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_context_directory(nullptr), nullptr);
    xarch_context_free(nullptr);
    xarch_context_files_free(nullptr);
}

TEST_F(CapiContext, OptionsApply) {
    write_file(dir_ / "other.Dockerfile", "FROM other\n");
    write_file(dir_ / "other.Dockerfile.dockerignore", "sub\n");
    const std::string dockerfile = dir_ / "other.Dockerfile";
    const char* args[] = {"A=1", "B=2"};
    const char* labels[] = {"l=v"};
    xarch_context_options options = XARCH_CONTEXT_OPTIONS_INIT;
    options.dockerfile = dockerfile.c_str();
    options.target = "release";
    options.build_args = args;
    options.build_args_count = 2;
    options.labels = labels;
    options.labels_count = 1;
    ContextPtr ctx = make(&options);
    ASSERT_NE(ctx, nullptr);
    xarch_buf text = XARCH_BUF_INIT;
    ASSERT_EQ(xarch_context_dockerfile(&text, ctx.get()), XARCH_OK);
    EXPECT_STREQ(text.ptr, "FROM other\n");
    xarch_buf_dispose(&text);
    xarch_strarray patterns = XARCH_STRARRAY_INIT;
    ASSERT_EQ(xarch_context_ignore_patterns(&patterns, ctx.get()), XARCH_OK);
    ASSERT_EQ(patterns.count, 1u);
    EXPECT_STREQ(patterns.strings[0], "sub");
    xarch_strarray_dispose(&patterns);
    FilesPtr files = scan(ctx.get());
    EXPECT_EQ(index_of(files.get(), "sub"), SIZE_MAX) << "the Dockerfile's own ignore file wins";
    EXPECT_NE(index_of(files.get(), "node_modules/pkg/index.js"), SIZE_MAX);
}

TEST_F(CapiContext, DockerfileText) {
    xarch_context_options options = XARCH_CONTEXT_OPTIONS_INIT;
    options.dockerfile_text = "FROM stdin\n";
    ContextPtr ctx = make(&options);
    xarch_buf text = XARCH_BUF_INIT;
    ASSERT_EQ(xarch_context_dockerfile(&text, ctx.get()), XARCH_OK);
    EXPECT_STREQ(text.ptr, "FROM stdin\n");
    xarch_buf_dispose(&text);
}

TEST_F(CapiContext, BadInputIsQuoted) {
    xarch_context* ctx = reinterpret_cast<xarch_context*>(0x1);
    EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "missing").c_str(), nullptr), XARCH_ENOTFOUND);
    EXPECT_EQ(ctx, nullptr);
    EXPECT_THAT(last_message(), HasSubstr("missing\" is not a directory"));
    EXPECT_EQ(xarch_context_new(&ctx, nullptr, nullptr), XARCH_EINVAL);

    const char* bad[] = {"=nope"};
    xarch_context_options options = XARCH_CONTEXT_OPTIONS_INIT;
    options.build_args = bad;
    options.build_args_count = 1;
    EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "ctx").c_str(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("\"=nope\""));

    const char* named[] = {"novalue"};
    options = XARCH_CONTEXT_OPTIONS_INIT;
    options.named_contexts = named;
    options.named_contexts_count = 1;
    EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "ctx").c_str(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("expected name=value"));

    options = XARCH_CONTEXT_OPTIONS_INIT;
    options.build_args_count = 1;  // with a NULL array
    EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "ctx").c_str(), &options), XARCH_EINVAL);

    options = XARCH_CONTEXT_OPTIONS_INIT;
    options.dockerfile = "/nonexistent/Dockerfile";
    EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "ctx").c_str(), &options), XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("\"/nonexistent/Dockerfile\" not found"));

    options.version = 0;
    EXPECT_EQ(xarch_context_new(&ctx, (dir_ / "ctx").c_str(), &options), XARCH_EINVAL);

    ContextPtr good = make();
    xarch_scan_options scan_options = XARCH_SCAN_OPTIONS_INIT;
    scan_options.flags = 0x80;
    xarch_context_files* files = nullptr;
    EXPECT_EQ(xarch_context_scan(&files, good.get(), &scan_options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("unknown bits 0x80"));
}

TEST_F(CapiContext, StatCacheAndNoCache) {
    ContextPtr ctx = make();
    FilesPtr first = scan(ctx.get());
    FilesPtr second = scan(ctx.get());
    EXPECT_EQ(paths(first.get()), paths(second.get()));
    xarch_scan_options options = XARCH_SCAN_OPTIONS_INIT;
    options.flags = XARCH_SCAN_NO_CACHE;
    options.threads = 1;
    xarch_context_files* files = nullptr;
    ASSERT_EQ(xarch_context_scan(&files, ctx.get(), &options), XARCH_OK);
    FilesPtr third(files);
    EXPECT_STREQ(xarch_context_files_digest(third.get(), index_of(third.get(), "a.txt")),
                 kDigestOfA);
}

TEST_F(CapiContext, ResolveCopy) {
    ContextPtr ctx = make();
    FilesPtr files = scan(ctx.get());
    const char* sources[] = {"a.txt", "sub", "*.txt"};
    xarch_context_files* out = nullptr;
    ASSERT_EQ(xarch_context_files_resolve_copy(&out, files.get(), sources, 3, "/dst/"), XARCH_OK)
        << last_message();
    FilesPtr matched(out);
    EXPECT_THAT(paths(matched.get()), ElementsAre("a.txt", "sub", "sub/s.c"));
    EXPECT_STREQ(xarch_context_files_digest(matched.get(), 0), kDigestOfA);

    const char* link[] = {"link"};
    ASSERT_EQ(xarch_context_files_resolve_copy(&out, files.get(), link, 1, nullptr), XARCH_OK);
    FilesPtr followed(out);
    EXPECT_THAT(paths(followed.get()), ElementsAre("a.txt")) << "COPY follows the symlink";

    const char* missing[] = {"nope.txt"};
    EXPECT_EQ(xarch_context_files_resolve_copy(&out, files.get(), missing, 1, nullptr),
              XARCH_ENOTFOUND);
    EXPECT_EQ(out, nullptr);
    EXPECT_THAT(last_message(), HasSubstr("\"/nope.txt\": not found"));
    const char* escape[] = {"../secret"};
    EXPECT_EQ(xarch_context_files_resolve_copy(&out, files.get(), escape, 1, nullptr),
              XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("outside the build context"));
    const char* two[] = {"a.txt", "sub"};
    EXPECT_EQ(xarch_context_files_resolve_copy(&out, files.get(), two, 2, "/file"), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("end with a /"));
    const char* ignored[] = {"debug.log"};
    EXPECT_EQ(xarch_context_files_resolve_copy(&out, files.get(), ignored, 1, nullptr),
              XARCH_ENOTFOUND)
        << "an ignored file is not in the context";
}

TEST_F(CapiContext, TarFromPipe) {
    const std::string tar = dir_ / "ctx.tar";
    const std::string command = "tar -C '" + (dir_ / "ctx") + "' -cf '" + tar + "' . 2>/dev/null";
    if (std::system(command.c_str()) != 0) {
        GTEST_SKIP() << "no tar program to make the archive";
    }
    const int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    xarch_context* raw = nullptr;
    ASSERT_EQ(xarch_context_new_from_tar(&raw, fd, nullptr), XARCH_OK) << last_message();
    ::close(fd);
    ContextPtr ctx(raw);
    const std::string extracted = str(xarch_context_directory(ctx.get()));
    EXPECT_TRUE(std::filesystem::is_directory(extracted));
    FilesPtr files = scan(ctx.get());
    EXPECT_THAT(paths(files.get()),
                ElementsAre(".dockerignore", "Dockerfile", "a.txt", "link", "sub", "sub/s.c"));
    ctx.reset();
    EXPECT_FALSE(std::filesystem::exists(extracted));
    EXPECT_EQ(xarch_context_files_size(files.get()), 6u) << "the list outlives its context";

    EXPECT_EQ(xarch_context_new_from_tar(&raw, -1, nullptr), XARCH_EINVAL);
    const int zeros = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(xarch_context_new_from_tar(&raw, zeros, nullptr), XARCH_EINVAL)
        << "an empty stream is no archive";
    ::close(zeros);
}

TEST_F(CapiContext, ConcurrentScansOfOneContext) {
    ContextPtr ctx = make();
    std::vector<std::thread> threads;
    std::vector<size_t> sizes(4);
    for (size_t t = 0; t < sizes.size(); ++t) {
        threads.emplace_back([&, t] {
            xarch_scan_options options = XARCH_SCAN_OPTIONS_INIT;
            options.flags = XARCH_SCAN_NO_CACHE;
            xarch_context_files* files = nullptr;
            if (xarch_context_scan(&files, ctx.get(), &options) == XARCH_OK) {
                sizes[t] = xarch_context_files_size(files);
            }
            xarch_context_files_free(files);
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_THAT(sizes, ElementsAre(6u, 6u, 6u, 6u));
}

}  // namespace
}  // namespace xarch_capi_test
