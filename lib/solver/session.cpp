// SPDX-License-Identifier: Apache-2.0
// BuildSession: planning, stage instances, steps with their cache keys, images, exports.
#include "session.hpp"

#include "cache/registry_cache.hpp"
#include "cache_key.hpp"
#include "dockerfile/parser.hpp"
#include "dockerfile/shell_lexer.hpp"
#include "exporter/exporter.hpp"
#include "layer/writer.hpp"
#include "metadata.hpp"
#include "oci/fs.hpp"
#include "solver/add_sources.hpp"
#include "solver/chmod.hpp"
#include "solver/chown.hpp"
#include "solver/job_group.hpp"
#include "util/path.hpp"
#include "util/quote.hpp"

#include <xarch/emulators.hpp>
#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace xarch::solver {

namespace {

using dockerfile::Command;
using dockerfile::CopyCommand;
using dockerfile::PlannedStep;
using dockerfile::StageInstance;

// The components of a clean absolute path: "/a/b" -> {"a", "b"}.
std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start < path.size()) {
        const auto slash = path.find('/', start);
        const std::string_view part = path.substr(start, slash - start);
        if (!part.empty()) {
            parts.emplace_back(part);
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return parts;
}

bool is_url(std::string_view source) {
    return source.starts_with("http://") || source.starts_with("https://");
}

// Steps that BuildKit numbers in its progress names ([2/3]).
bool is_numbered(const Command& command) {
    return command.get<CopyCommand>() != nullptr ||
           command.get<dockerfile::RunCommand>() != nullptr ||
           command.get<dockerfile::WorkdirCommand>() != nullptr;
}

std::string history_of_copy(const CopyCommand& copy) {
    std::string msg = copy.add ? "ADD" : "COPY";
    if (copy.parents) {
        msg += " --parents";
    }
    if (!copy.chown.empty()) {
        msg += " --chown=" + copy.chown;
    }
    if (!copy.chmod.empty()) {
        msg += " --chmod=" + copy.chmod;
    }
    for (const std::string& src : copy.source_paths) {
        msg += " " + src;
    }
    for (const dockerfile::SourceContent& c : copy.source_contents) {
        msg += " <<" + c.path;
    }
    return msg + " " + copy.dest + " # buildkit";
}

std::optional<std::int64_t> parse_epoch(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    char* end = nullptr;
    const std::string s(text);
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (end == s.c_str() || *end != '\0' || v < 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid SOURCE_DATE_EPOCH " + util::quote(text) +
                        ": give seconds since 1970-01-01 UTC, e.g. $(git log -1 --format=%ct)");
    }
    return v;
}

// The environment a step's words see: the stage's image environment, then the Dockerfile's
// variables up to the step (ENV and ARG, the later winning).
dockerfile::EnvList step_env(const std::vector<std::string>& image_env,
                             const dockerfile::Variables* before) {
    dockerfile::EnvList env(image_env);
    if (before != nullptr) {
        for (const auto& [k, v] : *before) {
            env.set(k, v);
        }
    }
    return env;
}

// The memory the layer writers of one build may hold at once: an eighth of the machine's, at
// most 512 MiB.
std::int64_t layer_memory_budget() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    const std::int64_t physical =
        pages > 0 && page > 0 ? std::int64_t{pages} * page : std::int64_t{1} << 32;
    return std::min<std::int64_t>(physical / 8, std::int64_t{512} << 20);
}

// What one layer writer holds: the file read buffer, and per compression thread two input
// blocks of 128 KiB with their compressed output.
std::int64_t layer_writer_memory(unsigned threads) {
    return (std::int64_t{1} << 20) + std::int64_t{threads} * 2 * (std::int64_t{288} << 10);
}

// BuildKit's dispatch-time expansion of one instruction's words against `env` (heredoc sources
// with the raw lexer that keeps quotes).
void expand_command(Command& command,
                    const dockerfile::ShellLex& lex,
                    const dockerfile::EnvList& env) {
    const dockerfile::WordExpander word = [&](std::string_view w) {
        return lex.process_word(w, env);
    };
    dockerfile::ShellLexOptions raw_options;
    raw_options.escape = lex.options().escape;
    raw_options.skip_process_quotes = true;
    const dockerfile::ShellLex raw_lex(raw_options);
    const dockerfile::WordExpander raw = [&](std::string_view w) {
        return raw_lex.process_word(w, env);
    };
    dockerfile::expand(command, word, raw);
}

