// SPDX-License-Identifier: Apache-2.0
// ADD's sources: archives recognised by content (each compression, a bare tar, look-alikes that
// are not), unpacked safely; URLs downloaded over real HTTP from a server on 127.0.0.1 that the
// test runs (names, mode, Last-Modified, --checksum, HTTP errors).
#include "solver/add_sources.hpp"

#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace xarch::solver {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir()
        : path_(fs::path(::testing::TempDir()) /
                ("add_sources_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    fs::path path_;
};

std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

struct TarMember {
    std::string path;
    std::string data;
    unsigned type = AE_IFREG;
    std::string link;  // symlink target or hard link name
};

// Writes a tar with `filter` (an archive_write_add_filter_* function, null for none); false
// when this libarchive cannot write that compression.
bool write_tar(const fs::path& file,
               int (*filter)(archive*),
               const std::vector<TarMember>& members) {
    archive* a = archive_write_new();
    if (filter != nullptr && filter(a) != ARCHIVE_OK) {
        archive_write_free(a);
        return false;
    }
    archive_write_set_format_pax_restricted(a);
    EXPECT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
    for (const TarMember& m : members) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.path.c_str());
        archive_entry_set_mtime(e, 1600000000, 0);
        if (m.type == AE_IFREG && !m.link.empty()) {
            archive_entry_set_hardlink(e, m.link.c_str());
        } else {
            archive_entry_set_filetype(e, m.type);
            archive_entry_set_perm(e, m.type == AE_IFDIR ? 0750 : 0640);
            archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
            if (m.type == AE_IFLNK) {
                archive_entry_set_symlink(e, m.link.c_str());
            }
        }
        archive_write_header(a, e);
        if (!m.data.empty()) {
            archive_write_data(a, m.data.data(), m.data.size());
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return true;
}

const std::vector<TarMember> kMembers = {
    {"pkg/", "", AE_IFDIR, ""},
    {"pkg/readme", "hello\n", AE_IFREG, ""},
    {"pkg/alias", "", AE_IFLNK, "readme"},
    {"pkg/same", "", AE_IFREG, "pkg/readme"},
};

TEST(AddSources, EveryCompressionAndBareTarIsAnArchive) {
    TempDir dir;
    const std::map<std::string, int (*)(archive*)> filters = {
        {"none", nullptr},
        {"gzip", archive_write_add_filter_gzip},
        {"bzip2", archive_write_add_filter_bzip2},
        {"xz", archive_write_add_filter_xz},
        {"zstd", archive_write_add_filter_zstd},
    };
    int written = 0;
    for (const auto& [name, filter] : filters) {
        const fs::path file = dir.path() / ("a-" + name);
        if (!write_tar(file, filter, kMembers)) {
            continue;  // this libarchive lacks the compressor; the others still run
        }
        ++written;
        EXPECT_TRUE(is_archive(file)) << name;
    }
    EXPECT_GE(written, 3);
}

TEST(AddSources, LookAlikesAreNotArchives) {
    TempDir dir;
    std::ofstream(dir.path() / "text") << "just text, no tar here";
    std::ofstream(dir.path() / "empty");
    // gzip magic over something that is not a tar: BuildKit copies it as a file.
    {
        archive* a = archive_write_new();
        archive_write_add_filter_gzip(a);
        archive_write_set_format_raw(a);
        archive_write_open_filename(a, (dir.path() / "not-tar.gz").c_str());
        archive_entry* e = archive_entry_new();
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, 5);
        archive_write_header(a, e);
        archive_write_data(a, "plain", 5);
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
    }
    EXPECT_FALSE(is_archive(dir.path() / "text"));
    EXPECT_FALSE(is_archive(dir.path() / "empty"));
    EXPECT_FALSE(is_archive(dir.path() / "not-tar.gz"));
    EXPECT_FALSE(is_archive(dir.path() / "does-not-exist"));
}

TEST(AddSources, ExtractKeepsTypesAttributesAndLinks) {
    TempDir dir;
    const fs::path tgz = dir.path() / "a.tgz";
    ASSERT_TRUE(write_tar(tgz, archive_write_add_filter_gzip, kMembers));
    std::map<std::string, layer::Entry> out;
    for (layer::Entry& e : extract_archive(tgz, dir.path() / "x")) {
        out.emplace(e.path, std::move(e));
    }
    ASSERT_EQ(out.size(), 4U);
    EXPECT_EQ(out.at("pkg").type, layer::EntryType::kDirectory);
    EXPECT_EQ(out.at("pkg").mode, 0750U);
    EXPECT_EQ(out.at("pkg/readme").type, layer::EntryType::kRegular);
    EXPECT_EQ(out.at("pkg/readme").mode, 0640U);
    EXPECT_EQ(out.at("pkg/readme").mtime_ns, 1600000000LL * 1000000000);
    EXPECT_EQ(read(out.at("pkg/readme").source_file), "hello\n");
    EXPECT_EQ(out.at("pkg/alias").type, layer::EntryType::kSymlink);
    EXPECT_EQ(out.at("pkg/alias").link_target, "readme");
    EXPECT_EQ(out.at("pkg/same").type, layer::EntryType::kHardlink);
    EXPECT_EQ(out.at("pkg/same").link_target, "pkg/readme");
}

