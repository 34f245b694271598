// SPDX-License-Identifier: Apache-2.0
// xarch::Builder: `docker buildx build` as a library. It plans the Dockerfile of a BuildContext
// for every platform asked for, runs the steps on a pool of threads with a persistent cache
// (steps whose inputs did not change are not run again; a layer identical for several platforms
// is built once), and exports the result as buildx's --output types do: an image index pushed
// to a registry, an OCI layout or archive, a docker archive or `--load`, a local directory or a
// tar of the final filesystem.
#pragma once

#include <xarch/builders.hpp>
#include <xarch/context.hpp>
#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/platform.hpp>
#include <xarch/progress.hpp>
#include <xarch/reference.hpp>
#include <xarch/registry.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

enum class Compression {
    kGzip = 1,  // the default, compressed on all cores, readable by any gzip reader
    kZstd = 2,
    kUncompressed = 3,
};

/// "gzip", "zstd", "uncompressed".
std::string_view to_string(Compression compression) noexcept;

/// One `--output` (`-o`) of buildx: `type=registry`, `type=image[,push=true]`,
/// `type=oci,dest=FILE|DIR[,tar=false]`, `type=docker[,dest=FILE]`, `type=local,dest=DIR`,
/// `type=tar,dest=FILE`; a bare path means `type=local,dest=PATH`, `-` means `type=tar` to
/// standard output.
struct OutputSpec {
    enum class Type {
        kRegistry = 1,  // push the index (type=image,push=true is the same)
        kImage = 2,     // build the image; push=true pushes it
        kOci = 3,
        kDocker = 4,  // a docker archive at dest; no dest: load into the Docker Engine
        kLocal = 5,
        kTar = 6,
    };
    Type type = Type::kImage;
    std::string dest;                // file or directory; "-" is standard output
    bool tar = true;                 // type=oci: false writes an OCI layout directory
    bool push = false;               // type=image: push=true
    std::vector<std::string> names;  // name=a,b (the tags); -t adds to these
    Compression compression = Compression::kGzip;
    int compression_level = -1;  // -1: the compressor's default
    bool force_compression = false;
    bool oci_media_types = true;  // oci-mediatypes=false: Docker's media types
    // Attributes not modelled above (annotation.*, unpack, store, ...), as given.
    std::map<std::string, std::string> attributes;

    /// Parses buildx's CSV syntax. Throws Error(kInvalidArgument) quoting the value for an
    /// unknown type, a malformed pair, a bad compression or boolean.
    static OutputSpec parse(std::string_view text);
};

/// One `--cache-to` / `--cache-from`: `type=registry,ref=REF[,mode=min|max]`,
/// `type=local,dest=DIR` / `type=local,src=DIR`; a bare reference means type=registry,ref=REF.
struct CacheSpec {
    std::string type = "registry";
    std::string ref;           // registry: the cache image reference
    std::string dest;          // local cache-to
    std::string src;           // local cache-from
    std::string mode = "min";  // min: the exported image's steps; max: every step
    std::map<std::string, std::string> attributes;

    static CacheSpec parse(std::string_view text);
};

struct BuildOptions {
    /// Target platforms; empty: the host's.
    std::vector<Platform> platforms;
    /// `-t`: names for the image outputs (and the registry push).
    std::vector<std::string> tags;
    /// `--output`. `--push` adds type=registry, `--load` type=docker; with no output at all the
    /// image is built and kept in the cache only (buildx's warning says so).
    std::vector<OutputSpec> outputs;
    /// `--annotation`: index and manifest annotations (IndexAnnotation syntax).
    std::vector<std::string> annotations;
    /// `--no-cache`: run every step again (results still go into the cache).
    bool no_cache = false;
    /// `--pull`: fetch the base images again. Both drivers always ask the registry for a base's
    /// tag once per build already (an engine's classic builder keeps one image per tag, so a
    /// docker node pulls each platform's base before building it); kept for buildx's flag.
    bool pull = false;
    std::vector<CacheSpec> cache_from;
    std::vector<CacheSpec> cache_to;
    /// `SOURCE_DATE_EPOCH` (seconds): the image and history `created` times and a clamp on
    /// every file time in the layers built, so that the same inputs give the same digests. Also
    /// taken from the build arg and the environment variable of that name when not set here.
    std::optional<std::int64_t> source_date_epoch;
    /// `--metadata-file`, `--iidfile`: written after a successful build.
    std::filesystem::path metadata_file;
    std::filesystem::path iid_file;
    /// The Docker Engine `--load` talks to: "unix:///path", "tcp://host:port"; "" means
    /// $DOCKER_HOST, else unix:///var/run/docker.sock.
    std::string docker_host;
    /// `--allow`: entitlements RUN steps may use: "network.host" (RUN --network=host) and
    /// "security.insecure" (RUN --security=insecure).
    std::vector<std::string> allow;
    /// `--network`: the network of every RUN step whose own `RUN --network` is "default":
    /// "default" (or ""; the embedded driver runs it in the host's network), "none" (a network
    /// namespace with only loopback) or "host" (which, as in buildx, also allows "network.host" for
    /// the build). Docker nodes get it as the engine's networkmode. Anything else is
    /// Error(kInvalidArgument).
    std::string network = "default";
    ProgressCallback progress;
};

