// SPDX-License-Identifier: Apache-2.0
// xarch::Builder: builds in this process (the embedded driver) or over a builder's nodes. Holds
// the cache and the registry options shared by its builds, and the token that cancel() trips.
#include "cache/cache.hpp"
#include "drivers/multi_node.hpp"
#include "solver/cancel.hpp"
#include "solver/session.hpp"

#include <xarch/builder.hpp>
#include <xarch/error.hpp>

#include <algorithm>
#include <mutex>
#include <thread>

namespace xarch {

namespace {

// buildx's --network: the values BuildKit accepts. Asking for host grants its entitlement, as
// buildx adds network.host to the allowed entitlements itself for `--network host`.
BuildOptions with_network_entitlement(const BuildOptions& options) {
    const std::string& network = options.network;
    if (!network.empty() && network != "default" && network != "none" && network != "host") {
        throw Error(ErrorCode::kInvalidArgument,
                    "network mode \"" + network + "\" is not supported: use default, none or host");
    }
    BuildOptions out = options;
    if (network == "host" &&
        std::find(out.allow.begin(), out.allow.end(), "network.host") == out.allow.end()) {
        out.allow.emplace_back("network.host");
    }
    return out;
}

}  // namespace

class Builder::Impl {
public:
    explicit Impl(BuilderOptions options)
        : options_(std::move(options)),
          cache_(options_.cache_dir.empty() ? cache::Cache::default_dir() : options_.cache_dir) {}

    BuildResult build(BuildContext& context, const BuildOptions& requested) {
        const BuildOptions options = with_network_entitlement(requested);
        const solver::CancelToken token = current_token().child();
        if (options_.builder && !drivers::is_embedded_only(*options_.builder)) {
            Registry registry(registry_options(token));
            ScanOptions scan;
            scan.cache_dir = cache_.dir();
            return drivers::build_on_nodes(
                *options_.builder, context, options, registry, options_.registry.credentials, token,
                scan,
                [this](BuildContext& c, const BuildOptions& o, const solver::CancelToken& t,
                       bool context_scanned) { return build_here(c, o, t, context_scanned); });
        }
        return build_here(context, options, token, false);
    }

    void cancel() {
        std::lock_guard lock(mutex_);
        token_.cancel();
        // Builds started after cancel() are not cancelled by it.
        token_ = solver::CancelToken();
    }

    PruneResult prune(const PruneOptions& options) { return cache_.prune(options); }
    const std::filesystem::path& cache_dir() const { return cache_.dir(); }

private:
    // The embedded driver.
    BuildResult build_here(BuildContext& context,
                           const BuildOptions& options,
                           const solver::CancelToken& token,
                           bool context_scanned) {
        Registry registry(registry_options(token));
        cache::Cache::Lease lease = cache_.lease();
        const unsigned jobs =
            options_.jobs != 0 ? options_.jobs : std::max(1U, std::thread::hardware_concurrency());
        solver::BuildSession session(context, options, cache_, registry, token, jobs,
                                     options_.snapshotter);
        if (context_scanned) {
            session.reuse_context_scan();
        }
        return session.run();
    }

    // A registry client per build, so that cancelling this build stops its transfers.
    RegistryOptions registry_options(const solver::CancelToken& token) const {
        RegistryOptions registry_options = options_.registry;
        TransferProgressCallback user = std::move(registry_options.progress);
        registry_options.progress = [token, user](const TransferProgress& p) {
            if (token.cancelled()) {
                return false;
            }
            return user ? user(p) : true;
        };
        return registry_options;
    }

    solver::CancelToken current_token() {
        std::lock_guard lock(mutex_);
        return token_;
    }

    BuilderOptions options_;
    cache::Cache cache_;
    std::mutex mutex_;
    solver::CancelToken token_;
};

Builder::Builder(BuilderOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Builder::~Builder() = default;
Builder::Builder(Builder&&) noexcept = default;
Builder& Builder::operator=(Builder&&) noexcept = default;

BuildResult Builder::build(BuildContext& context, const BuildOptions& options) {
    return impl_->build(context, options);
}
void Builder::cancel() {
    impl_->cancel();
}
PruneResult Builder::prune(const PruneOptions& options) {
    return impl_->prune(options);
}
const std::filesystem::path& Builder::cache_dir() const {
    return impl_->cache_dir();
}

}  // namespace xarch
