// SPDX-License-Identifier: Apache-2.0
// `xarch imagetools inspect|create|copy|tags`: images in registries, as `docker buildx
// imagetools` handles them: the same text layout, JSON shape and index bytes, over xarch::Registry.
#include "command.hpp"
#include "go_format.hpp"
#include "registry_flags.hpp"
#include "xarch/error.hpp"
#include "xarch/image_index.hpp"
#include "xarch/reference.hpp"
#include "xarch/registry.hpp"

// The Go-compatible JSON writer is internal (lib/oci); the tool reaches it through lib/ on its
// include path, as `xarch debug` does. It makes the printed JSON match buildx's byte for byte.
#include "oci/json.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::cli {

namespace {

// ---- messages a new user can act on ----

// Runs `f` for the image or repository `what` (as the user wrote it), rewording the registry's
// answers that mean "you asked for something that is not there" or "you may not".
template <typename F>
auto explained(const std::string& what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const AuthError& e) {
        throw Error(ErrorCode::kAuthentication,
                    what + ": not authorized (" + e.what() +
                        "); log in with `docker login`, or point DOCKER_CONFIG at a folder whose "
                        "config.json has them");
    } catch (const RegistryError& e) {
        if (e.http_status() == 404) {
            throw Error(ErrorCode::kNotFound, what + ": not found (" + e.what() + ")");
        }
        if (e.code() == ErrorCode::kNetwork) {
            throw Error(ErrorCode::kNetwork,
                        what + ": cannot reach the registry (" + e.what() +
                            "); check the host and port, and that the registry is running");
        }
        throw;
    }
}

// ---- progress ----

// "1.23MB", as docker's units.HumanSize writes sizes.
std::string human_size(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
    auto size = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (size >= 1000 && unit + 1 < std::size(kUnits)) {
        size /= 1000;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.4g%s", size, kUnits[unit]);
    return text;
}

// One line per blob as it completes, on a terminal only: logs and pipes stay clean.
RegistryOptions with_progress(RegistryOptions options, Io& io) {
    if (isatty(STDERR_FILENO) == 0) {
        return options;
    }
    struct State {
        std::mutex mutex;
        std::set<Digest> done;
    };
    auto state = std::make_shared<State>();
    std::ostream* err = &io.err;
    options.progress = [state, err](const TransferProgress& p) {
        if (!p.total || p.done < *p.total) {
            return true;
        }
        const std::lock_guard lock(state->mutex);
        if (state->done.insert(p.digest).second) {
            *err << std::string(p.digest.hex().substr(0, 12)) << ": done " << human_size(p.done)
                 << std::endl;
        }
        return true;
    };
    return options;
}

Registry open_registry(const ParsedArgs& args, Io& io) {
    return Registry(with_progress(registry_options(args), io));
}

// ---- inspect ----

bool is_attestation(const Descriptor& d) {
    return d.annotations.contains("com.docker.reference.digest") ||
           d.annotations.contains("vnd.docker.reference.digest");
}

// The image config as buildx shows it: Go's ocispecs.Image keeps only the fields it declares.
std::string image_json(ImageConfig config) {
    config.extra.clear();
    config.config.extra.clear();
    config.config.healthcheck.reset();
    config.config.on_build.clear();
    config.config.shell.reset();
    config.rootfs.extra.clear();
    for (History& h : config.history) {
        h.extra.clear();
    }
    return config.serialize();
}

// The index as buildx's `.Manifest` shows it: the document plus its digest and size.
std::string index_json(const ImageIndex& index, const Descriptor& descriptor) {
    oci::json::Writer w;
    w.begin_object();
    w.key("schemaVersion");
    w.integer(2);
    if (!index.media_type.empty()) {
        w.key("mediaType");
        w.string(index.media_type);
    }
    w.key("digest");
    w.string(descriptor.digest.to_string());
    w.key("size");
    w.integer(descriptor.size);
    w.key("manifests");
    w.begin_array();
    for (const Descriptor& d : index.manifests) {
        w.raw(d.serialize());
    }
    w.end_array();
    if (!index.annotations.empty()) {
        w.key("annotations");
        w.string_map(index.annotations);
    }
    w.end_object();
    return w.take();
}

// platform -> image config of every image under `index` (attestations left out), as buildx's
// loader collects them for `.Image`.
void collect_images(Registry& registry,
                    const Reference& ref,
                    const ImageIndex& index,
                    std::map<std::string, std::string>& images) {
    for (const Descriptor& d : index.manifests) {
        if (is_attestation(d)) {
            continue;
        }
        const Reference child = ref.without_digest().with_digest(d.digest.to_string());
        const RawContent raw = registry.fetch_manifest(child);
        if (media_type::is_index(raw.media_type)) {
            collect_images(registry, ref, parse_index(raw.bytes, raw.media_type), images);
            continue;
        }
        const Manifest manifest = parse_manifest(raw.bytes, raw.media_type);
        if (!media_type::is_config(manifest.config.media_type)) {
            continue;
        }
        const ImageConfig config = parse_config(registry.fetch_blob(child, manifest.config));
        const Platform platform = d.platform ? *d.platform : config.platform();
        images[platform.normalized().to_string()] = image_json(config);
    }
}

int print_json(Registry& registry, const std::string& name, const Reference& ref, Io& io) {
    const InspectResult result = registry.inspect(ref);
    std::map<std::string, std::string> images;
    std::string manifest;
    if (result.index) {
        manifest = index_json(*result.index, result.descriptor);
        collect_images(registry, ref, *result.index, images);
    } else {
        manifest = result.descriptor.serialize();
        if (result.config) {
            images[result.config->platform().normalized().to_string()] = image_json(*result.config);
        }
    }
    oci::json::Writer w;
    w.begin_object();
    w.key("name");
    w.string(name);
    w.key("manifest");
    w.raw(manifest);
    // buildx gives one image as itself and several as a map by platform.
    if (images.size() == 1) {
        w.key("image");
        w.raw(images.begin()->second);
    } else if (!images.empty()) {
        w.key("image");
        w.begin_object();
        for (const auto& [platform, config] : images) {
            w.key(platform);
            w.raw(config);
        }
        w.end_object();
    }
    w.end_object();
    io.out << oci::json::indent(w.text()) << '\n';
    return kExitOk;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const std::string& item : items) {
        out += (out.empty() ? "" : std::string(separator)) + item;
    }
    return out;
}