/// What a build made for one platform.
struct PlatformImage {
    Platform platform;
    Descriptor manifest;
    Digest config;
};

struct BuildResult {
    /// The index over all platforms (an image manifest's when one platform was built and an
    /// output asked for a single manifest).
    Descriptor descriptor;
    std::vector<PlatformImage> images;
    /// The JSON buildx writes with --metadata-file (containerimage.digest,
    /// containerimage.descriptor, image.name, buildx.build.ref).
    std::string metadata_json;
    std::vector<std::string> warnings;
};

/// How RUN steps get a writable copy of their stage's filesystem (buildkitd's
/// --oci-worker-snapshotter): overlayfs over the stage's layers where it can be mounted, else a
/// copy compared with the stage afterwards (kNative, slower, works everywhere).
enum class Snapshotter { kAuto, kOverlayfs, kNative };

struct BuilderOptions {
    /// The cache directory; "" means $XDG_CACHE_HOME/xarch, else $HOME/.cache/xarch.
    std::filesystem::path cache_dir;
    /// Steps run at once; 0 means one per core.
    unsigned jobs = 0;
    /// How registries are reached (bases, pushes, registry caches).
    RegistryOptions registry;
    /// kOverlayfs fails a RUN where overlayfs cannot be mounted instead of copying.
    Snapshotter snapshotter = Snapshotter::kAuto;
    /// The nodes to build on (`--builder`; BuilderStore().current() for the one `xarch use`
    /// chose). nullopt, or one embedded node: everything runs in this process. Otherwise each
    /// platform goes to the node that runs it natively, else to one that emulates it, all
    /// nodes at once; Docker Engine nodes build with POST /build and push with their engine,
    /// and this process assembles the index from the pushed manifests' digests.
    std::optional<BuilderSpec> builder;
};

struct PruneOptions {
    /// Keep at most this many bytes, dropping the least recently used first; nullopt: drop all.
    std::optional<std::int64_t> keep_storage;
};

struct PruneResult {
    std::int64_t freed_bytes = 0;
    std::size_t removed_entries = 0;
};

/// Runs builds with the `embedded` driver (in this process) or on the nodes of
/// BuilderOptions::builder. Thread-safe: several builds may run
/// at once on one Builder, and several processes may share one cache directory.
class Builder {
public:
    explicit Builder(BuilderOptions options = {});
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;
    Builder(const Builder&) = delete;
    Builder& operator=(const Builder&) = delete;

    /// Builds `context` (its Dockerfile, build args, target, named contexts). Throws
    /// DockerfileError for a Dockerfile BuildKit rejects, Error(kNotFound) for a missing COPY
    /// source or base image platform, RegistryError from registries, Error(kCancelled) after
    /// cancel(); an output is either left as it was or fully written.
    BuildResult build(BuildContext& context, const BuildOptions& options);
    /// Stops every build in progress on this Builder promptly (they throw Error(kCancelled)).
    /// Callable from any thread, also from a progress callback.
    void cancel();
    /// `xarch prune`: removes cached results and content, least recently used first.
    PruneResult prune(const PruneOptions& options = {});

    const std::filesystem::path& cache_dir() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace xarch
