// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::Registry: options and callbacks adapted to RegistryOptions, documents
// passed as OCI JSON text, blobs to and from callbacks, memory and files.
#include "capi_internal.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace xarch::capi {
namespace {

// ---- Options and callbacks ----------------------------------------------------------------------

constexpr std::uint32_t kKnownRegistryFlags = XARCH_REGISTRY_ANONYMOUS;

// Docker's credential helpers name an identity token by this username.
constexpr std::string_view kIdentityTokenUser = "<token>";

CredentialsLookup credentials_from_callback(xarch_credentials_cb callback, void* payload) {
    return [callback, payload](std::string_view registry) -> std::optional<Credentials> {
        const std::string host(registry);
        const char* username = nullptr;
        const char* secret = nullptr;
        const int status = callback(host.c_str(), &username, &secret, payload);
        if (status != 0) {
            // What the callback set is left out on purpose: it may be a secret.
            fail(ErrorCode::kAuthentication, "the credentials callback returned " +
                                                 std::to_string(status) + " for registry '" + host +
                                                 "'");
        }
        Credentials credentials;
        const std::string user = username != nullptr ? username : "";
        if (user == kIdentityTokenUser) {
            credentials.identity_token = secret != nullptr ? secret : "";
        } else {
            credentials.username = user;
            credentials.password = secret != nullptr ? secret : "";
        }
        if (credentials.empty()) {
            return std::nullopt;
        }
        return credentials;
    };
}

TransferProgressCallback progress_from_callback(xarch_transfer_progress_cb callback,
                                                void* payload) {
    return [callback, payload](const TransferProgress& progress) {
        xarch_transfer_progress event{};
        event.version = XARCH_TRANSFER_PROGRESS_VERSION;
        event.digest = progress.digest.to_string().c_str();
        event.done = progress.done;
        event.total = progress.total.value_or(0);
        event.has_total = progress.total.has_value() ? 1 : 0;
        return callback(&event, payload) == 0;
    };
}

}  // namespace

RegistryOptions to_registry_options(const xarch_registry_options* options) {
    RegistryOptions result;
    if (options == nullptr) {
        return result;
    }
    if (options->version == 0) {
        fail(ErrorCode::kInvalidArgument,
             "xarch_registry_options.version is 0: initialize the struct with "
             "XARCH_REGISTRY_OPTIONS_INIT or xarch_registry_options_init()");
    }
    if (options->version > XARCH_REGISTRY_OPTIONS_VERSION) {
        fail(ErrorCode::kUnsupported,
             "xarch_registry_options version " + std::to_string(options->version) +
                 " is newer than this library knows (" +
                 std::to_string(XARCH_REGISTRY_OPTIONS_VERSION) + "): upgrade libxarch");
    }
    // Version 1 fields. Fields of later versions are read only when options->version covers them.
    if (options->insecure_registries_count > 0) {
        require(options->insecure_registries, "insecure_registries");
    }
    for (std::size_t i = 0; i < options->insecure_registries_count; ++i) {
        const char* registry = options->insecure_registries[i];
        if (registry == nullptr) {
            fail(ErrorCode::kInvalidArgument,
                 "xarch_registry_options.insecure_registries has a NULL element at index " +
                     std::to_string(i));
        }
        result.insecure_registries.emplace_back(registry);
    }
    if (options->ca_bundle != nullptr) {
        result.ca_bundle = options->ca_bundle;
    }
    if (options->certs_dir != nullptr) {
        result.certs_dir = options->certs_dir;
    }
    if (options->jobs != 0) {
        result.jobs = options->jobs;
    }
    if (options->retry_attempts < 0) {
        fail(ErrorCode::kInvalidArgument, "xarch_registry_options.retry_attempts is " +
                                              std::to_string(options->retry_attempts) +
                                              ": give 1 or more, or 0 for the default");
    }
    if (options->retry_attempts != 0) {
        result.retry_attempts = options->retry_attempts;
    }
    if (options->user_agent != nullptr) {
        result.user_agent = options->user_agent;
    }
    if (options->chunk_threshold < 0 || options->chunk_size < 0) {
        fail(ErrorCode::kInvalidArgument,
             "xarch_registry_options.chunk_threshold and chunk_size must not be negative (got " +
                 std::to_string(options->chunk_threshold) + " and " +
                 std::to_string(options->chunk_size) + "); 0 means the default");
    }
    if (options->chunk_threshold != 0) {
        result.chunk_threshold = options->chunk_threshold;
    }
    if (options->chunk_size != 0) {
        result.chunk_size = options->chunk_size;
    }
    if ((options->flags & ~kKnownRegistryFlags) != 0) {
        fail(ErrorCode::kInvalidArgument,
             "xarch_registry_options.flags has unknown bits " +
                 std::to_string(options->flags & ~kKnownRegistryFlags));
    }
    if (options->credentials_cb != nullptr) {
        result.credentials = credentials_from_callback(options->credentials_cb, options->payload);
    } else if ((options->flags & XARCH_REGISTRY_ANONYMOUS) != 0) {
        result.credentials = nullptr;
    }
    if (options->progress_cb != nullptr) {
        result.progress = progress_from_callback(options->progress_cb, options->payload);
    }
    return result;
}