void print_manifest_list(const Reference& ref, const ImageIndex& index, std::ostream& out) {
    constexpr std::string_view kPrefix = "  ";
    const std::string pfx(kPrefix);
    TabWriter heading(out);
    heading.write("\t\n");
    heading.write("Manifests:\t\n");
    heading.flush();

    TabWriter w(out);
    for (std::size_t i = 0; i < index.manifests.size(); ++i) {
        const Descriptor& m = index.manifests[i];
        if (i != 0) {
            w.write("\t\n");
        }
        w.write(pfx + "Name:\t" + ref.with_digest(m.digest.to_string()).to_string() + "\n");
        w.write(pfx + "MediaType:\t" + m.media_type + "\n");
        // As buildx does, the rest only for entries with a platform.
        if (!m.platform) {
            continue;
        }
        const Platform& p = *m.platform;
        w.write(pfx + "Platform:\t" + p.to_string() + "\n");
        if (!p.os_version().empty()) {
            w.write(pfx + "OSVersion:\t" + p.os_version() + "\n");
        }
        if (!p.os_features().empty()) {
            w.write(pfx + "OSFeatures:\t" + join(p.os_features(), ", ") + "\n");
        }
        if (!m.urls.empty()) {
            w.write(pfx + "URLs:\t" + join(m.urls, ", ") + "\n");
        }
        if (!m.annotations.empty()) {
            w.write(pfx + "Annotations:\t\n");
            w.flush();
            TabWriter annotations(out);
            for (const auto& [key, value] : m.annotations) {
                annotations.write(pfx + pfx + key + ":\t" + value + "\n");
            }
            annotations.flush();
        }
    }
    w.flush();
}

int print_text(Registry& registry, const Reference& ref, Io& io) {
    const InspectResult result = registry.inspect(ref);
    TabWriter w(io.out);
    w.write("Name:\t" + ref.to_string() + "\n");
    w.write("MediaType:\t" + result.raw.media_type + "\n");
    w.write("Digest:\t" + result.descriptor.digest.to_string() + "\n");
    // buildx stops here for a single image; its platform is what one wants to know next.
    if (result.config) {
        w.write("Platform:\t" + result.config->platform().normalized().to_string() + "\n");
    }
    w.flush();
    if (result.index) {
        print_manifest_list(ref, *result.index, io.out);
    }
    return kExitOk;
}