// How BuildKit names a step in its progress: the instruction uppercased, variables that are set
// expanded, quotes and everything else as written (processCmdEnv with RawQuotes, SkipUnsetEnv).
std::string display_text(const std::string& original, char escape, const dockerfile::EnvList& env) {
    std::string text = original;
    try {
        dockerfile::ShellLexOptions options;
        options.escape = static_cast<char32_t>(escape);
        options.raw_quotes = true;
        options.skip_unset_env = true;
        text = dockerfile::ShellLex(options).process_word(original, env);
    } catch (const Error&) {
        // As BuildKit: a name that does not expand is shown as written.
    }
    const auto space = text.find(' ');
    for (std::size_t i = 0; i < std::min(space, text.size()); ++i) {
        text[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    }
    return text;
}

}  // namespace

struct BuildSession::StepContext {
    const StageInstance* inst = nullptr;
    int index = 0;
    int total = 0;
    bool prefix_platform = false;
};

BuildSession::BuildSession(BuildContext& context,
                           const BuildOptions& options,
                           cache::Cache& cache,
                           Registry& registry,
                           CancelToken token,
                           unsigned jobs,
                           Snapshotter snapshotter)
    : context_(context),
      options_(options),
      cache_(cache),
      registry_(registry),
      token_(std::move(token)),
      jobs_(jobs == 0 ? 1 : jobs),
      snapshotter_(snapshotter),
      progress_(options.progress),
      started_(std::chrono::system_clock::now()),
      scratch_(cache.temp_dir() / ("build-" + oci::fs::temp_name())),
      bases_(registry, cache.content()),
      filesystems_(cache, registry),
      memory_(layer_memory_budget()) {
    epoch_ = options.source_date_epoch;
    if (!epoch_) {
        const auto& args = context.build_args();
        if (auto it = args.find("SOURCE_DATE_EPOCH"); it != args.end()) {
            epoch_ = parse_epoch(it->second);
        } else if (const char* env = std::getenv("SOURCE_DATE_EPOCH")) {
            epoch_ = parse_epoch(env);
        }
    }
    for (const OutputSpec& out : options.outputs) {
        compression_ = out.compression;
        compression_level_ = out.compression_level;
        oci_media_types_ = out.oci_media_types;
        break;
    }
    for (const std::string& a : options.annotations) {
        for (BuildAnnotation& parsed : BuildAnnotation::parse(a)) {
            annotations_.push_back(std::move(parsed));
        }
    }
}

BuildSession::~BuildSession() {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_, ignored);
}

std::string BuildSession::created_now() const {
    return epoch_ ? format_epoch(*epoch_) : format_time(started_);
}

void BuildSession::load_definition() {
    const std::string vertex = "internal:load-dockerfile";
    const std::optional<std::filesystem::path> path = context_.dockerfile_path();
    dockerfile_name_ = path ? path->filename().string() : std::string("Dockerfile");
    const std::string name = "[internal] load build definition from " + dockerfile_name_;
    progress_.started(vertex, name);
    try {
        const std::string text = context_.dockerfile_text();
        progress_.status(vertex, name,
                         "transferring dockerfile:", static_cast<std::int64_t>(text.size()), 0,
                         true);
        dockerfile::ParseOptions parse_options;
        parse_options.file_name = dockerfile_name_;
        const dockerfile::ParseResult parsed = dockerfile::parse(text, parse_options);
        escape_ = parsed.escape_token;
        dockerfile::PlanOptions plan_options;
        plan_options.build_args = context_.build_args();
        plan_options.platforms = options_.platforms;
        plan_options.target = context_.target();
        plan_ = dockerfile::plan(parsed, plan_options);
        for (const std::string& w : plan_.warnings) {
            progress_.warning(w);
        }
    } catch (const Error& e) {
        progress_.failed(vertex, name, e.what());
        throw;
    }
    progress_.completed(vertex, name);
}

const SourceTree& BuildSession::context_tree() {
    std::call_once(context_once_, [&] {
        const std::string vertex = "internal:load-context";
        const std::string name = "[internal] load build context";
        progress_.started(vertex, name);
        ScanOptions scan;
        scan.cache_dir = cache_.dir();
        const std::vector<ContextEntry>& entries =
            reuse_context_scan_ ? context_.entries() : context_.scan(scan);
        const ScanStats& stats = context_.last_scan_stats();
        progress_.status(vertex, name, "transferring context:", stats.bytes_hashed, 0, true);
        context_tree_ = context_source(context_.directory(), entries);
        for (const ContextEntry& e : entries) {
            if (e.type == ContextEntryType::kRegular) {
                context_digests_.emplace((context_.directory() / e.path).string(), e.digest);
            }
        }
        progress_.completed(vertex, name);
    });
    return *context_tree_;
}

