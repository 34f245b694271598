// SPDX-License-Identifier: Apache-2.0
// xarch::BuildContext: its settings as buildx parses its flags (commands/build.go and
// build/build.go: --build-arg, --label, --build-context, --secret, --ssh, -f), the ignore rules
// with the files Docker always sends, and scans through scan_directory and the stat cache.
#include "context/dockerignore.hpp"
#include "context/pattern_matcher.hpp"
#include "context/scan.hpp"
#include "context/stat_cache.hpp"
#include "context/tar_source.hpp"
#include "util/quote.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>
#include <xarch/reference.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

namespace xarch {
namespace {

// BuildKit's secret store refuses larger secrets (secretsprovider.MaxSecretSize).
constexpr std::int64_t kMaxSecretSize = 500 * 1024;

std::filesystem::path absolute_path(const std::filesystem::path& p) {
    std::filesystem::path out = std::filesystem::absolute(p).lexically_normal();
    // "dir/." normalizes to "dir/": drop the empty last component.
    if (!out.has_filename() && out.has_relative_path()) {
        out = out.parent_path();
    }
    return out;
}

bool is_dir(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::pair<std::string, std::optional<std::string>> split_key_value(std::string_view spec) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
        return {std::string(spec), std::nullopt};
    }
    return {std::string(spec.substr(0, eq)), std::string(spec.substr(eq + 1))};
}

// `rel` when `path` lies inside `root` (lexically), else nullopt.
std::optional<std::string> inside(const std::filesystem::path& root,
                                  const std::filesystem::path& path) {
    const std::filesystem::path rel = absolute_path(path).lexically_relative(root);
    const std::string s = rel.generic_string();
    if (rel.empty() || s == "." || s == ".." || s.compare(0, 3, "../") == 0) {
        return std::nullopt;
    }
    return s;
}

// A pattern that matches exactly `path`, whatever bytes it holds.
std::string literal_pattern(std::string_view path) {
    std::string out;
    for (const char c : path) {
        if (c == '*' || c == '?' || c == '[' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

std::vector<std::string> split_fields(std::string_view spec) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = spec.find(',', start);
        out.emplace_back(spec.substr(start, comma - start));
        if (comma == std::string_view::npos) {
            return out;
        }
        start = comma + 1;
    }
}

}  // namespace

std::string_view to_string(ContextEntryType type) noexcept {
    switch (type) {
        case ContextEntryType::kRegular:
            return "file";
        case ContextEntryType::kDirectory:
            return "dir";
        case ContextEntryType::kSymlink:
            return "symlink";
        case ContextEntryType::kOther:
            return "other";
    }
    return "other";
}

class BuildContext::Impl {
public:
    std::filesystem::path dir;
    std::unique_ptr<context::TempTree> extracted;
    std::optional<std::filesystem::path> dockerfile;
    std::optional<std::string> dockerfile_text;
    std::map<std::string, std::string> build_args;
    std::map<std::string, std::string> labels;
    std::string target;
    std::map<std::string, NamedContext> named_contexts;
    std::map<std::string, SecretSource> secrets;
    std::map<std::string, std::vector<std::string>> ssh;
    std::optional<std::vector<ContextEntry>> entries;
    ScanStats stats;
};

BuildContext::BuildContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BuildContext::~BuildContext() = default;
BuildContext::BuildContext(BuildContext&&) noexcept = default;
BuildContext& BuildContext::operator=(BuildContext&&) noexcept = default;

BuildContext BuildContext::from_directory(const std::filesystem::path& dir) {
    if (dir.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the build context path is empty: give a directory (\".\" for this one)");
    }
    auto impl = std::make_unique<Impl>();
    impl->dir = absolute_path(dir);
    struct stat st {};
    if (::stat(impl->dir.c_str(), &st) != 0) {
        const int err = errno;
        throw Error(err == EACCES ? ErrorCode::kPermissionDenied : ErrorCode::kNotFound,
                    "build context " + util::quote(dir.string()) +
                        " is not a directory: " + std::strerror(err));
    }
    if (!S_ISDIR(st.st_mode)) {
        throw Error(ErrorCode::kNotFound,
                    "build context " + util::quote(dir.string()) +
                        " is not a directory (give the directory that holds the files to send)");
    }
    return BuildContext(std::move(impl));
}

BuildContext BuildContext::from_tar_file(const std::filesystem::path& tar) {
    auto impl = std::make_unique<Impl>();
    impl->extracted = context::extract_tar_file(tar);
    impl->dir = impl->extracted->path();
    return BuildContext(std::move(impl));
}

BuildContext BuildContext::from_tar_fd(int fd) {
    auto impl = std::make_unique<Impl>();
    impl->extracted = context::extract_tar_fd(fd);
    impl->dir = impl->extracted->path();
    return BuildContext(std::move(impl));
}

const std::filesystem::path& BuildContext::directory() const {
    return impl_->dir;
}

bool BuildContext::from_tar() const {
    return impl_->extracted != nullptr;
}

void BuildContext::set_dockerfile(const std::filesystem::path& path) {
    if (path.empty() || path == "-") {
        throw Error(ErrorCode::kInvalidArgument,
                    "Dockerfile path " + util::quote(path.string()) +
                        " is not a file name; give the text of a Dockerfile read from standard "
                        "input with set_dockerfile_text");
    }
    // In a tar context, a relative -f names a member of the archive.
    const std::filesystem::path resolved =
        from_tar() && path.is_relative() ? impl_->dir / path : absolute_path(path);
    struct stat st {};
    if (::stat(resolved.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        throw Error(ErrorCode::kNotFound,
                    "Dockerfile " + util::quote(path.string()) + " not found" +
                        (S_ISDIR(st.st_mode) ? std::string(": it is a directory")
                                             : std::string(": ") + std::strerror(err)) +
                        (from_tar() ? " (-f names a file inside the archive)"
                                    : " (-f is relative to the current directory, not the "
                                      "context)"));
    }
    impl_->dockerfile = resolved;
    impl_->dockerfile_text.reset();
}

void BuildContext::set_dockerfile_text(std::string text) {
    impl_->dockerfile_text = std::move(text);
    impl_->dockerfile.reset();
}

std::optional<std::filesystem::path> BuildContext::dockerfile_path() const {
    if (impl_->dockerfile_text) {
        return std::nullopt;
    }
    return impl_->dockerfile ? *impl_->dockerfile : impl_->dir / "Dockerfile";
}

std::string BuildContext::dockerfile_text() const {
    if (impl_->dockerfile_text) {
        return *impl_->dockerfile_text;
    }
    const std::filesystem::path path = *dockerfile_path();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                    "cannot read Dockerfile " + util::quote(path.string()) + ": " +
                        std::strerror(err) + (impl_->dockerfile ? "" : " (give its path with -f)"));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void BuildContext::add_build_arg(std::string_view spec) {
    auto [key, value] = split_key_value(spec);
    if (key.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "invalid build arg " + util::quote(spec) +
                                                     ": the name is empty (use NAME=VALUE)");
    }
    if (!value) {
        // buildx takes a bare NAME from the environment and drops it when unset.
        const char* env = std::getenv(key.c_str());
        if (env == nullptr) {
            return;
        }
        value = env;
    }
    impl_->build_args.insert_or_assign(std::move(key), std::move(*value));
}

void BuildContext::set_build_arg(std::string key, std::string value) {
    if (key.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "a build arg name must not be empty");
    }
    impl_->build_args.insert_or_assign(std::move(key), std::move(value));
}