int run_inspect(const ParsedArgs& args, Io& io) {
    const bool raw = args.has("raw");
    const std::string format = args.get("format");
    if (raw && !format.empty()) {
        throw UsageError("--format and --raw cannot be used together");
    }
    if (!format.empty() && format != "json") {
        throw UsageError("unknown format \"" + format + "\": use json, or no --format for text");
    }
    const std::string& name = args.positional.at(0);
    const Reference ref = Reference::parse(name);
    Registry registry = open_registry(args, io);
    return explained(name, [&] {
        if (raw) {
            // The bytes as served, without a newline: their digest is the image's.
            const RawContent content = registry.fetch_manifest(ref);
            io.out << content.bytes << std::flush;
            return static_cast<int>(kExitOk);
        }
        if (format == "json") {
            return print_json(registry, name, ref, io);
        }
        return print_text(registry, ref, io);
    });
}

// ---- create ----

bool looks_like_digest(std::string_view text) {
    return text.starts_with("sha256:") || text.starts_with("sha384:") ||
           text.starts_with("sha512:");
}

// The sources as references; a bare digest names a manifest in the one repository the tags and
// the other sources use, as in buildx.
std::vector<Reference> resolve_sources(const std::vector<std::string>& texts,
                                       const std::vector<Reference>& tags) {
    std::vector<std::optional<Reference>> parsed;
    std::set<std::string> repositories;
    for (const Reference& t : tags) {
        repositories.insert(t.name());
    }
    for (const std::string& text : texts) {
        if (looks_like_digest(text)) {
            parsed.emplace_back();
            continue;
        }
        parsed.push_back(Reference::parse(text));
        repositories.insert(parsed.back()->name());
    }
    std::vector<Reference> out;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (parsed[i]) {
            out.push_back(*parsed[i]);
            continue;
        }
        if (repositories.size() != 1) {
            throw UsageError(
                (repositories.empty()
                     ? std::string("no repository given")
                     : "several repositories given (" +
                           join({repositories.begin(), repositories.end()}, ", ") + ")") +
                ", so the repository of \"" + texts[i] + "\" is unknown: write it as NAME@DIGEST");
        }
        out.push_back(Reference::parse_repository(*repositories.begin()).with_digest(texts[i]));
    }
    return out;
}

int run_create(const ParsedArgs& args, Io& io) {
    const bool dry_run = args.has("dry-run");
    std::vector<Reference> tags;
    for (const std::string& t : args.all("tag")) {
        tags.push_back(Reference::parse(t));
    }
    if (tags.empty() && !dry_run) {
        throw UsageError("no tag to push to: give one with -t NAME[:TAG], or use --dry-run");
    }
    CreateIndexOptions options;
    options.dry_run = dry_run;
    for (const std::string& flag : args.all("annotation")) {
        try {
            for (IndexAnnotation& a : IndexAnnotation::parse(flag)) {
                options.annotations.push_back(std::move(a));
            }
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
    }
    const std::vector<Reference> sources = resolve_sources(args.positional, tags);
    Registry registry = open_registry(args, io);
    std::string what;
    for (const Reference& s : sources) {
        what += (what.empty() ? "" : ", ") + s.to_string();
    }
    const RawContent created =
        explained(what, [&] { return registry.create_index(tags, sources, options); });
    if (dry_run) {
        io.out << created.bytes << '\n';
        return kExitOk;
    }
    for (const Reference& t : tags) {
        io.err << "pushing " << created.digest.to_string() << " to " << t.to_string() << '\n';
    }
    return kExitOk;
}

// ---- copy ----

int run_copy(const ParsedArgs& args, Io& io) {
    const std::string& src_text = args.positional.at(0);
    const std::string& dst_text = args.positional.at(1);
    const Reference src = Reference::parse(src_text);
    const Reference dst = Reference::parse(dst_text);
    CopyOptions options;
    for (const std::string& list : args.all("platform")) {
        for (Platform& p : Platform::parse_list(list)) {
            if (std::find(options.platforms.begin(), options.platforms.end(), p) ==
                options.platforms.end()) {
                options.platforms.push_back(std::move(p));
            }
        }
    }
    Registry registry = open_registry(args, io);
    io.err << "copying " << src.to_string() << " to " << dst.to_string() << '\n';
    const Descriptor copied =
        explained(src_text + " -> " + dst_text, [&] { return registry.copy(src, dst, options); });
    io.err << "pushed " << copied.digest.to_string() << " to " << dst.to_string() << '\n';
    return kExitOk;
}

// ---- tags ----

int run_tags(const ParsedArgs& args, Io& io) {
    const std::string& name = args.positional.at(0);
    const Reference repository = Reference::parse_repository(name);
    Registry registry = open_registry(args, io);
    for (const std::string& tag : explained(name, [&] { return registry.list_tags(repository); })) {
        io.out << tag << '\n';
    }
    return kExitOk;
}

std::vector<FlagSpec> with_registry_flags(std::vector<FlagSpec> flags) {
    for (FlagSpec& f : registry_flags()) {
        flags.push_back(std::move(f));
    }
    return flags;
}

}  // namespace

