// SPDX-License-Identifier: Apache-2.0
// xarch::BuildContext: what `docker buildx build` sends with a build — the context directory (or
// a tar of it), the Dockerfile, .dockerignore rules, build args, labels, target, named contexts,
// secrets and SSH agents — and the scan that lists the context's files with content digests, and
// resolves COPY sources against them.
#pragma once

#include "xarch/digest.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

enum class ContextEntryType {
    kRegular = 1,
    kDirectory = 2,
    kSymlink = 3,
    kOther = 4,  // FIFO, socket or device: recorded, never opened
};

// "file", "dir", "symlink", "other".
std::string_view to_string(ContextEntryType type) noexcept;

// One entry of a scanned context: what fsutil's Stat record carries for a file sync.
struct ContextEntry {
    std::string path;  // relative to the context root, '/'-separated, never "" or "."
    ContextEntryType type = ContextEntryType::kRegular;
    std::uint32_t mode = 0;  // st_mode: type bits and permissions
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t size = 0;      // bytes, for regular files (0 otherwise)
    std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
    std::string link_target;    // for symlinks, as stored (never followed)
    Digest digest;              // sha256 of the content, for regular files (empty otherwise)

    friend bool operator==(const ContextEntry&, const ContextEntry&) = default;
};

// `--build-context name=value`: another directory, an image, or an OCI layout.
struct NamedContext {
    enum class Kind {
        kDirectory = 1,  // a local directory (made absolute)
        kImage = 2,      // docker-image://ref
        kOciLayout = 3,  // oci-layout://path[:tag|@digest]
        kUrl = 4,        // a Git or HTTP(S) URL, kept as given
    };
    Kind kind = Kind::kDirectory;
    std::string value;  // the directory, reference, layout or URL without its scheme prefix

    friend bool operator==(const NamedContext&, const NamedContext&) = default;
};

// `--secret id=ID,src=FILE` or `--secret id=ID,env=VAR`.
struct SecretSource {
    enum class Kind { kFile = 1, kEnv = 2 };
    Kind kind = Kind::kFile;
    std::string value;  // the file path or the variable name

    friend bool operator==(const SecretSource&, const SecretSource&) = default;
};

struct ScanOptions {
    // Where the stat cache lives; empty means $XDG_CACHE_HOME/xarch, else $HOME/.cache/xarch.
    std::filesystem::path cache_dir;
    // Reuse digests of files whose (path, size, mtime, inode, mode) did not change. A context
    // extracted from a tar never uses the cache (its inodes are new each time).
    bool use_cache = true;
    // Hashing threads; 0 means one per core.
    unsigned threads = 0;
};

// What the last scan did.
struct ScanStats {
    std::size_t entries = 0;     // records returned
    std::size_t files = 0;       // regular files among them
    std::size_t hashed = 0;      // files read and hashed
    std::size_t cache_hits = 0;  // files whose digest came from the stat cache
    std::int64_t bytes_hashed = 0;
};

// One COPY source and what it matched: a file or directory itself, a directory's contents, or
// every match of a wildcard, each with its contents; sorted by path.
struct CopySourceMatch {
    std::string source;  // as given
    std::vector<ContextEntry> entries;
};

// Resolves COPY/ADD sources against scanned entries as BuildKit does: a source is relative to
// the context root (a leading '/' too); `filepath.Match` wildcards match per path component and
// may match nothing; a directory brings its contents; symlinks on the way are followed inside
// the context. With more than one source, `destination` must end in '/' (when given). Throws
// Error(kInvalidArgument) for a source that leaves the context ("../x") or a bad pattern,
// Error(kNotFound) quoting BuildKit's `"/x": not found` for a missing literal source.
std::vector<CopySourceMatch> resolve_copy_sources(std::span<const ContextEntry> entries,
                                                  const std::vector<std::string>& sources,
                                                  std::string_view destination = {});

class BuildContext {
public:
    // A context directory. Throws Error(kNotFound) quoting `dir` when it is not a directory.
    static BuildContext from_directory(const std::filesystem::path& dir);
    // A tar stream (plain, gzip, bzip2, xz or zstd), as `docker build - < ctx.tar` sends it,
    // extracted into a private temporary directory removed with the context. Entries that would
    // land outside it (absolute paths, "..", through symlinks) and device nodes are refused with
    // Error(kInvalidArgument) naming the entry.
    static BuildContext from_tar_file(const std::filesystem::path& tar);
    // The same from an open descriptor, read to its end (not closed).
    static BuildContext from_tar_fd(int fd);

