// SPDX-License-Identifier: Apache-2.0
// The filesystem of an image state, for the steps that read it (COPY --from a stage, --chown
// names from /etc/passwd, WORKDIR, the parent directories a COPY creates) and for the local and
// tar outputs: each layer unpacked once into the cache (fetched from its repository first when
// the store lacks it) and stacked in a layer::MergedView. Layers this build made itself are
// used straight from the entries they were written from, without unpacking.
#pragma once

#include "cache/cache.hpp"
#include "image_state.hpp"
#include "layer/merged_view.hpp"
#include "solver/memo.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/registry.hpp>

#include <memory>

namespace xarch::solver {

class Filesystems {
public:
    Filesystems(cache::Cache& cache, Registry& registry) : cache_(cache), registry_(registry) {}

    // Makes `layer`'s blob present in the content store (fetched from its source repository).
    void ensure_blob(const LayerInfo& layer);
    // The merged filesystem of `state`.
    std::shared_ptr<const layer::MergedView> view(const ImageState& state);
    // A layer this build wrote from `entries` (whose source files stay valid for the build).
    void remember(const Digest& diff_id, std::vector<layer::Entry> entries);

private:
    std::shared_ptr<const layer::MergedView::Layer> layer(const LayerInfo& info);

    cache::Cache& cache_;
    Registry& registry_;
    Memo<bool> blobs_;
    Memo<std::shared_ptr<const layer::MergedView::Layer>> layers_;
    Memo<std::shared_ptr<const layer::MergedView>> views_;
};

}  // namespace xarch::solver