std::string BuildSession::step_name(StepContext& sc, const std::string& text) const {
    if (sc.total == 0) {
        return text;
    }
    std::string out = "[";
    if (sc.prefix_platform) {
        out += sc.inst->platform.to_string() + " ";
    }
    if (!sc.inst->stage_name.empty()) {
        out += sc.inst->stage_name + " ";
    }
    ++sc.index;
    const int width = 1 + static_cast<int>(std::log10(static_cast<double>(sc.total)));
    std::string number = std::to_string(sc.index);
    while (static_cast<int>(number.size()) < width) {
        number.insert(number.begin(), ' ');
    }
    return out + number + "/" + std::to_string(sc.total) + "] " + text;
}

ImageState BuildSession::run_cached(const Digest& key,
                                    const std::string& name,
                                    const std::function<ImageState()>& run) {
    {
        std::lock_guard lock(keys_mutex_);
        step_keys_.push_back(key);
    }
    const std::string vertex = key.to_string();
    return steps_.get(vertex, [&] {
        token_.throw_if_cancelled();
        if (!options_.no_cache) {
            if (std::optional<std::string> record = cache_.get_record(key)) {
                ImageState cached = from_record(*record);
                bool complete = true;
                for (const LayerInfo& l : cached.layers) {
                    complete = complete && (!l.source_repository.empty() ||
                                            cache_.content().has_blob(l.blob.digest));
                }
                if (complete) {
                    progress_.cached(vertex, name);
                    return cached;
                }
            }
        }
        progress_.started(vertex, name);
        try {
            ImageState state = run();
            state.key = key;
            cache_.put_record(key, to_record(state));
            progress_.completed(vertex, name);
            return state;
        } catch (const std::exception& e) {
            progress_.failed(vertex, name, e.what());
            throw;
        }
    });
}

Digest BuildSession::content_id(const layer::Entry& entry) {
    if (entry.data) {
        return Digest::of(*entry.data);
    }
    const std::string path = entry.source_file.string();
    if (auto it = context_digests_.find(path); it != context_digests_.end()) {
        return it->second;
    }
    const std::string unpacked = (cache_.dir() / "unpacked").string();
    if (path.starts_with(unpacked)) {
        // Unpacked layers live under their diff ID: the path names the content.
        return Digest::of(path);
    }
    Hasher hasher;
    std::ifstream in(entry.source_file, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::kIo, "cannot read " + path);
    }
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
    }
    return hasher.finish();
}

LayerInfo BuildSession::layer_for(std::vector<layer::Entry> entries) {
    std::sort(entries.begin(), entries.end(),
              [](const layer::Entry& a, const layer::Entry& b) { return a.path < b.path; });
    LayerInfo info = write_layer(entries);
    filesystems_.remember(info.diff_id, std::move(entries));
    return info;
}