    ~BuildContext();
    BuildContext(BuildContext&&) noexcept;
    BuildContext& operator=(BuildContext&&) noexcept;
    BuildContext(const BuildContext&) = delete;
    BuildContext& operator=(const BuildContext&) = delete;

    // The directory scanned: the context directory, made absolute, or the extraction directory.
    const std::filesystem::path& directory() const;
    bool from_tar() const;

    // ---- The Dockerfile ----
    // `-f PATH`: relative to the current directory (as buildx resolves it), and may lie outside
    // the context; for a tar context a relative path names a file inside the archive. "-" is not
    // accepted here: give the text with set_dockerfile_text. Throws Error(kNotFound) quoting the
    // path when it is not a file.
    void set_dockerfile(const std::filesystem::path& path);
    // `-f -`: the Dockerfile given as text (read from standard input by the caller).
    void set_dockerfile_text(std::string text);
    // The Dockerfile's path: the one set, else <context>/Dockerfile; nullopt for text.
    std::optional<std::filesystem::path> dockerfile_path() const;
    // The Dockerfile's content. Throws Error(kNotFound) when there is none.
    std::string dockerfile_text() const;

    // ---- Build settings, as buildx's flags give them ----
    // `--build-arg K=V`; "K" alone takes K's value from the environment and is dropped when it
    // is unset. Throws Error(kInvalidArgument) quoting a spec with an empty key.
    void add_build_arg(std::string_view spec);
    void set_build_arg(std::string key, std::string value);
    const std::map<std::string, std::string>& build_args() const;
    // `--label K=V` ("K" alone is an empty value).
    void add_label(std::string_view spec);
    const std::map<std::string, std::string>& labels() const;
    void set_target(std::string target);
    const std::string& target() const;
    // `--build-context name=dir|docker-image://ref|oci-layout://path|URL`. Throws
    // Error(kInvalidArgument) quoting the spec: no '=', a name that is not a valid lowercase
    // image name, a directory that does not exist (kNotFound).
    void add_named_context(std::string_view spec);
    const std::map<std::string, NamedContext>& named_contexts() const;
    // `--secret id=ID[,src=FILE|,env=VAR][,type=file|env]`; with neither src nor env, the
    // variable ID when it is set, else the file ID (as BuildKit's secret store decides). Throws
    // Error(kInvalidArgument) quoting the spec for an unknown key or type, a missing id;
    // Error(kNotFound) for a missing file.
    void add_secret(std::string_view spec);
    const std::map<std::string, SecretSource>& secrets() const;
    // `--ssh default|ID[=SOCKET|KEY[,SOCKET|KEY...]]`; no path means $SSH_AUTH_SOCK. Throws
    // Error(kInvalidArgument) when no path is given and SSH_AUTH_SOCK is unset.
    void add_ssh(std::string_view spec);
    const std::map<std::string, std::vector<std::string>>& ssh() const;

    // ---- Ignore rules ----
    // The ignore file in force: `<Dockerfile>.dockerignore` beside the Dockerfile, else the
    // context's `.dockerignore`; nullopt when there is neither.
    std::optional<std::filesystem::path> ignore_file() const;
    // Its patterns, plus the exceptions that keep the Dockerfile and the ignore file in the
    // context when they are inside it (Docker always sends them).
    std::vector<std::string> ignore_patterns() const;

    // ---- Scanning ----
    // Walks the context, applying the ignore rules (excluded directories are not even read when
    // no exception can reach inside), and records every entry sorted by path; regular files get
    // sha256 digests, hashed on a pool of threads and reused from the stat cache when unchanged.
    // Symlinks are recorded, never followed. Throws Error(kPermissionDenied) / Error(kIo) naming
    // a file or directory that cannot be read.
    const std::vector<ContextEntry>& scan(const ScanOptions& options = {});
    // The entries of the last scan; Error(kInvalidArgument) before any scan.
    const std::vector<ContextEntry>& entries() const;
    const ScanStats& last_scan_stats() const;
    // resolve_copy_sources over the last scan.
    std::vector<CopySourceMatch> resolve_copy_sources(const std::vector<std::string>& sources,
                                                      std::string_view destination = {}) const;

    class Impl;

private:
    explicit BuildContext(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace xarch