const std::map<std::string, std::string>& BuildContext::build_args() const {
    return impl_->build_args;
}

void BuildContext::add_label(std::string_view spec) {
    auto [key, value] = split_key_value(spec);
    if (key.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid label " + util::quote(spec) + ": the name is empty (use NAME=VALUE)");
    }
    impl_->labels.insert_or_assign(std::move(key), value.value_or(""));
}

const std::map<std::string, std::string>& BuildContext::labels() const {
    return impl_->labels;
}

void BuildContext::set_target(std::string target) {
    impl_->target = std::move(target);
}

const std::string& BuildContext::target() const {
    return impl_->target;
}

void BuildContext::add_named_context(std::string_view spec) {
    auto [name, value] = split_key_value(spec);
    if (!value || name.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid context value: " + util::quote(spec) + ", expected name=value");
    }
    std::string key;
    try {
        key = Reference::parse(name).familiar();
    } catch (const Error& e) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid context name " + util::quote(name) + ": " + e.what());
    }
    // buildx keys contexts by the familiar name without the default tag.
    constexpr std::string_view kLatest = ":latest";
    if (key.size() > kLatest.size() && key.ends_with(kLatest)) {
        key.resize(key.size() - kLatest.size());
    }
    NamedContext ctx;
    constexpr std::string_view kImage = "docker-image://";
    constexpr std::string_view kLayout = "oci-layout://";
    if (value->starts_with(kImage)) {
        ctx.kind = NamedContext::Kind::kImage;
        ctx.value = value->substr(kImage.size());
        try {
            static_cast<void>(Reference::parse(ctx.value));
        } catch (const Error& e) {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid image for context " + util::quote(name) + ": " + e.what());
        }
    } else if (value->starts_with(kLayout)) {
        ctx.kind = NamedContext::Kind::kOciLayout;
        ctx.value = value->substr(kLayout.size());
        if (ctx.value.empty()) {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid context value: " + util::quote(spec) + ": empty OCI layout path");
        }
    } else if (value->starts_with("https://") || value->starts_with("http://") ||
               value->starts_with("git://") || value->starts_with("git@") ||
               value->starts_with("ssh://")) {
        ctx.kind = NamedContext::Kind::kUrl;
        ctx.value = *value;
    } else {
        ctx.kind = NamedContext::Kind::kDirectory;
        if (value->empty() || !is_dir(*value)) {
            throw Error(ErrorCode::kNotFound,
                        "named context " + util::quote(name) + ": directory " +
                            util::quote(*value) +
                            " not found (give a directory, docker-image://REF or "
                            "oci-layout://PATH)");
        }
        ctx.value = absolute_path(*value).string();
    }
    impl_->named_contexts.insert_or_assign(std::move(key), std::move(ctx));
}

