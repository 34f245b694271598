// SPDX-License-Identifier: Apache-2.0
// BuilderStore: what create/use/rm/remove_node leave in builders.json, where the file is, that
// a failed write leaves the old file, that writers in several threads and processes keep each
// other's builders, and the errors a user meets.
#include "unit/emulation/fake_binfmt.hpp"

#include <xarch/builders.hpp>
#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace xarch {
namespace {

namespace stdfs = std::filesystem;
using test::read_text;
using test::TempDir;
using test::write_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The xarch::Error `f` throws; fails the test when it throws none.
template <typename F>
std::optional<Error> error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no xarch::Error thrown";
    return std::nullopt;
}

BuilderStore::CreateOptions docker_node(std::string name,
                                        std::string endpoint,
                                        std::vector<std::string> platforms = {}) {
    BuilderStore::CreateOptions o;
    o.name = std::move(name);
    o.driver = Driver::kDocker;
    o.endpoint = std::move(endpoint);
    for (const std::string& p : platforms) {
        o.platforms.push_back(Platform::parse(p));
    }
    return o;
}

std::vector<std::string> names(const std::vector<BuilderSpec>& builders) {
    std::vector<std::string> out;
    for (const BuilderSpec& b : builders) {
        out.push_back(b.name);
    }
    return out;
}

// Sets an environment variable for one scope and puts the old value back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(BuilderStoreTest, EmptyStoreHasOnlyTheDefaultBuilder) {
    TempDir dir;
    const BuilderStore store(dir.path() / "xarch");
    const std::vector<BuilderSpec> builders = store.list();
    ASSERT_EQ(builders.size(), 1u);
    EXPECT_EQ(builders[0].name, "default");
    ASSERT_EQ(builders[0].nodes.size(), 1u);
    EXPECT_EQ(builders[0].nodes[0].driver, Driver::kEmbedded);
    EXPECT_EQ(builders[0].driver(), Driver::kEmbedded);
    EXPECT_EQ(store.current_name(), "default");
    EXPECT_EQ(store.current(), builders[0]);
    // Reading makes no file.
    EXPECT_FALSE(stdfs::exists(store.file()));
}

TEST(BuilderStoreTest, CreateRoundTripsThroughTheFile) {
    TempDir dir;
    BuilderStore store(dir.path() / "xarch");
    const BuilderSpec made =
        store.create(docker_node("b1", "unix:///tmp/none.sock", {"amd64", "arm"}));
    EXPECT_EQ(made.name, "b1");
    ASSERT_EQ(made.nodes.size(), 1u);
    EXPECT_EQ(made.nodes[0].name, "b10");
    EXPECT_EQ(made.nodes[0].driver, Driver::kDocker);
    EXPECT_EQ(made.nodes[0].endpoint, "unix:///tmp/none.sock");
    EXPECT_THAT(made.nodes[0].platforms,
                ElementsAre(Platform("linux", "amd64"), Platform("linux", "arm", "v7")));

    // Another store over the same directory (another process) reads the same builder.
    const BuilderStore other(dir.path() / "xarch");
    EXPECT_EQ(other.get("b1"), made);
    EXPECT_EQ(other.find("b1"), made);
    EXPECT_EQ(other.find("nope"), std::nullopt);
    EXPECT_THAT(names(other.list()), ElementsAre("default", "b1"));

    // The file is the documented JSON.
    const boost::json::value doc = boost::json::parse(read_text(store.file()));
    const boost::json::object& node = doc.at("builders").at(0).at("nodes").at(0).as_object();
    EXPECT_EQ(doc.at("builders").at(0).at("name"), "b1");
    EXPECT_EQ(node.at("name"), "b10");
    EXPECT_EQ(node.at("driver"), "docker");
    EXPECT_EQ(node.at("endpoint"), "unix:///tmp/none.sock");
    EXPECT_EQ(node.at("platforms"), (boost::json::array{"linux/amd64", "linux/arm/v7"}));
}