namespace {

// ---- Arguments and results ----------------------------------------------------------------------

Registry& registry_of(xarch_registry* registry) {
    return require(registry, "registry")->value;
}

const Reference& reference_of(const xarch_reference* reference, const char* name) {
    return require(reference, name)->value;
}

Descriptor descriptor_of(const char* json) {
    return parse_descriptor(require(json, "descriptor_json"));
}

Digest digest_of(const char* text) {
    return Digest::parse(require(text, "digest"));
}

// Checks a required output buffer and empties it.
xarch_buf* start(xarch_buf* out, const char* name) {
    require(out, name);
    *out = XARCH_BUF_INIT;
    return out;
}

// Empties an output buffer the caller may leave NULL.
xarch_buf* start_optional(xarch_buf* out) {
    if (out != nullptr) {
        *out = XARCH_BUF_INIT;
    }
    return out;
}

void fill_optional(xarch_buf* out, std::string_view text) {
    if (out != nullptr) {
        fill_buf(out, text);
    }
}

std::string system_message(int error) {
    return std::error_code(error, std::generic_category()).message();
}

// ---- Files --------------------------------------------------------------------------------------

// A temporary file beside `target`, renamed over it by commit() and removed otherwise, so that
// `target` only ever holds complete, verified content.
class TempFile {
public:
    explicit TempFile(const std::string& target)
        : target_(target), path_(target + ".xarch-XXXXXX") {
        fd_ = ::mkstemp(path_.data());
        if (fd_ < 0) {
            const int error = errno;
            fail(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 "cannot create a file beside '" + target_ + "': " + system_message(error) +
                     "; check that its folder exists and is writable");
        }
    }
    ~TempFile() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        if (!committed_) {
            ::unlink(path_.c_str());
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    void write(std::span<const std::byte> bytes) {
        const auto* data = reinterpret_cast<const char*>(bytes.data());
        std::size_t left = bytes.size();
        while (left > 0) {
            const ssize_t written = ::write(fd_, data, left);
            if (written < 0) {
                if (errno == EINTR) {
                    continue;
                }
                fail_io("write");
            }
            data += written;
            left -= static_cast<std::size_t>(written);
        }
    }

    void commit() {
        if (::fsync(fd_) != 0) {
            fail_io("fsync");
        }
        const int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) {
            fail_io("close");
        }
        if (std::rename(path_.c_str(), target_.c_str()) != 0) {
            fail_io("rename");
        }
        committed_ = true;
    }

private:
    [[noreturn]] void fail_io(const char* what) const {
        fail(ErrorCode::kIo, std::string(what) + " of '" + path_ + "' (for '" + target_ +
                                 "') failed: " + system_message(errno));
    }

