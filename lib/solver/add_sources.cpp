// SPDX-License-Identifier: Apache-2.0
// ADD's archives (libarchive) and URLs (libcurl).
#include "add_sources.hpp"

#include "oci/fs.hpp"
#include "util/path.hpp"
#include "util/quote.hpp"

#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

namespace xarch::solver {

namespace {

bool starts_with(const std::string& data, std::string_view magic) {
    return data.size() >= magic.size() && std::string_view(data).substr(0, magic.size()) == magic;
}

std::string head(const std::filesystem::path& file, std::size_t n) {
    std::ifstream in(file, std::ios::binary);
    std::string data(n, '\0');
    in.read(data.data(), static_cast<std::streamsize>(n));
    data.resize(static_cast<std::size_t>(in.gcount()));
    return data;
}

struct ArchiveCloser {
    void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

bool is_archive(const std::filesystem::path& file) {
    const std::string data = head(file, 512);
    if (starts_with(data, "\x1f\x8b") || starts_with(data, "BZh") ||
        starts_with(data, std::string_view("\xfd"
                                           "7zXZ\0",
                                           6)) ||
        starts_with(data, "\x28\xb5\x2f\xfd")) {
        // A compressed stream: an archive only when a tar is inside.
        std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
        archive_read_support_filter_all(a.get());
        archive_read_support_format_tar(a.get());
        if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
            return false;
        }
        archive_entry* entry = nullptr;
        return archive_read_next_header(a.get(), &entry) == ARCHIVE_OK;
    }
    return data.size() >= 262 && std::string_view(data).substr(257, 5) == "ustar";
}

std::vector<layer::Entry> extract_archive(const std::filesystem::path& file,
                                          const std::filesystem::path& dir) {
    std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    const auto fail = [&](const std::string& why) -> Error {
        return Error(ErrorCode::kInvalidArgument,
                     "cannot unpack " + util::quote(file.filename().string()) + " for ADD: " + why);
    };
    if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw fail(archive_error_string(a.get()));
    }
    std::filesystem::create_directories(dir);
    std::vector<layer::Entry> out;
    archive_entry* entry = nullptr;
    std::size_t counter = 0;
    while (true) {
        const int r = archive_read_next_header(a.get(), &entry);
        if (r == ARCHIVE_EOF) {
            break;
        }
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            throw fail(archive_error_string(a.get()));
        }
        const char* raw = archive_entry_pathname(entry);
        const std::string cleaned = util::clean_path(std::string("/") + (raw ? raw : ""));
        if (cleaned == "/") {
            continue;
        }
        std::string original(raw ? raw : "");
        if (original.find("..") != std::string::npos &&
            util::clean_path(original).starts_with("..")) {
            throw fail("entry " + util::quote(original) + " leaves the archive");
        }
        layer::Entry e;
        e.path = cleaned.substr(1);
        e.mode = static_cast<std::uint32_t>(archive_entry_perm(entry)) & 07777;
        e.uid = static_cast<std::uint32_t>(archive_entry_uid(entry));
        e.gid = static_cast<std::uint32_t>(archive_entry_gid(entry));
        e.mtime_ns = static_cast<std::int64_t>(archive_entry_mtime(entry)) * 1000000000 +
                     archive_entry_mtime_nsec(entry);
        if (const char* hard = archive_entry_hardlink(entry)) {
            e.type = layer::EntryType::kHardlink;
            e.link_target = util::clean_path(std::string("/") + hard).substr(1);
            out.push_back(std::move(e));
            continue;
        }
        switch (archive_entry_filetype(entry)) {
            case AE_IFDIR:
                e.type = layer::EntryType::kDirectory;
                break;
            case AE_IFLNK:
                e.type = layer::EntryType::kSymlink;
                e.link_target = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
                break;
            case AE_IFIFO:
                e.type = layer::EntryType::kFifo;
                break;
            case AE_IFCHR:
            case AE_IFBLK:
                e.type = archive_entry_filetype(entry) == AE_IFCHR ? layer::EntryType::kCharDevice
                                                                   : layer::EntryType::kBlockDevice;
                e.dev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(entry));
                e.dev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(entry));
                break;
            default: {
                e.type = layer::EntryType::kRegular;
                // Files are stored flat under numbered names: the archive's own tree never has to
                // exist on disk, so nothing in it can point outside `dir`.
                e.source_file = dir / std::to_string(counter++);
                std::ofstream outfile(e.source_file, std::ios::binary);
                std::array<char, 1 << 16> buffer{};
                std::int64_t total = 0;
                while (true) {
                    const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
                    if (n < 0) {
                        throw fail(archive_error_string(a.get()));
                    }
                    if (n == 0) {
                        break;
                    }
                    outfile.write(buffer.data(), n);
                    total += n;
                }
                if (!outfile) {
                    throw Error(ErrorCode::kIo, "cannot write " + e.source_file.string());
                }
                e.size = total;
                break;
            }
        }
        out.push_back(std::move(e));
    }
    return out;
}