const std::map<std::string, NamedContext>& BuildContext::named_contexts() const {
    return impl_->named_contexts;
}

void BuildContext::add_secret(std::string_view spec) {
    std::string id;
    std::string type;
    std::string src;
    std::string env;
    for (const std::string& field : split_fields(spec)) {
        auto [key, value] = split_key_value(field);
        if (!value) {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid secret " + util::quote(spec) + ": field " + util::quote(field) +
                            " must be a key=value pair (id=ID,src=FILE or id=ID,env=VAR)");
        }
        if (key == "type") {
            if (*value != "file" && *value != "env") {
                throw Error(
                    ErrorCode::kInvalidArgument,
                    "unsupported secret type " + util::quote(*value) + " in " + util::quote(spec));
            }
            type = *value;
        } else if (key == "id") {
            id = *value;
        } else if (key == "source" || key == "src") {
            src = *value;
        } else if (key == "env") {
            env = *value;
        } else {
            throw Error(ErrorCode::kInvalidArgument,
                        "unexpected key " + util::quote(key) + " in secret " + util::quote(spec));
        }
    }
    if (type == "env" && env.empty()) {
        env = std::exchange(src, "");
    }
    if (id.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "secret " + util::quote(spec) + " is missing its id (id=ID)");
    }
    if (src.empty() && env.empty()) {
        // BuildKit's store: the variable named like the secret, else the file of that name.
        (std::getenv(id.c_str()) != nullptr ? env : src) = id;
    }
    SecretSource source;
    if (!src.empty()) {
        struct stat st {};
        if (::stat(src.c_str(), &st) != 0) {
            throw Error(ErrorCode::kNotFound, "secret " + util::quote(id) + ": cannot stat " +
                                                  util::quote(src) + ": " + std::strerror(errno));
        }
        if (st.st_size > kMaxSecretSize) {
            throw Error(ErrorCode::kInvalidArgument,
                        "secret " + util::quote(id) + " is too big: " + std::to_string(st.st_size) +
                            " bytes, at most 500 KiB");
        }
        source = SecretSource{SecretSource::Kind::kFile, absolute_path(src).string()};
    } else {
        source = SecretSource{SecretSource::Kind::kEnv, env};
    }
    impl_->secrets.insert_or_assign(std::move(id), std::move(source));
}