Command make_imagetools_command() {
    Command inspect{
        .name = "inspect",
        .usage = "[OPTIONS] NAME",
        .summary = "Show details of an image in the registry",
        .description =
            "Show details of an image in the registry, as docker buildx imagetools inspect\n"
            "does: its name, media type and digest, then each manifest of an index with its\n"
            "platform (a single image: its platform).\n\n"
            "Examples:\n"
            "  xarch imagetools inspect localhost:5000/busybox\n"
            "  xarch imagetools inspect --raw localhost:5000/busybox | sha256sum\n"
            "  xarch imagetools inspect --format json localhost:5000/busybox",
        .flags = with_registry_flags({
            {"format", '\0', true, "string",
             "Print a JSON document like buildx's --format \"{{json .}}\": json", ""},
            {"raw", '\0', false, "", "Show original, unformatted JSON manifest", ""},
        }),
        .subcommands = {},
        .run = run_inspect,
        .min_args = 1,
        .max_args = 1,
    };
    Command create{
        .name = "create",
        .usage = "[OPTIONS] SOURCE [SOURCE...]",
        .summary = "Create a new image based on source images",
        .description =
            "Create a new image index from the manifests of the sources (an index gives all\n"
            "of its manifests, an image one entry with its platform) and push it under every\n"
            "tag, copying the manifests into each tag's repository first. A single index source\n"
            "without annotations is pushed unchanged. A source may be a bare digest of the\n"
            "tags' repository. The index bytes are those buildx writes, so is the digest.\n\n"
            "Examples:\n"
            "  xarch imagetools create -t localhost:5000/app:1.0 \\\n"
            "      localhost:5000/app:amd64 localhost:5000/app:arm64\n"
            "  xarch imagetools create --dry-run --annotation index:org.opencontainers.image."
            "title=app \\\n"
            "      localhost:5000/app:1.0",
        .flags = with_registry_flags({
            {"tag", 't', true, "stringArray", "Set reference for new image", ""},
            {"annotation", '\0', true, "stringArray",
             "Add annotation to the image: [index:]KEY=VALUE or "
             "manifest-descriptor[PLATFORM]:KEY=VALUE",
             ""},
            {"dry-run", '\0', false, "", "Show final image instead of pushing", ""},
        }),
        .subcommands = {},
        .run = run_create,
        .min_args = 1,
        .max_args = -1,
    };
    Command copy{
        .name = "copy",
        .usage = "[OPTIONS] SOURCE DESTINATION",
        .summary = "Copy an image from one registry or repository to another",
        .description =
            "Copy an image, or an index with all its manifests, to another registry or\n"
            "repository; blobs the destination has are skipped. With --platform only the\n"
            "listed platforms are copied, under a new index.\n\n"
            "Examples:\n"
            "  xarch imagetools copy localhost:5000/busybox registry.example:5000/busybox\n"
            "  xarch imagetools copy --platform linux/arm64 localhost:5000/busybox "
            "localhost:5000/busybox:arm64",
        .flags = with_registry_flags({
            {"platform", 'p', true, "stringArray",
             "Copy only these platforms (os/arch[/variant], comma-separated)", ""},
        }),
        .subcommands = {},
        .run = run_copy,
        .min_args = 2,
        .max_args = 2,
    };
    Command tags{
        .name = "tags",
        .usage = "[OPTIONS] REPOSITORY",
        .summary = "List the tags of a repository",
        .description =
            "List every tag of a repository, one a line, in the order the registry gives them.\n\n"
            "Example:\n  xarch imagetools tags localhost:5000/busybox",
        .flags = registry_flags(),
        .subcommands = {},
        .run = run_tags,
        .min_args = 1,
        .max_args = 1,
    };
    return Command{
        .name = "imagetools",
        .usage = "",
        .summary = "Commands to work on images in registry",
        .description = "Commands to work on images in registry.",
        .flags = {},
        .subcommands = {inspect, create, copy, tags},
        .run = nullptr,
    };
}

}  // namespace xarch::cli