    std::string target_;
    std::string path_;
    int fd_ = -1;
    bool committed_ = false;
};

// shared_ptr calls its deleter on a null pointer too.
struct FileCloser {
    void operator()(std::FILE* file) const noexcept {
        if (file != nullptr) {
            std::fclose(file);
        }
    }
};

// A reader over the file `path`, for push_blob.
BlobReader file_reader(const std::string& path) {
    std::shared_ptr<std::FILE> file(std::fopen(path.c_str(), "rb"), FileCloser{});
    if (!file) {
        const int error = errno;
        fail(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
             "cannot open the blob file '" + path + "': " + system_message(error));
    }
    return [file, path](std::span<std::byte> buffer) -> std::size_t {
        const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get());
        if (read == 0 && std::ferror(file.get()) != 0) {
            fail(ErrorCode::kIo,
                 "cannot read the blob file '" + path + "': " + system_message(errno));
        }
        return read;
    };
}

// A file whose size is not the descriptor's cannot be the blob: said before any upload (a wrong
// digest of the right size is refused by the registry, also as a digest mismatch).
void check_file_size(const std::string& path, const Descriptor& blob) {
    std::error_code error;
    const std::uintmax_t size = std::filesystem::file_size(path, error);
    if (!error && size != static_cast<std::uintmax_t>(blob.size)) {
        fail(ErrorCode::kDigestMismatch,
             "the file '" + path + "' has " + std::to_string(size) +
                 " bytes but the descriptor says " + std::to_string(blob.size) + " (" +
                 blob.digest.to_string() + "): pass the descriptor of this file");
    }
}

// ---- Layouts ------------------------------------------------------------------------------------

// The entry of index.json that `root` names: by ref name first, then by digest.
Descriptor layout_root(const OciLayout& layout, const std::string& root) {
    if (auto named = layout.resolve(root)) {
        return *named;
    }
    const ImageIndex index = layout.index();
    for (const Descriptor& entry : index.manifests) {
        if (entry.digest.to_string() == root) {
            return entry;
        }
    }
    std::string names;
    for (const Descriptor& entry : index.manifests) {
        auto name = entry.annotations.find(std::string(annotation::kRefName));
        names += names.empty() ? "" : ", ";
        names += name != entry.annotations.end() ? name->second : entry.digest.to_string();
    }
    fail(ErrorCode::kNotFound, "'" + root + "' names no entry of " +
                                   (layout.path() / "index.json").string() +
                                   ": give an org.opencontainers.image.ref.name or a digest it "
                                   "lists (it has: " +
                                   (names.empty() ? "nothing" : names) + ")");
}

}  // namespace
}  // namespace xarch::capi

using xarch::Descriptor;
using xarch::Reference;
namespace capi = xarch::capi;

extern "C" {

// ---- Options and handle -------------------------------------------------------------------------

int xarch_registry_options_init(xarch_registry_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        if (version == 0) {
            capi::fail(xarch::ErrorCode::kInvalidArgument, "options version 0 does not exist");
        }
        if (version > XARCH_REGISTRY_OPTIONS_VERSION) {
            capi::fail(xarch::ErrorCode::kUnsupported,
                       "xarch_registry_options version " + std::to_string(version) +
                           " is newer than this library knows (" +
                           std::to_string(XARCH_REGISTRY_OPTIONS_VERSION) + ")");
        }
        // Only the fields of `version` are written: the caller's struct may be that small.
        out->version = version;
        out->insecure_registries = nullptr;
        out->insecure_registries_count = 0;
        out->ca_bundle = nullptr;
        out->certs_dir = nullptr;
        out->jobs = 0;
        out->retry_attempts = 0;
        out->user_agent = nullptr;
        out->chunk_threshold = 0;
        out->chunk_size = 0;
        out->flags = 0;
        out->credentials_cb = nullptr;
        out->progress_cb = nullptr;
        out->payload = nullptr;
    });
}

int xarch_registry_new(xarch_registry** out, const xarch_registry_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_registry(capi::to_registry_options(options));
    });
}

void xarch_registry_free(xarch_registry* registry) {
    capi::guard(capi::no_result, [registry] { delete registry; });
}

// ---- Manifests ----------------------------------------------------------------------------------

