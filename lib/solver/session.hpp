// SPDX-License-Identifier: Apache-2.0
// One build: the Dockerfile planned for every platform, each stage instance run step by step on
// a group of threads (instances and platforms in parallel, dependencies computed on demand), each
// step named by its cache key and skipped when the cache has its result, identical layers built
// once, then the images finalized and handed to the exporters.
#pragma once

#include "base_images.hpp"
#include "cache/cache.hpp"
#include "dockerfile/plan.hpp"
#include "dockerfile/shell_lexer.hpp"
#include "filesystems.hpp"
#include "finalize.hpp"
#include "image_state.hpp"
#include "snapshot/store.hpp"
#include "solver/cancel.hpp"
#include "solver/copy_rules.hpp"
#include "solver/memo.hpp"
#include "solver/memory_budget.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/builder.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace xarch::solver {

class BuildSession {
public:
    BuildSession(BuildContext& context,
                 const BuildOptions& options,
                 cache::Cache& cache,
                 Registry& registry,
                 CancelToken token,
                 unsigned jobs,
                 Snapshotter snapshotter = Snapshotter::kAuto);

    ~BuildSession();
    BuildSession(const BuildSession&) = delete;
    BuildSession& operator=(const BuildSession&) = delete;

    BuildResult run();
    // The context was scanned for this build already (builds on several nodes share one scan):
    // use its entries instead of scanning it again.
    void reuse_context_scan() { reuse_context_scan_ = true; }

private:
    struct StepContext;
    // What a RUN sees of its stage besides the image state.
    struct RunScope {
        const dockerfile::EnvList& env;              // the environment at the step
        const std::vector<std::string>& stage_args;  // the stage's ARG names so far, in order
    };

    void load_definition();
    void import_caches();
    void export_caches();
    ImageState instance(std::size_t index);
    ImageState run_instance(const dockerfile::StageInstance& inst);
    ImageState base_state(const dockerfile::StageInstance& inst, StepContext& sc);
    ImageState run_cached(const Digest& key,
                          const std::string& name,
                          const std::function<ImageState()>& run);
    ImageState copy_step(const dockerfile::StageInstance& inst,
                         const dockerfile::PlannedStep& step,
                         const dockerfile::Command& command,
                         const ImageState& state,
                         const std::string& name);
    ImageState workdir_step(const dockerfile::Command& command,
                            ImageState state,
                            const std::string& name);
    ImageState run_step(const dockerfile::StageInstance& inst,
                        const dockerfile::PlannedStep& step,
                        const dockerfile::Command& command,
                        const ImageState& state,
                        const std::string& name,
                        const RunScope& scope);
    // The directory a RUN --mount=type=bind of `from` (the build context when nullopt) reads.
    std::filesystem::path bind_source(const std::optional<dockerfile::StepInput>& from,
                                      const Platform& platform,
                                      bool writable);
    snapshot::SnapshotStore& snapshots();
    // Whether --allow granted an entitlement ("network.host", "security.insecure").
    bool allowed(std::string_view entitlement) const;
    // Fails at once, before any step, when a platform with RUN steps cannot run here.
    void check_emulators() const;
    // The layer of `entries`, written once per content (and remembered for later views).
    LayerInfo layer_for(std::vector<layer::Entry> entries);
    // The same without remembering the entries (RUN remembers them where they end up).
    LayerInfo write_layer(const std::vector<layer::Entry>& entries);
    Digest content_id(const layer::Entry& entry);
    const SourceTree& context_tree();
    std::string created_now() const;
    std::string step_name(StepContext& sc, const std::string& text) const;

    BuildContext& context_;
    const BuildOptions& options_;
    cache::Cache& cache_;
    Registry& registry_;
    CancelToken token_;
    unsigned jobs_;
    Snapshotter snapshotter_;
    util::ProgressReporter progress_;
    std::optional<std::int64_t> epoch_;
    std::chrono::system_clock::time_point started_;
    Compression compression_ = Compression::kGzip;
    int compression_level_ = -1;
    bool oci_media_types_ = true;  // oci-mediatypes=false: Docker's media types throughout
    std::vector<BuildAnnotation> annotations_;
    // Files this build makes for itself (ADD downloads and unpacked archives), removed with it.
    std::filesystem::path scratch_;

    dockerfile::Plan plan_;
    std::string dockerfile_name_;
    char escape_ = '\\';
    BaseImages bases_;
    Filesystems filesystems_;
    Memo<ImageState> instances_;
    Memo<ImageState> steps_;
    Memo<LayerInfo> layers_;
    // Bounds the buffers of the layers written at once (platforms and stages run in parallel).
    MemoryBudget memory_;

    std::once_flag context_once_;
    bool reuse_context_scan_ = false;
    std::optional<SourceTree> context_tree_;
    std::unordered_map<std::string, Digest> context_digests_;  // absolute file path -> digest

    std::mutex keys_mutex_;
    std::vector<Digest> step_keys_;

    std::once_flag snapshots_once_;
    std::unique_ptr<snapshot::SnapshotStore> snapshots_;
    Memo<std::filesystem::path> bind_sources_;
    // Copy-based snapshots whose files later steps still read (declared after the store).
    std::mutex kept_mutex_;
    std::vector<snapshot::SnapshotStore::Workspace> kept_workspaces_;
};

}  // namespace xarch::solver