TEST(BuilderStoreTest, AppendAddsNumberedNodesAndBuildersListByName) {
    TempDir dir;
    BuilderStore store(dir.path() / "xarch");
    store.create(docker_node("zeta", "unix:///a.sock"));
    BuilderStore::CreateOptions embedded;
    embedded.name = "alpha";
    embedded.driver = Driver::kEmbedded;
    store.create(embedded);
    BuilderStore::CreateOptions append = docker_node("zeta", "tcp://192.0.2.1:2376", {"arm64"});
    append.append = true;
    const BuilderSpec zeta = store.create(append);
    ASSERT_EQ(zeta.nodes.size(), 2u);
    EXPECT_EQ(zeta.nodes[0].name, "zeta0");
    EXPECT_EQ(zeta.nodes[1].name, "zeta1");
    EXPECT_THAT(zeta.nodes[1].platforms, ElementsAre(Platform("linux", "arm64")));
    BuilderStore::CreateOptions named = docker_node("zeta", "ctx");
    named.append = true;
    named.node_name = "big-arm";
    EXPECT_EQ(store.create(named).nodes.back().name, "big-arm");
    EXPECT_THAT(names(store.list()), ElementsAre("default", "alpha", "zeta"));
    EXPECT_EQ(store.get("alpha").driver(), Driver::kEmbedded);
    EXPECT_EQ(store.get("zeta").driver(), Driver::kDocker);
}

TEST(BuilderStoreTest, NamesAreMadeWhenNotGiven) {
    TempDir dir;
    BuilderStore store(dir.path() / "xarch");
    EXPECT_EQ(store.create(docker_node("", "unix:///a.sock")).name, "xarch0");
    const BuilderSpec second = store.create(docker_node("", "unix:///a.sock"));
    EXPECT_EQ(second.name, "xarch1");
    EXPECT_EQ(second.nodes[0].name, "xarch10");
}

TEST(BuilderStoreTest, UseAndRemove) {
    TempDir dir;
    BuilderStore store(dir.path() / "xarch");
    store.create(docker_node("b1", "unix:///a.sock"));
    BuilderStore::CreateOptions b2 = docker_node("b2", "unix:///b.sock");
    b2.use = true;
    store.create(b2);
    EXPECT_EQ(store.current_name(), "b2");
    store.use("b1");
    EXPECT_EQ(store.current_name(), "b1");
    EXPECT_EQ(store.current().nodes[0].endpoint, "unix:///a.sock");
    store.use("default");
    EXPECT_EQ(store.current_name(), "default");

    store.use("b2");
    store.remove("b2");
    EXPECT_EQ(store.current_name(), "default");
    EXPECT_THAT(names(store.list()), ElementsAre("default", "b1"));
    // Removing another builder leaves the current one.
    store.use("b1");
    store.create(docker_node("b3", "unix:///c.sock"));
    store.remove("b3");
    EXPECT_EQ(store.current_name(), "b1");
}