namespace {

struct Download {
    std::FILE* file = nullptr;
    Hasher hasher;
    std::int64_t size = 0;
    bool failed = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* d = static_cast<Download*>(user);
    const std::size_t n = size * count;
    if (std::fwrite(data, 1, n, d->file) != n) {
        d->failed = true;
        return 0;
    }
    d->hasher.update(std::string_view(data, n));
    d->size += static_cast<std::int64_t>(n);
    return n;
}

struct CurlCloser {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

}  // namespace

layer::Entry fetch_url(std::string_view url,
                       std::string_view checksum,
                       const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    std::string name(url);
    if (const auto q = name.find_first_of("?#"); q != std::string::npos) {
        name.resize(q);
    }
    const auto scheme = name.find("://");
    const auto path_start = name.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    name = path_start == std::string::npos ? std::string() : name.substr(path_start);
    while (!name.empty() && name.back() == '/') {
        name.pop_back();
    }
    name = name.substr(name.rfind('/') + 1);
    if (name.empty()) {
        name = "__unnamed__";
    }
    const std::filesystem::path target = dir / oci::fs::temp_name();
    Download download;
    download.file = std::fopen(target.c_str(), "wb");
    if (download.file == nullptr) {
        throw Error(ErrorCode::kIo, "cannot create " + target.string());
    }
    std::unique_ptr<CURL, CurlCloser> curl(curl_easy_init());
    const std::string url_text(url);
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl.get(), CURLOPT_URL, url_text.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FILETIME, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &write_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &download);
    const CURLcode code = curl_easy_perform(curl.get());
    std::fclose(download.file);
    if (code != CURLE_OK || download.failed) {
        std::filesystem::remove(target);
        throw Error(ErrorCode::kNetwork,
                    "ADD " + util::quote(url) + ": " +
                        (error[0] != '\0' ? std::string(error) : curl_easy_strerror(code)));
    }
    const Digest digest = download.hasher.finish();
    if (!checksum.empty()) {
        const Digest want = Digest::parse_any_algorithm(checksum);
        if (want.algorithm() != "sha256" || want != digest) {
            std::filesystem::remove(target);
            throw Error(ErrorCode::kDigestMismatch,
                        "ADD " + util::quote(url) + ": digest mismatch: --checksum is " +
                            want.to_string() + ", the content is " + digest.to_string());
        }
    }
    long filetime = -1;
    curl_easy_getinfo(curl.get(), CURLINFO_FILETIME, &filetime);
    layer::Entry e;
    e.path = name;
    e.type = layer::EntryType::kRegular;
    e.mode = 0600;
    e.size = download.size;
    // Without Last-Modified BuildKit's file keeps the time it was written: the download time.
    e.mtime_ns = filetime > 0 ? static_cast<std::int64_t>(filetime) * 1000000000
                              : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    e.source_file = target;
    return e;
}

}  // namespace xarch::solver