int xarch_registry_resolve(xarch_buf* out,
                           xarch_registry* registry,
                           const xarch_reference* reference) {
    return capi::guard([&] {
        capi::start(out, "out");
        const Descriptor descriptor =
            capi::registry_of(registry).resolve(capi::reference_of(reference, "reference"));
        capi::fill_buf(out, descriptor.serialize());
    });
}

int xarch_registry_fetch_manifest(xarch_buf* out,
                                  xarch_buf* media_type_out,
                                  xarch_buf* digest_out,
                                  xarch_registry* registry,
                                  const xarch_reference* reference) {
    return capi::guard([&] {
        capi::start(out, "out");
        capi::start_optional(media_type_out);
        capi::start_optional(digest_out);
        const xarch::RawContent raw =
            capi::registry_of(registry).fetch_manifest(capi::reference_of(reference, "reference"));
        xarch_buf bytes = XARCH_BUF_INIT;
        xarch_buf media_type = XARCH_BUF_INIT;
        try {
            capi::fill_buf(&bytes, raw.bytes);
            capi::fill_optional(media_type_out != nullptr ? &media_type : nullptr, raw.media_type);
            capi::fill_optional(digest_out, raw.digest.to_string());
        } catch (...) {
            xarch_buf_dispose(&bytes);
            xarch_buf_dispose(&media_type);
            throw;
        }
        *out = bytes;
        if (media_type_out != nullptr) {
            *media_type_out = media_type;
        }
    });
}

int xarch_registry_resolve_platform(xarch_buf* out,
                                    xarch_registry* registry,
                                    const xarch_reference* reference,
                                    const xarch_platform* platform) {
    return capi::guard([&] {
        capi::start(out, "out");
        const Descriptor descriptor = capi::registry_of(registry).resolve_platform(
            capi::reference_of(reference, "reference"), capi::require(platform, "platform")->value);
        capi::fill_buf(out, descriptor.serialize());
    });
}

int xarch_registry_push_manifest(xarch_buf* out,
                                 xarch_registry* registry,
                                 const xarch_reference* reference,
                                 const void* bytes,
                                 size_t size,
                                 const char* media_type) {
    return capi::guard([&] {
        capi::start_optional(out);
        if (size > 0) {
            capi::require(bytes, "bytes");
        }
        capi::require(media_type, "media_type");
        const std::string content =
            size > 0 ? std::string(static_cast<const char*>(bytes), size) : std::string();
        const Descriptor descriptor = capi::registry_of(registry).push_manifest(
            capi::reference_of(reference, "reference"), xarch::RawContent::of(content, media_type));
        capi::fill_optional(out, descriptor.serialize());
    });
}

int xarch_registry_delete_manifest(xarch_registry* registry, const xarch_reference* reference) {
    return capi::guard([&] {
        capi::registry_of(registry).delete_manifest(capi::reference_of(reference, "reference"));
    });
}

// ---- Blobs --------------------------------------------------------------------------------------

int xarch_registry_fetch_blob(xarch_registry* registry,
                              const xarch_reference* repository,
                              const char* descriptor_json,
                              xarch_blob_write_cb write_cb,
                              void* payload) {
    return capi::guard([&] {
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        const Descriptor blob = capi::descriptor_of(descriptor_json);
        capi::require(write_cb, "write_cb");
        client.fetch_blob(repo, blob, [&](std::span<const std::byte> bytes) {
            const int status = write_cb(bytes.data(), bytes.size(), payload);
            if (status != 0) {
                capi::fail(xarch::ErrorCode::kCancelled,
                           "the write callback returned " + std::to_string(status) +
                               ": the transfer of " + blob.digest.to_string() + " was stopped");
            }
        });
    });
}

int xarch_registry_fetch_blob_to_file(xarch_registry* registry,
                                      const xarch_reference* repository,
                                      const char* descriptor_json,
                                      const char* path) {
    return capi::guard([&] {
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        const Descriptor blob = capi::descriptor_of(descriptor_json);
        capi::TempFile file(capi::require(path, "path"));
        client.fetch_blob(repo, blob, [&](std::span<const std::byte> bytes) { file.write(bytes); });
        file.commit();
    });
}

