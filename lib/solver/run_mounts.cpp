// SPDX-License-Identifier: Apache-2.0
// RUN --mount: cache, tmpfs, secret, ssh and bind mounts prepared on the host, after BuildKit's
// dispatchRunMounts, dispatchSecret and dispatchSSH.
#include "run_mounts.hpp"

#include "cache_key.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace xarch::solver {

namespace fs = std::filesystem;

namespace {

std::string base_name(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Error mount_error(ErrorCode code, const dockerfile::Mount& m, const std::string& what) {
    return Error(code, "RUN --mount=type=" + std::string(dockerfile::to_string(m.type)) +
                           (m.target.empty() ? std::string() : ",target=" + m.target) + ": " +
                           what);
}

// The secret's value from the build context, nullopt when it has no secret of that id.
std::optional<std::string> read_secret(const BuildContext& context, const std::string& id) {
    const auto& secrets = context.secrets();
    const auto it = secrets.find(id);
    if (it == secrets.end()) {
        return std::nullopt;
    }
    if (it->second.kind == SecretSource::Kind::kEnv) {
        const char* value = std::getenv(it->second.value.c_str());
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string(value);
    }
    std::ifstream in(it->second.value, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::kNotFound,
                    "secret " + util::quote(id) + ": cannot read " + util::quote(it->second.value));
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::uint32_t id_of(const std::optional<std::uint64_t>& value) {
    return static_cast<std::uint32_t>(value.value_or(0));
}

void add_cache(const dockerfile::Mount& m, const MountSources& sources, PreparedMounts& out) {
    if (!m.from.empty()) {
        throw mount_error(ErrorCode::kUnsupported, m,
                          "a cache mount seeded --from a stage is not supported by this version "
                          "of xarch; drop from=");
    }
    const std::string id = m.id.empty() ? m.target : m.id;
    // The directory is named by the id's digest: ids are free text.
    const fs::path dir = sources.cache_mounts / KeyBuilder("cache-mount").add(id).finish().hex();
    std::error_code error;
    if (!fs::exists(dir)) {
        const fs::path made = sources.cache_mounts / ("new-" + oci::fs::temp_name());
        fs::create_directories(made, error);
        if (error || ::chmod(made.c_str(), static_cast<mode_t>(m.mode.value_or(0755))) != 0 ||
            ::chown(made.c_str(), id_of(m.uid), id_of(m.gid)) != 0) {
            throw mount_error(ErrorCode::kIo, m,
                              "cannot create the cache directory " + util::quote(made.string()));
        }
        // Another build may have made it meanwhile: the first rename wins.
        if (::rename(made.c_str(), dir.c_str()) != 0) {
            fs::remove_all(made, error);
        }
    }
    if (m.sharing == dockerfile::MountSharing::kLocked ||
        m.sharing == dockerfile::MountSharing::kPrivate) {
        // One RUN at a time uses it (private, which BuildKit gives a fresh copy when busy,
        // waits here instead).
        out.locks.push_back(oci::fs::FileLock::acquire(dir.string() + ".lock",
                                                       oci::fs::FileLock::Mode::kExclusive));
    }
    executor::MountSpec spec;
    spec.source = dir;
    spec.target = m.target;
    spec.read_only = m.read_only;
    out.mounts.push_back(std::move(spec));
}

void add_secret(const dockerfile::Mount& m, const MountSources& sources, PreparedMounts& out) {
    std::string id = !m.source.empty() ? m.source : m.id;
    if (id.empty()) {
        if (m.target.empty()) {
            throw mount_error(ErrorCode::kInvalidArgument, m, "one of source, target required");
        }
        id = base_name(m.target);
    }
    std::string target = m.target;
    if (target.empty() && !m.env) {
        target = "/run/secrets/" + base_name(id);
    }
    const std::optional<std::string> value = read_secret(*sources.context, id);
    if (!value) {
        if (m.required) {
            throw mount_error(ErrorCode::kNotFound, m,
                              "secret " + id + ": not found; pass it with --secret id=" + id +
                                  ",src=FILE (or env=VARIABLE)");
        }
        return;  // an optional secret that is not given is simply absent
    }
    if (m.env) {
        out.env.push_back(*m.env + "=" + *value);
    }
    if (target.empty()) {
        return;
    }
    std::error_code error;
    fs::create_directories(sources.scratch / "secrets", error);
    const fs::path file = sources.scratch / "secrets" / oci::fs::temp_name();
    {
        std::ofstream f(file, std::ios::binary);
        f << *value;
        if (!f.flush()) {
            throw mount_error(ErrorCode::kIo, m, "cannot write the secret file");
        }
    }
    out.remove.push_back(file);
    if (::chmod(file.c_str(), static_cast<mode_t>(m.mode.value_or(0400))) != 0 ||
        ::chown(file.c_str(), id_of(m.uid), id_of(m.gid)) != 0) {
        throw mount_error(
            ErrorCode::kIo, m,
            std::string("cannot set the secret file's owner: ") + std::strerror(errno));
    }
    executor::MountSpec spec;
    spec.source = file;
    spec.target = target;
    spec.read_only = true;
    out.mounts.push_back(std::move(spec));
}

void add_ssh(const dockerfile::Mount& m,
             const MountSources& sources,
             std::size_t index,
             PreparedMounts& out) {
    const std::string id = m.id.empty() ? std::string("default") : m.id;
    const auto& agents = sources.context->ssh();
    const auto it = agents.find(id);
    std::optional<std::string> socket;
    if (it != agents.end()) {
        for (const std::string& path : it->second) {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
                socket = path;
                break;
            }
        }
        if (!socket) {
            throw mount_error(ErrorCode::kUnsupported, m,
                              "ssh " + id +
                                  " names key files, not an agent socket; this version of xarch "
                                  "forwards agent sockets only: --ssh " +
                                  id + "=$SSH_AUTH_SOCK");
        }
    }
    if (!socket) {
        if (m.required) {
            throw mount_error(ErrorCode::kNotFound, m,
                              "no SSH agent " + util::quote(id) + "; pass one with --ssh " + id);
        }
        return;
    }
    const std::string target =
        m.target.empty() ? "/run/buildkit/ssh_agent." + std::to_string(index) : m.target;
    executor::MountSpec spec;
    spec.source = *socket;
    spec.target = target;
    spec.read_only = false;
    out.mounts.push_back(std::move(spec));
    if (index == 0) {
        out.env.push_back("SSH_AUTH_SOCK=" + target);
    }
}

}  // namespace

PreparedMounts::~PreparedMounts() {
    std::error_code ignored;
    for (const fs::path& file : remove) {
        fs::remove(file, ignored);
    }
}

PreparedMounts prepare_mounts(const std::vector<dockerfile::Mount>& mounts,
                              const MountSources& sources) {
    PreparedMounts out;
    std::size_t ssh_index = 0;
    for (std::size_t i = 0; i < mounts.size(); ++i) {
        const dockerfile::Mount& m = mounts[i];
        switch (m.type) {
            case dockerfile::MountType::kCache:
                add_cache(m, sources, out);
                break;
            case dockerfile::MountType::kTmpfs: {
                executor::MountSpec spec;
                spec.type = executor::MountSpec::Type::kTmpfs;
                spec.target = m.target;
                spec.tmpfs_size = m.size_limit;
                out.mounts.push_back(std::move(spec));
                break;
            }
            case dockerfile::MountType::kSecret:
                add_secret(m, sources, out);
                break;
            case dockerfile::MountType::kSsh:
                add_ssh(m, sources, ssh_index++, out);
                break;
            case dockerfile::MountType::kBind: {
                const fs::path root = sources.bind_source(i);
                std::string source = m.source;
                while (!source.empty() && source.front() == '/') {
                    source.erase(source.begin());
                }
                const fs::path path = (root / source).lexically_normal();
                const std::string rel = path.lexically_relative(root).string();
                if (rel == ".." || rel.starts_with("../")) {
                    throw mount_error(ErrorCode::kInvalidArgument, m,
                                      "source " + util::quote(m.source) + " leaves its root");
                }
                if (!fs::exists(fs::symlink_status(path))) {
                    throw mount_error(ErrorCode::kNotFound, m,
                                      "source " + util::quote(m.source) + " does not exist in " +
                                          (m.from.empty() ? "the build context" : m.from));
                }
                executor::MountSpec spec;
                spec.source = path;
                spec.target = m.target;
                spec.read_only = m.read_only;
                out.mounts.push_back(std::move(spec));
                break;
            }
        }
    }
    return out;
}

std::string mount_key(const dockerfile::Mount& m) {
    std::string key = dockerfile::to_string(m.type);
    key += '\0' + m.target + '\0' + m.source + '\0' + m.from + '\0' + m.id + '\0';
    key += m.read_only ? "ro" : "rw";
    key += '\0' + std::string(dockerfile::to_string(m.sharing));
    key += '\0' + std::to_string(m.size_limit) + '\0' + (m.required ? "required" : "");
    key += '\0' + m.env.value_or("") + '\0' + std::to_string(m.mode.value_or(~0ULL));
    key +=
        '\0' + std::to_string(m.uid.value_or(~0ULL)) + '\0' + std::to_string(m.gid.value_or(~0ULL));
    return key;
}

}  // namespace xarch::solver
