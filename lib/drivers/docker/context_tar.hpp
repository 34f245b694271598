// SPDX-License-Identifier: Apache-2.0
// The build context as `docker build` sends it to POST /build: a tar of the scanned entries
// (ignore rules applied), produced on demand while the request body is read, plus the
// Dockerfile under the name the engine must look for.
#pragma once

#include "context/entry_stream.hpp"
#include "util/unique_fd.hpp"

#include <xarch/context.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xarch::drivers::docker {

// Pull-based: read() fills the caller's buffer with the next bytes of the tar and returns 0 at
// its end; regular files are opened and read in chunks only when their turn comes, so neither
// the whole tar nor a temporary file ever exists. Headers are written as Go's archive/tar
// writes them (layer::tar_header), with modes, uid/gid and mtimes (seconds) as scanned, which
// is what docker/cli's archive.TarWithOptions sends on Linux.
//
// The Dockerfile: inside the context it is sent where it is (even when the ignore rules
// exclude it: BuildContext::ignore_patterns keeps it), and dockerfile_name() is its path
// relative to the context. Given as text, lying outside the context, or missing from the scan,
// it is added as ".dockerfile.<20 hex>" and that name is appended to the context's
// .dockerignore (one is added when there is none), as docker/cli's AddDockerfileToBuildContext
// does, so that the engine drops it from what COPY sees.
// Where the tar's entries come from.
enum class ContextEntries {
    kScanned,  // the context's scan (made first when it has none)
    kWalked,   // a walk while the tar is read (context::EntryStream)
};

class ContextTar {
public:
    // Scans `context` first when it has not been scanned. `context` must outlive this object
    // and must not be scanned again while the tar is read. Throws what the scan and
    // dockerfile_text() throw.
    explicit ContextTar(BuildContext& context);
    // With `dockerfile_text` sent as the Dockerfile instead of the context's (a generated
    // entry, as for text): the engine builds from it. kWalked: the entries are walked while the
    // tar is read, as `docker build` does (no scan before the first byte; the context's own
    // scan, if any, is not used and not touched, so builds may share the context).
    ContextTar(BuildContext& context,
               std::optional<std::string> dockerfile_text,
               ContextEntries entries = ContextEntries::kScanned);
    ContextTar(const ContextTar&) = delete;
    ContextTar& operator=(const ContextTar&) = delete;

    // The Dockerfile as the build must name it ('/'-separated, relative to the context).
    const std::string& dockerfile_name() const { return dockerfile_name_; }

    // Up to `size` bytes of the tar; fewer only at its end, 0 once it is all read. Throws
    // Error(kIo) naming a file that cannot be read or changed size since the scan.
    std::size_t read(char* buffer, std::size_t size);

    // Bytes handed out so far.
    std::int64_t bytes_read() const { return bytes_read_; }

private:
    // One entry beyond the scan (the generated Dockerfile, a .dockerignore), held in memory.
    struct Extra {
        std::string path;
        std::string content;
        std::int64_t mtime_ns = 0;
    };

    bool next_entry();
    void queue_header(const ContextEntry& entry, std::int64_t size, std::uint32_t type_bits);
    void queue_memory_file(const std::string& path,
                           const std::string& content,
                           std::uint32_t mode,
                           std::uint32_t uid,
                           std::uint32_t gid,
                           std::int64_t mtime_ns);

    // The next entry of the scan or the walk; nullptr after the last.
    const ContextEntry* next_scanned();

    const std::filesystem::path root_;
    const std::vector<ContextEntry>* entries_ = nullptr;  // kScanned
    std::unique_ptr<context::EntryStream> walk_;          // kWalked
    ContextEntry walked_;                                 // the walk's current entry
    bool entries_done_ = false;
    std::string dockerfile_name_;
    // The context's .dockerignore is sent with dockerignore_suffix_ (the generated Dockerfile's
    // name) appended.
    bool amend_dockerignore_ = false;
    std::string dockerignore_suffix_;
    std::vector<Extra> extras_;

    std::size_t next_index_ = 0;  // into entries_ (kScanned)
    std::size_t next_extra_ = 0;  // into extras_
    bool trailer_queued_ = false;
    std::string pending_;  // header, in-memory content or padding waiting to be read
    std::size_t pending_offset_ = 0;
    util::UniqueFd file_;  // the regular file being sent
    std::string file_path_;
    std::int64_t file_remaining_ = 0;
    std::int64_t file_size_ = 0;
    std::int64_t bytes_read_ = 0;
};

}  // namespace xarch::drivers::docker
