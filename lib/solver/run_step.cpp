// SPDX-License-Identifier: Apache-2.0
// BuildSession::run_step: a Dockerfile RUN executed in the sandbox on a snapshot of its stage —
// an overlay of the stage's layers (each made once per diff ID in the snapshot store) with a new
// upper directory that becomes the step's layer, or, where overlayfs cannot be mounted, a copy of
// the stage's filesystem compared with it afterwards.
#include "cache_key.hpp"
#include "executor/sandbox.hpp"
#include "executor/user_namespace.hpp"
#include "layer/merged_view.hpp"
#include "oci/fs.hpp"
#include "run_command.hpp"
#include "run_mounts.hpp"
#include "session.hpp"
#include "snapshot/store.hpp"
#include "snapshot/tree_diff.hpp"
#include "snapshot/upper_diff.hpp"
#include "snapshot/whiteouts.hpp"
#include "solver/chown.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

namespace xarch::solver {

namespace fs = std::filesystem;

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) {
        out += "\n" + line;
    }
    return out;
}

}  // namespace

snapshot::SnapshotStore& BuildSession::snapshots() {
    std::call_once(snapshots_once_, [&] {
        snapshots_ = std::make_unique<snapshot::SnapshotStore>(cache_.dir() / "snapshots");
    });
    return *snapshots_;
}

fs::path BuildSession::bind_source(const std::optional<dockerfile::StepInput>& from,
                                   const Platform& platform,
                                   bool writable) {
    // A copy, never the user's files: a read-write bind must not change them, and the context
    // must show only what .dockerignore keeps. Read-only binds share one copy per build; a
    // writable one gets its own, whose changes go with it (as BuildKit discards them).
    std::string name = "context";
    std::shared_ptr<const layer::MergedView> view;
    if (from) {
        const ImageState state =
            from->instance ? instance(*from->instance) : bases_.resolve(from->image, platform);
        name = "state-" + std::string(state.key.hex());
        view = filesystems_.view(state);
    }
    if (writable) {
        name += "-rw-" + oci::fs::temp_name();
    }
    const auto make = [&] {
        const fs::path dir = scratch_ / "binds" / name;
        if (view) {
            layer::export_directory(*view, dir);
        } else {
            auto tree = std::make_shared<layer::MergedView::Layer>();
            tree->dir = context_.directory();
            tree->entries = context_tree().entries;
            layer::export_directory(layer::MergedView({tree}), dir);
        }
        return dir;
    };
    return writable ? make() : bind_sources_.get(name, make);
}