LayerInfo BuildSession::write_layer(const std::vector<layer::Entry>& entries) {
    KeyBuilder k("layer");
    k.add(std::string(to_string(compression_))).add(std::int64_t{compression_level_});
    k.add(oci_media_types_ ? "oci" : "docker");
    k.add(epoch_ ? *epoch_ : std::int64_t{-1});
    for (const layer::Entry& e : entries) {
        k.add(e.path).add(std::int64_t{static_cast<int>(e.type)}).add(std::int64_t{e.mode});
        k.add(std::int64_t{e.uid}).add(std::int64_t{e.gid}).add(e.mtime_ns / 1000000000);
        k.add(e.size).add(e.link_target);
        k.add(std::int64_t{e.dev_major}).add(std::int64_t{e.dev_minor});
        for (const auto& [name, value] : e.xattrs) {
            k.add(name).add(value);
        }
        if (e.type == layer::EntryType::kRegular) {
            k.add(content_id(e));
        }
    }
    const Digest key = k.finish();
    return layers_.get(key.to_string(), [&] {
        if (std::optional<std::string> record = cache_.get_record(key);
            record && !options_.no_cache) {
            const boost::json::object o = boost::json::parse(*record).as_object();
            LayerInfo cached;
            cached.blob = parse_descriptor(boost::json::serialize(o.at("blob")));
            cached.diff_id = Digest::parse(o.at("diff_id").as_string());
            cached.created = std::string(o.at("created").as_string());
            if (cache_.content().has_blob(cached.blob.digest)) {
                return cached;
            }
        }
        layer::WriteOptions options;
        options.compression = compression_;
        options.level = compression_level_;
        options.threads = jobs_;
        options.clamp_mtime = epoch_;
        options.oci_media_types = oci_media_types_;
        const MemoryBudget::Lease lease = memory_.acquire(layer_writer_memory(jobs_), token_);
        const layer::LayerBlob blob = layer::write_layer(cache_.content(), entries, options,
                                                         [this] { return token_.cancelled(); });
        LayerInfo made;
        made.blob = blob.descriptor;
        made.diff_id = blob.diff_id;
        made.created = created_now();
        boost::json::object o;
        o["blob"] = boost::json::parse(made.blob.serialize());
        o["diff_id"] = made.diff_id.to_string();
        o["created"] = made.created;
        o["blobs"] = boost::json::array{boost::json::parse(made.blob.serialize())};
        cache_.put_record(key, boost::json::serialize(o));
        return made;
    });
}