int xarch_registry_blob_exists(xarch_registry* registry,
                               const xarch_reference* repository,
                               const char* digest) {
    return capi::guard([&] {
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        return client.blob_exists(repo, capi::digest_of(digest)) ? 1 : 0;
    });
}

int xarch_registry_push_blob(xarch_registry* registry,
                             const xarch_reference* repository,
                             const char* descriptor_json,
                             const void* data,
                             size_t size) {
    return capi::guard([&] {
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        const Descriptor blob = capi::descriptor_of(descriptor_json);
        if (size > 0) {
            capi::require(data, "data");
        }
        const std::string_view bytes =
            size > 0 ? std::string_view(static_cast<const char*>(data), size) : std::string_view();
        // Checked here, before any upload, so that a wrong descriptor costs no traffic.
        const Descriptor actual = Descriptor::of(blob.media_type, bytes);
        if (actual.digest != blob.digest || actual.size != blob.size) {
            capi::fail(xarch::ErrorCode::kDigestMismatch,
                       "the data is " + actual.digest.to_string() + " (" +
                           std::to_string(actual.size) + " bytes) but the descriptor says " +
                           blob.digest.to_string() + " (" + std::to_string(blob.size) +
                           " bytes): pass the descriptor of this data");
        }
        client.push_blob(repo, blob, bytes);
    });
}

int xarch_registry_push_blob_from_file(xarch_registry* registry,
                                       const xarch_reference* repository,
                                       const char* descriptor_json,
                                       const char* path) {
    return capi::guard([&] {
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        const Descriptor blob = capi::descriptor_of(descriptor_json);
        const std::string file = capi::require(path, "path");
        capi::check_file_size(file, blob);
        client.push_blob(repo, blob, capi::file_reader(file));
    });
}

int xarch_registry_mount_blob(xarch_registry* registry,
                              const xarch_reference* repository,
                              const char* digest,
                              const xarch_reference* from) {
    return capi::guard([&] {
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        const Reference& source = capi::reference_of(from, "from");
        return client.mount_blob(repo, capi::digest_of(digest), source) ? 1 : 0;
    });
}

// ---- Listing ------------------------------------------------------------------------------------

int xarch_registry_list_tags(xarch_strarray* out,
                             xarch_registry* registry,
                             const xarch_reference* repository,
                             size_t page_size) {
    return capi::guard([&] {
        capi::require(out, "out");
        *out = XARCH_STRARRAY_INIT;
        capi::fill_strarray(out, capi::registry_of(registry).list_tags(
                                     capi::reference_of(repository, "repository"), page_size));
    });
}

int xarch_registry_catalog(xarch_strarray* out,
                           xarch_registry* registry,
                           const char* registry_name,
                           size_t page_size) {
    return capi::guard([&] {
        capi::require(out, "out");
        *out = XARCH_STRARRAY_INIT;
        xarch::Registry& client = capi::registry_of(registry);
        capi::fill_strarray(
            out, client.catalog(capi::require(registry_name, "registry_name"), page_size));
    });
}

int xarch_registry_referrers(xarch_buf* out,
                             xarch_registry* registry,
                             const xarch_reference* repository,
                             const char* digest) {
    return capi::guard([&] {
        capi::start(out, "out");
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& repo = capi::reference_of(repository, "repository");
        capi::fill_buf(out, client.referrers(repo, capi::digest_of(digest)).serialize());
    });
}

// ---- High level ---------------------------------------------------------------------------------

int xarch_registry_push(xarch_buf* out,
                        xarch_registry* registry,
                        const char* layout_dir,
                        const char* root,
                        const xarch_reference* destination) {
    return capi::guard([&] {
        capi::start_optional(out);
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& dst = capi::reference_of(destination, "destination");
        const std::string root_name = capi::require(root, "root");
        const xarch::OciLayout layout =
            xarch::OciLayout::open(capi::require(layout_dir, "layout_dir"));
        const Descriptor root_descriptor = capi::layout_root(layout, root_name);
        capi::fill_optional(out, client.push(layout, root_descriptor, dst).serialize());
    });
}