TEST(BuilderStoreTest, RemovingTheLastNodeRemovesTheBuilder) {
    TempDir dir;
    BuilderStore store(dir.path() / "xarch");
    BuilderStore::CreateOptions b = docker_node("b", "unix:///a.sock");
    b.use = true;
    store.create(b);
    b.append = true;
    b.use = false;
    b.endpoint = "unix:///b.sock";
    store.create(b);
    const BuilderSpec left = store.remove_node("b", "b0");
    ASSERT_EQ(left.nodes.size(), 1u);
    EXPECT_EQ(left.nodes[0].name, "b1");
    EXPECT_EQ(store.get("b"), left);
    EXPECT_TRUE(store.remove_node("b", "b1").nodes.empty());
    EXPECT_EQ(store.find("b"), std::nullopt);
    EXPECT_EQ(store.current_name(), "default");
    const auto e = error_of([&] { store.remove_node("b", "b1"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
}

TEST(BuilderStoreTest, ErrorsQuoteTheInputAndSayWhatToDo) {
    TempDir dir;
    BuilderStore store(dir.path() / "xarch");
    store.create(docker_node("b1", "unix:///a.sock"));

    auto e = error_of([&] { store.create(docker_node("b1", "unix:///b.sock")); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kAlreadyExists);
    EXPECT_THAT(e->what(), HasSubstr("\"b1\""));
    EXPECT_THAT(e->what(), HasSubstr("--append"));

    BuilderStore::CreateOptions append = docker_node("nope", "unix:///b.sock");
    append.append = true;
    e = error_of([&] { store.create(append); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    EXPECT_THAT(e->what(), HasSubstr("\"nope\""));

    e = error_of([&] { store.get("nope"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    EXPECT_THAT(e->what(), HasSubstr("\"nope\""));
    EXPECT_THAT(e->what(), HasSubstr("default, b1"));
    e = error_of([&] { store.use("nope"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);
    e = error_of([&] { store.remove("nope"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kNotFound);

    e = error_of([&] { store.remove("default"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("default"));
    e = error_of([&] { store.create(docker_node("default", "unix:///b.sock")); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);

    e = error_of([&] { store.create(docker_node("Bad Name", "unix:///b.sock")); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("\"Bad Name\""));

    // A second node of the same name, or on the same endpoint.
    append = docker_node("b1", "unix:///b.sock");
    append.append = true;
    append.node_name = "b10";
    e = error_of([&] { store.create(append); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("\"b10\""));
    append.node_name.clear();
    append.endpoint = "unix:///a.sock";
    e = error_of([&] { store.create(append); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("\"unix:///a.sock\""));

    BuilderStore::CreateOptions embedded;
    embedded.name = "e";
    embedded.driver = Driver::kEmbedded;
    embedded.endpoint = "tcp://192.0.2.1:2375";
    e = error_of([&] { store.create(embedded); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("\"tcp://192.0.2.1:2375\""));

    for (const char* endpoint : {"ssh://user@192.0.2.1", "http://192.0.2.1:2375", "unix://"}) {
        e = error_of([&] { store.create(docker_node("d", endpoint)); });
        ASSERT_TRUE(e) << endpoint;
        EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
        EXPECT_THAT(e->what(), HasSubstr(std::string("\"") + endpoint + "\""));
        EXPECT_THAT(e->what(), HasSubstr("tcp://host:port"));
    }

    // None of the refused changes reached the file.
    EXPECT_THAT(names(store.list()), ElementsAre("default", "b1"));
    EXPECT_EQ(store.get("b1").nodes.size(), 1u);
}

TEST(BuilderStoreTest, DriverNames) {
    EXPECT_EQ(to_string(Driver::kEmbedded), "embedded");
    EXPECT_EQ(to_string(Driver::kDocker), "docker");
    EXPECT_EQ(parse_driver("embedded"), Driver::kEmbedded);
    EXPECT_EQ(parse_driver("docker"), Driver::kDocker);
    const auto e = error_of([] { parse_driver("docker-container"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e->what(), HasSubstr("\"docker-container\""));
    EXPECT_THAT(e->what(), HasSubstr("embedded or docker"));
}

TEST(BuilderStoreTest, ADamagedFileIsNamedWithWhatToDo) {
    TempDir dir;
    const stdfs::path config = dir.path() / "xarch";
    stdfs::create_directories(config);
    BuilderStore store(config);
    for (const char* text :
         {"{not json", "[]", R"({"builders":[{"name":"b","nodes":[]}]})",
          R"({"builders":[{"name":"b","nodes":[{"name":"b0","driver":"x"}]}]})",
          R"({"builders":[{"nodes":[]}]})",
          R"({"builders":[{"name":"default","nodes":[{"name":"d0","driver":"embedded"}]}]})",
          R"({"builders":[{"name":"b","nodes":[{"name":"b0","driver":"embedded"}]},)"
          R"({"name":"b","nodes":[{"name":"b0","driver":"embedded"}]}]})"}) {
        write_text(store.file(), text);
        const auto e = error_of([&] { store.list(); });
        ASSERT_TRUE(e) << text;
        EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument) << text;
        EXPECT_THAT(e->what(), HasSubstr(store.file().string())) << text;
        EXPECT_THAT(e->what(), HasSubstr("remove it")) << text;
    }
}

TEST(BuilderStoreTest, DirectoryFromXdgConfigHomeElseHome) {
    {
        const ScopedEnv xdg("XDG_CONFIG_HOME", "/somewhere/config");
        const ScopedEnv home("HOME", "/home/someone");
        EXPECT_EQ(BuilderStore().file(), "/somewhere/config/xarch/builders.json");
    }
    {
        const ScopedEnv xdg("XDG_CONFIG_HOME", nullptr);
        const ScopedEnv home("HOME", "/home/someone");
        EXPECT_EQ(BuilderStore().file(), "/home/someone/.config/xarch/builders.json");
    }
    {
        // The XDG spec says to ignore a relative path.
        const ScopedEnv xdg("XDG_CONFIG_HOME", "relative/config");
        const ScopedEnv home("HOME", "/home/someone");
        EXPECT_EQ(BuilderStore().file(), "/home/someone/.config/xarch/builders.json");
    }
    {
        // Nowhere to keep builders: "default" is there, changes are refused saying why.
        const ScopedEnv xdg("XDG_CONFIG_HOME", nullptr);
        const ScopedEnv home("HOME", nullptr);
        BuilderStore store;
        EXPECT_THAT(names(store.list()), ElementsAre("default"));
        EXPECT_EQ(store.current_name(), "default");
        const auto e = error_of([&] { store.create(docker_node("b1", "unix:///a.sock")); });
        ASSERT_TRUE(e);
        EXPECT_EQ(e->code(), ErrorCode::kNotFound);
        EXPECT_THAT(e->what(), HasSubstr("XDG_CONFIG_HOME"));
    }
    TempDir dir;
    const ScopedEnv xdg("XDG_CONFIG_HOME", dir.path().c_str());
    BuilderStore().create(docker_node("b1", "unix:///a.sock"));
    EXPECT_TRUE(stdfs::exists(dir.path() / "xarch" / "builders.json"));
    EXPECT_EQ(BuilderStore(dir.path() / "xarch").get("b1").nodes[0].endpoint, "unix:///a.sock");
}

// A write that fails half-way (the file size limit stops it) leaves the old file as it was, and
// no temporary file behind.
TEST(BuilderStoreTest, AFailedWriteLeavesTheOldFile) {
    TempDir dir;
    const stdfs::path config = dir.path() / "xarch";
    BuilderStore store(config);
    store.create(docker_node("b1", "unix:///a.sock"));
    const std::string before = read_text(store.file());
    const auto entries = [&] {
        std::vector<std::string> out;
        for (const auto& e : stdfs::directory_iterator(config)) {
            out.push_back(e.path().filename().string());
        }
        std::sort(out.begin(), out.end());
        return out;
    };
    const std::vector<std::string> files_before = entries();

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{before.size() / 2, before.size() / 2};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
            ::_exit(3);
        }
        try {
            store.create(docker_node("b2", "unix:///b.sock", {"arm64", "amd64", "riscv64"}));
        } catch (const Error& e) {
            ::_exit(e.code() == ErrorCode::kIo ? 0 : 4);
        } catch (...) {
            ::_exit(5);
        }
        ::_exit(6);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the write was expected to fail with kIo";
    EXPECT_EQ(read_text(store.file()), before);
    EXPECT_EQ(entries(), files_before);
    EXPECT_THAT(names(store.list()), ElementsAre("default", "b1"));
}

// Without write permission on the directory (as an ordinary user: root writes anyway) the change
// fails with an error naming the place, and the old file stays.
TEST(BuilderStoreTest, AReadOnlyDirectoryRefusesTheChangeAndKeepsTheFile) {
    TempDir dir;
    const stdfs::path config = dir.path() / "xarch";
    BuilderStore store(config);
    store.create(docker_node("b1", "unix:///a.sock"));
    const std::string before = read_text(store.file());
    ::chmod(config.c_str(), 0555);
    ::chmod(store.file().c_str(), 0644);
    const int status = test::run_as_nobody({dir.path().string()}, [&] {
        try {
            BuilderStore(config).create(docker_node("b2", "unix:///b.sock"));
        } catch (const Error& e) {
            const std::string what = e.what();
            return what.find(config.string()) != std::string::npos ? 0 : 1;
        }
        return 2;
    });
    ::chmod(config.c_str(), 0755);
    EXPECT_EQ(status, 0) << "expected an xarch::Error naming " << config;
    EXPECT_EQ(read_text(store.file()), before);
}

TEST(BuilderStoreTest, ThreadsCreatingAtOnceKeepEveryBuilder) {
    TempDir dir;
    const stdfs::path config = dir.path() / "xarch";
    constexpr int kThreads = 8;
    std::vector<std::thread> threads;
    std::vector<std::string> failures(kThreads);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            try {
                // Each thread its own store object, as each process has its own.
                BuilderStore(config).create(docker_node("t" + std::to_string(i), "unix:///a.sock"));
            } catch (const std::exception& e) {
                failures[i] = e.what();
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    for (const std::string& f : failures) {
        EXPECT_EQ(f, "");
    }
    EXPECT_EQ(BuilderStore(config).list().size(), kThreads + 1u);
}

TEST(BuilderStoreTest, ProcessesCreatingAtOnceKeepEveryBuilder) {
    TempDir dir;
    const stdfs::path config = dir.path() / "xarch";
    constexpr int kProcesses = 4;
    constexpr int kEach = 5;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int failed = 0;
            for (int j = 0; j < kEach; ++j) {
                try {
                    BuilderStore(config).create(docker_node(
                        "p" + std::to_string(p) + "-" + std::to_string(j), "unix:///a.sock"));
                } catch (...) {
                    ++failed;
                }
            }
            ::_exit(failed);
        }
        children.push_back(pid);
    }
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0);
    }
    const std::vector<BuilderSpec> builders = BuilderStore(config).list();
    EXPECT_EQ(builders.size(), kProcesses * kEach + 1u);
    for (int p = 0; p < kProcesses; ++p) {
        for (int j = 0; j < kEach; ++j) {
            const std::string name = "p" + std::to_string(p) + "-" + std::to_string(j);
            EXPECT_TRUE(BuilderStore(config).find(name)) << name;
        }
    }
}

}  // namespace
}  // namespace xarch