ImageState BuildSession::copy_step(const StageInstance& inst,
                                   const PlannedStep& step,
                                   const Command& command,
                                   const ImageState& state,
                                   const std::string& name) {
    const CopyCommand& copy = *command.get<CopyCommand>();
    const std::string created_by = history_of_copy(copy);
    const auto fail = [&](const std::string& message) -> DockerfileError {
        return DockerfileError(dockerfile_name_, command.start_line, command.end_line, message);
    };
    std::vector<std::string> paths;
    std::vector<std::string> urls;
    for (const std::string& s : copy.source_paths) {
        (copy.add && is_url(s) ? urls : paths).push_back(s);
    }
    if (!urls.empty() && !copy.from.empty()) {
        throw fail("ADD --from does not take URLs: " + urls.front());
    }

    // The key: the parent state, the instruction as expanded, and what its sources hold.
    KeyBuilder k("copy");
    k.add(state.key).add(created_by).add(copy.dest).add(state.config.config.working_dir);
    k.add(copy.link ? "link" : "").add(copy.checksum);
    for (const std::string& e : copy.excludes) {
        k.add("exclude").add(e);
    }
    for (const dockerfile::SourceContent& c : copy.source_contents) {
        k.add(c.path).add(c.data);
    }
    for (const std::string& u : urls) {
        k.add("url").add(u);  // the downloaded content is keyed again by its layer
    }
    std::optional<ImageState> from_state;
    std::optional<std::filesystem::path> named_dir;
    if (step.copy_from) {
        if (step.copy_from->instance) {
            from_state = instance(*step.copy_from->instance);
        } else {
            const auto& named = context_.named_contexts();
            if (auto it = named.find(step.copy_from->image); it != named.end()) {
                if (it->second.kind == NamedContext::Kind::kImage) {
                    from_state = bases_.resolve(it->second.value, inst.platform);
                } else if (it->second.kind == NamedContext::Kind::kDirectory) {
                    named_dir = it->second.value;
                } else {
                    throw fail("named context " + util::quote(it->first) +
                               " is an OCI layout or URL; this version of xarch copies only "
                               "from directories and images");
                }
            } else {
                from_state = bases_.resolve(step.copy_from->image, inst.platform);
            }
        }
    }
    std::optional<BuildContext> named_context;
    if (named_dir) {
        named_context.emplace(BuildContext::from_directory(*named_dir));
        ScanOptions scan;
        scan.cache_dir = cache_.dir();
        named_context->scan(scan);
    }
    if (from_state) {
        k.add("from").add(from_state->key).add(copy.from);
        for (const std::string& p : paths) {
            k.add(p);
        }
    } else if (!paths.empty()) {
        try {
            if (!named_context) {
                context_tree();  // the build context is scanned on first use
            }
            const BuildContext& source_context = named_context ? *named_context : context_;
            const std::vector<CopySourceMatch> matches =
                source_context.resolve_copy_sources(paths, copy.dest);
            for (const CopySourceMatch& m : matches) {
                k.add("source").add(m.source);
                for (const ContextEntry& e : m.entries) {
                    k.add(e.path).add(std::int64_t{static_cast<int>(e.type)});
                    k.add(std::int64_t{e.mode}).add(e.size).add(e.link_target);
                    k.add(e.digest.empty() ? std::string() : e.digest.to_string());
                }
            }
        } catch (const DockerfileError&) {
            throw;
        } catch (const Error& e) {
            throw fail(e.what());
        }
    }
    const Digest key = k.finish();

    return run_cached(key, name, [&]() -> ImageState {
        std::shared_ptr<const layer::MergedView> lower;
        const auto lower_view = [&]() -> const layer::MergedView& {
            if (!lower) {
                lower = filesystems_.view(state);
            }
            return *lower;
        };
        CopyRequest request;
        request.sources = paths;
        request.contents = copy.source_contents;
        request.dest = copy.dest;
        request.workdir = state.config.config.working_dir.empty() ? std::string("/")
                                                                  : state.config.config.working_dir;
        request.link = copy.link;
        request.parents = copy.parents;
        request.add = copy.add;
        request.excludes = copy.excludes;
        request.unpack = copy.unpack.value_or(true);
        request.scratch_dir = scratch_ / ("add-" + std::string(key.hex()));
        request.created_time_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                epoch_ ? std::chrono::seconds(*epoch_) : started_.time_since_epoch())
                .count();
        try {
            if (!copy.chown.empty()) {
                request.owner = resolve_chown(copy.chown, [&](std::string_view path) {
                    return lower_view().read_file(path);
                });
            }
            if (!copy.chmod.empty()) {
                request.chmod = Chmod::parse(copy.chmod);
            }
        } catch (const DockerfileError&) {
            throw;
        } catch (const Error& e) {
            throw fail(e.what());
        }
        using Lookup = std::function<std::optional<layer::Entry>(std::string_view)>;
        using Resolve = std::function<std::string(std::string_view, bool)>;
        Lookup lookup;
        Resolve resolve;
        if (!copy.link) {
            lookup = [&](std::string_view p) { return lower_view().lookup(p); };
            resolve = [&](std::string_view p, bool follow) {
                return lower_view().resolve(p, follow);
            };
        }

        std::vector<layer::Entry> entries;
        try {
            std::shared_ptr<const layer::MergedView> source_view;
            SourceTree tree;
            const SourceTree* source = nullptr;
            if (from_state) {
                source_view = filesystems_.view(*from_state);
                tree = tree_source(source_view->all());
                source = &tree;
            } else if (named_context) {
                tree = context_source(named_context->directory(), named_context->entries());
                source = &tree;
            } else {
                source = &context_tree();
            }
            if (!paths.empty() || !copy.source_contents.empty()) {
                entries = plan_copy(request, *source, lookup, resolve);
            }
            const std::filesystem::path download_dir = scratch_ / "downloads";
            for (const std::string& url : urls) {
                layer::Entry fetched = fetch_url(url, copy.checksum, download_dir);
                SourceTree one;
                std::string file_name = fetched.path;
                one.entries.push_back(std::move(fetched));
                CopyRequest single = request;
                single.sources = {file_name};
                single.contents.clear();
                single.add = false;  // BuildKit does not unpack archives fetched from URLs
                for (layer::Entry& e : plan_copy(single, one, lookup, resolve)) {
                    entries.push_back(std::move(e));
                }
            }
        } catch (const DockerfileError&) {
            throw;
        } catch (const Error& e) {
            if (e.code() == ErrorCode::kCancelled) {
                throw;
            }
            throw fail(e.what());
        }
        // Parents planned by several sources appear once; the last wins.
        std::map<std::string, layer::Entry> unique;
        for (layer::Entry& e : entries) {
            unique[e.path] = std::move(e);
        }
        entries.clear();
        for (auto& [path, e] : unique) {
            entries.push_back(std::move(e));
        }
        ImageState next = state;
        next.add_layer(layer_for(std::move(entries)), created_by);
        return next;
    });
}