int xarch_registry_pull(xarch_buf* out,
                        xarch_registry* registry,
                        const xarch_reference* reference,
                        const char* layout_dir,
                        const xarch_platform* const* platforms,
                        size_t platform_count) {
    return capi::guard([&] {
        capi::start_optional(out);
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& ref = capi::reference_of(reference, "reference");
        const auto chosen = capi::to_platforms(platforms, platform_count, "platforms");
        xarch::OciLayout layout = xarch::OciLayout::create(capi::require(layout_dir, "layout_dir"));
        capi::fill_optional(out, client.pull(ref, layout, chosen).serialize());
    });
}

int xarch_registry_copy(xarch_buf* out,
                        xarch_registry* registry,
                        const xarch_reference* source,
                        const xarch_reference* destination,
                        const xarch_platform* const* platforms,
                        size_t platform_count) {
    return capi::guard([&] {
        capi::start_optional(out);
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& src = capi::reference_of(source, "source");
        const Reference& dst = capi::reference_of(destination, "destination");
        xarch::CopyOptions options;
        options.platforms = capi::to_platforms(platforms, platform_count, "platforms");
        capi::fill_optional(out, client.copy(src, dst, options).serialize());
    });
}

int xarch_registry_create_index(xarch_buf* out,
                                xarch_registry* registry,
                                const xarch_reference* destination,
                                const xarch_reference* const* sources,
                                size_t source_count,
                                const char* const* annotation_keys,
                                const char* const* annotation_values,
                                size_t annotation_count) {
    return capi::guard([&] {
        capi::start_optional(out);
        xarch::Registry& client = capi::registry_of(registry);
        const Reference& dst = capi::reference_of(destination, "destination");
        std::vector<Reference> refs;
        if (source_count > 0) {
            capi::require(sources, "sources");
        }
        for (std::size_t i = 0; i < source_count; ++i) {
            if (sources[i] == nullptr) {
                capi::fail(xarch::ErrorCode::kInvalidArgument,
                           "argument 'sources' has a NULL element at index " + std::to_string(i));
            }
            refs.push_back(sources[i]->value);
        }
        std::map<std::string, std::string> annotations;
        if (annotation_count > 0) {
            capi::require(annotation_keys, "annotation_keys");
            capi::require(annotation_values, "annotation_values");
        }
        for (std::size_t i = 0; i < annotation_count; ++i) {
            if (annotation_keys[i] == nullptr || annotation_values[i] == nullptr) {
                capi::fail(xarch::ErrorCode::kInvalidArgument,
                           "annotation " + std::to_string(i) + " has a NULL key or value");
            }
            annotations[annotation_keys[i]] = annotation_values[i];
        }
        capi::fill_optional(out, client.create_index(dst, refs, annotations).serialize());
    });
}

int xarch_registry_inspect(xarch_buf* out,
                           xarch_buf* raw_out,
                           xarch_buf* config_out,
                           xarch_registry* registry,
                           const xarch_reference* reference) {
    return capi::guard([&] {
        capi::start(out, "out");
        capi::start_optional(raw_out);
        capi::start_optional(config_out);
        const xarch::InspectResult result =
            capi::registry_of(registry).inspect(capi::reference_of(reference, "reference"));
        xarch_buf descriptor = XARCH_BUF_INIT;
        xarch_buf raw = XARCH_BUF_INIT;
        try {
            capi::fill_buf(&descriptor, result.descriptor.serialize());
            capi::fill_optional(raw_out != nullptr ? &raw : nullptr, result.raw.bytes);
            capi::fill_optional(config_out, result.config ? result.config->serialize() : "");
        } catch (...) {
            xarch_buf_dispose(&descriptor);
            xarch_buf_dispose(&raw);
            throw;
        }
        *out = descriptor;
        if (raw_out != nullptr) {
            *raw_out = raw;
        }
    });
}

}  // extern "C"