const std::map<std::string, SecretSource>& BuildContext::secrets() const {
    return impl_->secrets;
}

void BuildContext::add_ssh(std::string_view spec) {
    auto [id, value] = split_key_value(spec);
    if (id.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid ssh spec " + util::quote(spec) +
                        ": the id is empty (use default or ID=SOCKET|KEY[,...])");
    }
    std::vector<std::string> paths;
    if (value) {
        for (std::string& p : split_fields(*value)) {
            if (p.empty()) {
                throw Error(ErrorCode::kInvalidArgument,
                            "invalid ssh spec " + util::quote(spec) + ": empty path");
            }
            paths.push_back(absolute_path(p).string());
        }
    } else {
        const char* sock = std::getenv("SSH_AUTH_SOCK");
        if (sock == nullptr || sock[0] == '\0') {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid empty ssh agent socket for " + util::quote(spec) +
                            ": make sure SSH_AUTH_SOCK is set, or give ID=SOCKET");
        }
        paths.emplace_back(sock);
    }
    impl_->ssh.insert_or_assign(std::move(id), std::move(paths));
}

const std::map<std::string, std::vector<std::string>>& BuildContext::ssh() const {
    return impl_->ssh;
}

std::optional<std::filesystem::path> BuildContext::ignore_file() const {
    const std::optional<std::filesystem::path> dockerfile = dockerfile_path();
    return context::find_ignore_file(impl_->dir, dockerfile ? *dockerfile : "-");
}

std::vector<std::string> BuildContext::ignore_patterns() const {
    const std::optional<std::filesystem::path> dockerfile = dockerfile_path();
    std::vector<std::string> patterns =
        context::load_ignore_patterns(impl_->dir, dockerfile ? *dockerfile : "-");
    if (patterns.empty()) {
        return patterns;
    }
    // Docker's TrimBuildFilesFromExcludes: the Dockerfile and the ignore file are sent even when
    // the rules exclude them.
    std::vector<std::string> keep;
    for (const std::optional<std::filesystem::path>& file : {dockerfile, ignore_file()}) {
        if (!file) {
            continue;
        }
        const std::optional<std::string> rel = inside(impl_->dir, *file);
        if (rel && context::matches_or_parent_matches(*rel, patterns)) {
            keep.push_back("!" + literal_pattern(*rel));
        }
    }
    patterns.insert(patterns.end(), keep.begin(), keep.end());
    return patterns;
}

const std::vector<ContextEntry>& BuildContext::scan(const ScanOptions& options) {
    context::ScanRequest request;
    request.root = impl_->dir;
    request.exclude_patterns = ignore_patterns();
    request.threads = options.threads;
    std::optional<context::StatCache> cache;
    if (options.use_cache && !from_tar()) {
        const std::filesystem::path cache_dir =
            options.cache_dir.empty() ? context::StatCache::default_directory() : options.cache_dir;
        std::error_code ec;
        std::filesystem::path root = std::filesystem::canonical(impl_->dir, ec);
        cache.emplace(context::StatCache::file_for(cache_dir, ec ? impl_->dir : root));
        request.cache = &*cache;
    }
    context::ScanResult result = context::scan_directory(request);
    if (cache) {
        try {
            cache->save();
        } catch (const Error&) {
            // The cache only saves time: a read-only or full cache directory costs a re-hash.
        }
    }
    impl_->entries = std::move(result.entries);
    impl_->stats = result.stats;
    return *impl_->entries;
}

const std::vector<ContextEntry>& BuildContext::entries() const {
    if (!impl_->entries) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the build context has not been scanned yet: call scan() first");
    }
    return *impl_->entries;
}

const ScanStats& BuildContext::last_scan_stats() const {
    return impl_->stats;
}

std::vector<CopySourceMatch> BuildContext::resolve_copy_sources(
    const std::vector<std::string>& sources, std::string_view destination) const {
    return xarch::resolve_copy_sources(entries(), sources, destination);
}

}  // namespace xarch