ImageState BuildSession::workdir_step(const Command& command,
                                      ImageState state,
                                      const std::string& name) {
    const std::string wd = apply_workdir(state, command.get<dockerfile::WorkdirCommand>()->path);
    const std::string created_by = "WORKDIR " + wd;
    if (wd == "/") {
        state.add_history(created_by);
        state.key = KeyBuilder("meta").add(state.key).add(created_by).finish();
        return state;
    }
    const Digest key =
        KeyBuilder("workdir").add(state.key).add(wd).add(state.config.config.user).finish();
    return run_cached(key, name, [&]() -> ImageState {
        const std::shared_ptr<const layer::MergedView> view = filesystems_.view(state);
        const std::string resolved = view->resolve(wd, true);
        // BuildKit's mkdir -p leaves an existing directory alone, and still commits its (then
        // empty) layer.
        Owner owner;
        if (!state.config.config.user.empty()) {
            owner = resolve_chown(state.config.config.user,
                                  [&](std::string_view p) { return view->read_file(p); });
        }
        std::vector<layer::Entry> entries;
        std::string path;
        const std::int64_t mtime =
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                epoch_ ? std::chrono::seconds(*epoch_) : started_.time_since_epoch())
                .count();
        for (const std::string& part : split_path(resolved)) {
            path += "/" + part;
            if (std::optional<layer::Entry> e = view->lookup(path)) {
                if (e->type != layer::EntryType::kDirectory) {
                    throw DockerfileError(dockerfile_name_, command.start_line, command.end_line,
                                          "cannot create WORKDIR " + wd + ": " + path +
                                              " exists and is not a directory");
                }
                continue;
            }
            layer::Entry dir;
            dir.path = path.substr(1);
            dir.type = layer::EntryType::kDirectory;
            dir.mode = 0755;
            dir.uid = owner.uid;
            dir.gid = owner.gid;
            dir.mtime_ns = mtime;
            entries.push_back(std::move(dir));
        }
        ImageState next = state;
        next.add_layer(layer_for(std::move(entries)), created_by);
        return next;
    });
}

ImageState BuildSession::base_state(const StageInstance& inst, StepContext& sc) {
    switch (inst.base_kind) {
        case dockerfile::BaseKind::kScratch:
            return scratch_state(inst.platform);
        case dockerfile::BaseKind::kStage:
            return instance(*inst.base_instance);
        case dockerfile::BaseKind::kImage:
            break;
    }
    const std::string meta_vertex =
        "internal:metadata:" + inst.base_image + ":" + inst.platform.to_string();
    // buildx names the platform in multi-platform builds: "[linux/arm64 internal] load ...".
    const std::string meta_name =
        (sc.prefix_platform ? "[" + inst.platform.to_string() + " internal]" : "[internal]") +
        std::string(" load metadata for ") + inst.base_image;
    std::string pinned;
    ImageState state;
    progress_.started(meta_vertex, meta_name);
    try {
        pinned = bases_.pinned(inst.base_image);
        state = bases_.resolve(inst.base_image, inst.platform);
    } catch (const DockerfileError& e) {
        progress_.failed(meta_vertex, meta_name, e.what());
        throw;
    } catch (const Error& e) {
        progress_.failed(meta_vertex, meta_name, e.what());
        throw DockerfileError(dockerfile_name_, inst.start_line, inst.end_line, e.what());
    }
    progress_.completed(meta_vertex, meta_name);
    const std::string name = step_name(sc, "FROM " + pinned);
    progress_.started(state.key.to_string(), name);
    progress_.completed(state.key.to_string(), name);
    return state;
}