ImageState BuildSession::run_step(const dockerfile::StageInstance& inst,
                                  const dockerfile::PlannedStep& step,
                                  const dockerfile::Command& command,
                                  const ImageState& state,
                                  const std::string& name,
                                  const RunScope& scope) {
    const dockerfile::RunCommand& run = *command.get<dockerfile::RunCommand>();
    const auto fail = [&](const std::string& message) {
        return DockerfileError(dockerfile_name_, command.start_line, command.end_line, message);
    };
    if (run.security == "insecure" && !allowed("security.insecure")) {
        throw fail(
            "RUN --security=insecure needs the security.insecure entitlement: build with "
            "--allow security.insecure");
    }
    // The build's --network is the default; the instruction's own RUN --network wins.
    const std::string network =
        run.network != "default" || options_.network.empty() ? run.network : options_.network;
    if (network == "host" && !allowed("network.host")) {
        throw fail(
            "RUN --network=host needs the network.host entitlement: build with --allow "
            "network.host");
    }
    if (!run.devices.empty()) {
        throw fail("RUN --device is not supported by this version of xarch: " + command.original);
    }
    const RunArgv argv =
        run_argv(run.command, state.config.config.shell.value_or(std::vector<std::string>{}));
    const std::vector<std::string> env = run_environment(scope.env, step.proxy_env);
    const std::string created_by = run_history(argv.args, scope.stage_args, scope.env);
    const std::string user = state.config.config.user;
    const std::string cwd = state.config.config.working_dir.empty()
                                ? std::string("/")
                                : state.config.config.working_dir;

    // The key: the parent state, what runs and how, and what the mounts bring in.
    KeyBuilder k("run");
    k.add(state.key).add(inst.platform.to_string()).add(user).add(cwd).add(network);
    k.add(run.security).add(argv.script_content);
    for (const std::string& a : argv.args) {
        k.add("arg").add(a);
    }
    for (const std::string& e : env) {
        k.add("env").add(e);
    }
    for (std::size_t i = 0; i < run.mounts.size(); ++i) {
        k.add("mount").add(mount_key(run.mounts[i]));
        const auto& from = i < step.mount_from.size() ? step.mount_from[i] : std::nullopt;
        if (run.mounts[i].type == dockerfile::MountType::kBind) {
            if (from) {
                const ImageState source = from->instance
                                              ? instance(*from->instance)
                                              : bases_.resolve(from->image, inst.platform);
                k.add(source.key);
            } else {
                for (const layer::Entry& e : context_tree().entries) {
                    k.add(e.path).add(std::int64_t{e.mode}).add(e.link_target);
                    if (e.type == layer::EntryType::kRegular) {
                        k.add(content_id(e));
                    }
                }
            }
        }
    }
    const Digest key = k.finish();

    return run_cached(key, name, [&]() -> ImageState {
        const std::string vertex = key.to_string();
        const std::shared_ptr<const layer::MergedView> view = filesystems_.view(state);
        RunUser identity;
        try {
            identity =
                resolve_run_user(user, [&](std::string_view p) { return view->read_file(p); });
        } catch (const Error& e) {
            throw fail(e.what());
        }

        MountSources sources;
        sources.cache_mounts = cache_.dir() / "mounts";
        sources.scratch = scratch_;
        sources.context = &context_;
        sources.bind_source = [&](std::size_t i) {
            return bind_source(i < step.mount_from.size() ? step.mount_from[i] : std::nullopt,
                               inst.platform, !run.mounts[i].read_only);
        };
        PreparedMounts mounts;
        try {
            std::error_code ignored;
            fs::create_directories(sources.cache_mounts, ignored);
            mounts = prepare_mounts(run.mounts, sources);
        } catch (const Error& e) {
            throw fail(e.what());
        }

        executor::RunSpec spec;
        spec.args = argv.args;
        spec.env = env;
        for (const std::string& e : mounts.env) {
            spec.env.push_back(e);
        }
        if (!scope.env.get("HOME")) {
            spec.env.push_back("HOME=" + identity.home);
        }
        spec.cwd = cwd;
        spec.uid = identity.uid;
        spec.gid = identity.gid;
        spec.groups = identity.groups;
        spec.network = network == "none" ? executor::Network::kNone : executor::Network::kHost;
        spec.mounts = std::move(mounts.mounts);
        spec.output = [&](std::string_view line, bool) { progress_.log(vertex, name, line); };
        if (argv.script) {
            // The heredoc script, executable, where its argv names it.
            const fs::path file = scratch_ / "scripts" / oci::fs::temp_name();
            fs::create_directories(file.parent_path());
            std::ofstream(file, std::ios::binary) << argv.script_content;
            fs::permissions(file, fs::perms(0755));
            executor::MountSpec script;
            script.source = file;
            script.target = argv.script_path;
            script.read_only = true;
            spec.mounts.push_back(std::move(script));
        }

        snapshot::SnapshotStore& store = snapshots();
        snapshot::SnapshotStore::Workspace ws = store.workspace();
        // overlayfs takes its options in one page: a very deep image goes the copy way.
        const std::size_t option_bytes =
            view->layers().size() * (store.dir().string().size() + 80) + 512;
        const snapshot::OverlayMode mode = snapshotter_ == Snapshotter::kNative
                                               ? snapshot::OverlayMode::kNone
                                               : store.overlay_mode();
        const bool overlay = mode != snapshot::OverlayMode::kNone && option_bytes < 4096;
        if (!overlay && snapshotter_ == Snapshotter::kOverlayfs) {
            throw Error(ErrorCode::kUnsupported,
                        "RUN: the overlayfs snapshotter was asked for, but overlayfs cannot be "
                        "mounted here" +
                            std::string(option_bytes < 4096 ? "" : " over this many layers") +
                            "; use Snapshotter::kAuto or kNative");
        }
        // Without root the command's files belong to the caller, whom the sandbox's user
        // namespace shows as root: the layer records them as root's.
        std::optional<snapshot::OwnerMap> owners;
        if (store.rootless()) {
            if (!overlay) {
                throw Error(ErrorCode::kUnsupported,
                            "RUN without root needs overlayfs in a user namespace (Linux 5.11 "
                            "or later, `userxattr`), which cannot be mounted here; run the build "
                            "as root");
            }
            const executor::IdMaps maps = executor::IdMaps::for_caller();
            owners = snapshot::OwnerMap{maps.host_uid(), maps.host_gid()};
            if (maps.subordinate()) {
                owners->uid_start = maps.subordinate_uids().start;
                owners->uid_count = maps.subordinate_uids().count;
                owners->gid_start = maps.subordinate_gids().start;
                owners->gid_count = maps.subordinate_gids().count;
            }
        }
        if (overlay) {
            executor::OverlayRoot root;
            const auto& layers = view->layers();
            // overlayfs refuses a directory twice (ELOOP). A layer that comes again (an empty
            // RUN or WORKDIR layer, a repeated COPY) is the same diff: above the layers between,
            // its topmost copy already shows everything its lower copy would.
            std::set<std::string> stacked;
            for (std::size_t i = layers.size(); i-- > 0;) {
                if (stacked.insert(state.layers[i].diff_id.to_string()).second) {
                    root.lowers.push_back(store.layer_dir(state.layers[i].diff_id, *layers[i]));
                }
            }
            root.upper = ws.upper();
            root.work = ws.work();
            root.userxattr = mode == snapshot::OverlayMode::kUserxattr;
            spec.overlay = std::move(root);
        } else {
            layer::export_directory(*view, ws.root());
        }
        spec.rootfs = ws.root();

        const executor::RunResult result = executor::run(spec, token_);
        if (result.exit_code != 0) {
            throw BuildError(
                dockerfile_name_, command.start_line, command.end_line,
                run_failure_message(argv.args, result.exit_code) + join_lines(result.last_lines),
                BuildError::Step{name, inst.platform.to_string(), result.exit_code,
                                 result.last_lines});
        }

        // Whiteouts first: a directory kept only for the whiteouts under it is not unchanged.
        std::vector<layer::Entry> entries =
            overlay ? snapshot::drop_unchanged_dirs(
                          snapshot::buildkit_whiteouts(
                              snapshot::upper_to_entries(ws.upper(), owners), *view),
                          *view)
                    : snapshot::buildkit_whiteouts(snapshot::tree_diff(*view, ws.root()), *view);
        const LayerInfo info = write_layer(entries);
        if (overlay) {
            const fs::path dir = store.commit(ws, info.diff_id);
            filesystems_.remember(
                info.diff_id, snapshot::SnapshotStore::rebase(std::move(entries), ws.upper(), dir));
        } else {
            filesystems_.remember(info.diff_id, std::move(entries));
            // The entries point into the copy: it lives as long as the build.
            std::lock_guard lock(kept_mutex_);
            kept_workspaces_.push_back(std::move(ws));
        }
        ImageState next = state;
        next.add_layer(info, created_by);
        return next;
    });
}

}  // namespace xarch::solver