TEST(AddSources, ExtractRefusesEntriesLeavingTheArchive) {
    TempDir dir;
    const fs::path tar = dir.path() / "evil.tar";
    ASSERT_TRUE(write_tar(tar, nullptr, {{"../../escape", "x", AE_IFREG, ""}}));
    try {
        extract_archive(tar, dir.path() / "x");
        FAIL() << "an entry leaving the archive was extracted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find("../../escape"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escape"));
}

// A one-thread HTTP/1.0 server on 127.0.0.1 (port chosen by the kernel) serving fixed
// responses by request path.
class LoopbackHttpServer {
public:
    explicit LoopbackHttpServer(std::map<std::string, std::string> responses)
        : responses_(std::move(responses)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(fd_, 8), 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~LoopbackHttpServer() {
        stopping_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

private:
    void serve() {
        while (!stopping_) {
            const int client = ::accept(fd_, nullptr, nullptr);
            if (client < 0) {
                return;
            }
            std::string request;
            char buffer[1024];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
                if (n <= 0) {
                    break;
                }
                request.append(buffer, static_cast<std::size_t>(n));
            }
            const auto start = request.find(' ') + 1;
            const std::string path = request.substr(start, request.find(' ', start) - start);
            const auto found = responses_.find(path);
            const std::string response =
                found != responses_.end() ? found->second
                                          : "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            std::size_t sent = 0;
            while (sent < response.size()) {
                const ssize_t n =
                    ::send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) {
                    break;
                }
                sent += static_cast<std::size_t>(n);
            }
            ::close(client);
        }
    }

    std::map<std::string, std::string> responses_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

std::string ok(std::string_view body, std::string_view extra_headers = {}) {
    return "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extra_headers) + "\r\n" + std::string(body);
}

const std::string kBody = "#!/bin/sh\necho installed\n";

TEST(AddSources, FetchUrlNamesTheFileAndKeepsLastModified) {
    LoopbackHttpServer server({
        {"/dist/install.sh", ok(kBody, "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n")},
        {"/dist/install.sh?v=2", ok(kBody)},
        {"/", ok("root")},
    });
    TempDir dir;
    const layer::Entry e = fetch_url(server.url("/dist/install.sh"), "", dir.path());
    EXPECT_EQ(e.path, "install.sh");
    EXPECT_EQ(e.type, layer::EntryType::kRegular);
    EXPECT_EQ(e.mode, 0600U);
    EXPECT_EQ(e.size, static_cast<std::int64_t>(kBody.size()));
    EXPECT_EQ(e.mtime_ns, 1445412480LL * 1000000000);
    EXPECT_EQ(read(e.source_file), kBody);
    EXPECT_EQ(e.source_file.parent_path(), dir.path());

    // The query is not part of the name; without Last-Modified the time is the download's.
    const layer::Entry query = fetch_url(server.url("/dist/install.sh?v=2"), "", dir.path());
    EXPECT_EQ(query.path, "install.sh");
    EXPECT_NE(query.source_file, e.source_file);
    EXPECT_GT(query.mtime_ns, 1445412480LL * 1000000000);

    const layer::Entry unnamed = fetch_url(server.url("/"), "", dir.path());
    EXPECT_EQ(unnamed.path, "__unnamed__");
    EXPECT_EQ(read(unnamed.source_file), "root");
}

TEST(AddSources, FetchUrlVerifiesTheChecksum) {
    LoopbackHttpServer server({{"/tool", ok(kBody)}});
    TempDir dir;
    const std::string good = Digest::of(kBody).to_string();
    EXPECT_EQ(read(fetch_url(server.url("/tool"), good, dir.path()).source_file), kBody);

    const std::string wrong = Digest::of("something else").to_string();
    try {
        fetch_url(server.url("/tool"), wrong, dir.path());
        FAIL() << "a wrong --checksum was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kDigestMismatch);
        const std::string message = e.what();
        EXPECT_NE(message.find(wrong), std::string::npos) << message;
        EXPECT_NE(message.find(good), std::string::npos) << message;
    }
    // Only the verified download is left in the directory.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AddSources, FetchUrlHttpErrorsAreNetworkErrors) {
    LoopbackHttpServer server({});
    TempDir dir;
    try {
        fetch_url(server.url("/missing.tar.gz"), "", dir.path());
        FAIL() << "a 404 was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNetwork);
        EXPECT_NE(std::string(e.what()).find("/missing.tar.gz"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace xarch::solver