ImageState BuildSession::run_instance(const StageInstance& inst) {
    StepContext sc;
    sc.inst = &inst;
    sc.prefix_platform = options_.platforms.size() > 1;
    sc.total = inst.base_kind == dockerfile::BaseKind::kImage ? 1 : 0;
    for (const PlannedStep& step : inst.steps) {
        sc.total += is_numbered(step.command) ? 1 : 0;
    }
    ImageState state = base_state(inst, sc);
    const dockerfile::ShellLex lex(static_cast<char32_t>(escape_));
    const std::vector<std::string> image_env = state.config.config.env;

    // The base image's ONBUILD triggers run first; the new image does not inherit them.
    std::vector<Command> triggers;
    if (inst.image_onbuild_pending && !state.config.config.on_build.empty()) {
        triggers = dockerfile::parse_onbuild_triggers(
            state.config.config.on_build, dockerfile_name_, inst.start_line, inst.end_line);
    }
    state.config.config.on_build.clear();
    StageFlags flags;
    std::vector<std::string> stage_args;  // for RUN's history line

    const auto dispatch = [&](const PlannedStep& step, Command command,
                              const dockerfile::Variables* before) {
        token_.throw_if_cancelled();
        const dockerfile::EnvList env = step_env(image_env, before);
        const bool numbered = is_numbered(command);
        const std::string name =
            numbered ? step_name(sc, display_text(command.original, escape_, env)) : std::string();
        if (command.get<dockerfile::RunCommand>() != nullptr) {
            state = run_step(inst, step, command, state, name, RunScope{env, stage_args});
        } else if (command.get<CopyCommand>() != nullptr) {
            state = copy_step(inst, step, command, state, name);
        } else if (command.get<dockerfile::WorkdirCommand>() != nullptr) {
            state = workdir_step(command, std::move(state), name);
        } else {
            try {
                apply_metadata(state, command, flags, lex, env);
            } catch (const DockerfileError&) {
                throw;
            } catch (const Error& e) {
                throw DockerfileError(dockerfile_name_, command.start_line, command.end_line,
                                      e.what());
            }
            state.key = KeyBuilder("meta").add(state.key).add(state.config.serialize()).finish();
        }
        if (const auto* arg = command.get<dockerfile::ArgCommand>()) {
            for (const dockerfile::ArgDefinition& a : arg->args) {
                stage_args.push_back(a.key);
            }
        }
    };

    for (Command& trigger : triggers) {
        expand_command(trigger, lex, step_env(image_env, nullptr));
        if (const CopyCommand* c = trigger.get<CopyCommand>(); c && !c->from.empty()) {
            throw DockerfileError(dockerfile_name_, inst.start_line, inst.end_line,
                                  "ONBUILD COPY --from of the base image is not supported by "
                                  "this version of xarch: " +
                                      trigger.original);
        }
        ++sc.total;
        PlannedStep planned;
        planned.command = trigger;
        dispatch(planned, trigger, nullptr);
    }

    const dockerfile::Variables* before = nullptr;
    for (const PlannedStep& step : inst.steps) {
        Command command = step.command;
        if (!step.deferred.empty()) {
            // Variables the Dockerfile left unset that the base image's config may set.
            command = step.source;
            try {
                expand_command(command, lex, step_env(image_env, before));
            } catch (const Error& e) {
                throw DockerfileError(dockerfile_name_, command.start_line, command.end_line,
                                      e.what());
            }
        }
        dispatch(step, std::move(command), before);
        before = &step.env;
    }
    return state;
}

ImageState BuildSession::instance(std::size_t index) {
    return instances_.get(std::to_string(index),
                          [&] { return run_instance(plan_.instances.at(index)); });
}

void BuildSession::import_caches() {
    for (const CacheSpec& spec : options_.cache_from) {
        if (spec.type != "registry") {
            progress_.warning("cache source type " + spec.type +
                              " is not supported by this version of xarch; ignored");
            continue;
        }
        const std::string vertex = "internal:cache-from:" + spec.ref;
        const std::string name = "importing cache manifest from " + spec.ref;
        progress_.started(vertex, name);
        try {
            if (cache::import_from_registry(cache_, registry_, Reference::parse(spec.ref)) == 0) {
                progress_.warning("no cache found at " + spec.ref);
            }
        } catch (const Error& e) {
            // BuildKit goes on without a cache it cannot read.
            progress_.warning("failed to import cache " + spec.ref + ": " + e.what());
        }
        progress_.completed(vertex, name);
    }
}

void BuildSession::export_caches() {
    for (const CacheSpec& spec : options_.cache_to) {
        if (spec.type != "registry") {
            throw Error(ErrorCode::kUnsupported,
                        "cache export type " + util::quote(spec.type) +
                            " is not supported; use type=registry,ref=REF");
        }
        const std::string vertex = "export:cache:" + spec.ref;
        const std::string name = "exporting cache to registry";
        progress_.started(vertex, name);
        std::vector<Digest> keys;
        {
            std::lock_guard lock(keys_mutex_);
            keys = step_keys_;
        }
        cache::export_to_registry(cache_, registry_, Reference::parse(spec.ref), keys);
        progress_.completed(vertex, name);
    }
}

bool BuildSession::allowed(std::string_view entitlement) const {
    return std::find(options_.allow.begin(), options_.allow.end(), entitlement) !=
           options_.allow.end();
}

void BuildSession::check_emulators() const {
    std::vector<Platform> needed;
    for (const StageInstance& inst : plan_.instances) {
        const bool runs = std::any_of(inst.steps.begin(), inst.steps.end(), [](const auto& s) {
            return s.command.template get<dockerfile::RunCommand>() != nullptr;
        });
        if (runs && std::find(needed.begin(), needed.end(), inst.platform) == needed.end()) {
            needed.push_back(inst.platform);
        }
    }
    if (needed.empty()) {
        return;
    }
    const PlatformMatcher runnable = PlatformMatcher::any(emulators::runnable_platforms());
    std::string missing;
    std::string names;
    for (const Platform& p : needed) {
        if (!runnable.match(p)) {
            missing += (missing.empty() ? "" : ", ") + p.to_string();
            names += (names.empty() ? "" : ",") + p.architecture();
        }
    }
    if (!missing.empty()) {
        throw Error(ErrorCode::kUnsupported,
                    "cannot run RUN steps for " + missing + " on this " +
                        Platform::host().to_string() +
                        " host: no emulator is registered for them in binfmt_misc; run `xarch "
                        "emulators install " +
                        names + "` as root (or build those platforms on a native node)");
    }
}

BuildResult BuildSession::run() {
    load_definition();
    check_emulators();
    import_caches();

    std::vector<ImageState> states(plan_.results.size());
    {
        // Every platform at once, as BuildKit runs them: a RUN's work is its process's (under
        // QEMU, the emulator's), which the kernel shares out; a slot per core would leave a
        // platform waiting for another's RUN to end. Layer writers have their own bound.
        const unsigned platforms = static_cast<unsigned>(plan_.results.size());
        JobGroup group(token_, std::max(jobs_, platforms));
        for (std::size_t i = 0; i < plan_.results.size(); ++i) {
            group.run([this, i, &states] { states[i] = instance(plan_.results[i].instance); });
        }
        group.wait();
    }
    token_.throw_if_cancelled();
    // `--label`: on the target's image config over the Dockerfile's own LABELs, without a
    // history entry, as BuildKit's Dockerfile frontend sets them.
    for (ImageState& state : states) {
        for (const auto& [key, value] : context_.labels()) {
            state.config.config.labels[key] = value;
        }
    }

    std::vector<FinalImage> images;
    for (std::size_t i = 0; i < states.size(); ++i) {
        images.push_back(finalize_image(states[i], plan_.results[i].platform, epoch_, annotations_,
                                        oci_media_types_, cache_.content()));
    }
    const RawContent index = make_index(images, annotations_, oci_media_types_, cache_.content());

    exporter::ExportRequest request;
    for (const FinalImage& image : images) {
        exporter::BuiltImage built;
        built.platform = image.platform;
        built.config = image.config;
        built.manifest = image.manifest;
        for (const LayerInfo& l : image.layers) {
            built.layers.push_back(exporter::LayerRef{l.blob, l.diff_id, l.source_repository});
        }
        request.images.push_back(std::move(built));
    }
    request.index = index;
    request.tags = options_.tags;
    request.outputs = options_.outputs;

    exporter::ExportContext context{
        cache_.content(),
        registry_,
        progress_,
        [this] { return token_.cancelled(); },
        [this](const exporter::LayerRef& ref) {
            filesystems_.ensure_blob(LayerInfo{ref.blob, ref.diff_id, ref.source_repository, {}});
        },
        [this, &states](std::size_t i) { return *filesystems_.view(states.at(i)); },
        options_.docker_host,
    };
    const exporter::ExportResult exported = exporter::export_all(request, context);
    export_caches();

    BuildResult result;
    result.descriptor = exported.descriptor;
    result.metadata_json = exported.metadata_json;
    for (const FinalImage& image : images) {
        result.images.push_back(
            PlatformImage{image.platform, image.manifest.descriptor(), image.config.digest});
    }
    result.warnings = plan_.warnings;
    if (!options_.metadata_file.empty()) {
        oci::fs::write_file_atomic(options_.metadata_file, result.metadata_json);
    }
    if (!options_.iid_file.empty()) {
        // buildx: the image ID (config digest) of a single image not pushed, else the root.
        const bool single = images.size() == 1;
        bool pushed = false;
        for (const OutputSpec& o : options_.outputs) {
            pushed = pushed || o.type == OutputSpec::Type::kRegistry || o.push;
        }
        const std::string id = single && !pushed ? images.front().config.digest.to_string()
                                                 : result.descriptor.digest.to_string();
        oci::fs::write_file_atomic(options_.iid_file, id);
    }
    return result;
}

}  // namespace xarch::solver
