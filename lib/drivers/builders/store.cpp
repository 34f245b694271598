// SPDX-License-Identifier: Apache-2.0
// BuilderStore: the builders `xarch create` made, kept in builders.json (XDG config dir). Writes
// replace the file atomically under an flock, so that processes changing it at once keep each
// other's changes; every call reads the file again.
#include "oci/fs.hpp"
#include "oci/json.hpp"
#include "util/quote.hpp"

#include <xarch/builders.hpp>
#include <xarch/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

namespace xarch {

namespace {

namespace stdfs = std::filesystem;
namespace bj = boost::json;

constexpr std::string_view kDefaultName = "default";
constexpr std::string_view kFileName = "builders.json";
// Far more than any list of builders a person makes; a larger file is damaged.
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

// What is in builders.json: the builders as written (not "default") and the current one's name.
struct Contents {
    std::string current;
    std::vector<BuilderSpec> builders;
};

BuilderSpec default_builder() {
    return BuilderSpec{.name = std::string(kDefaultName),
                       .nodes = {NodeSpec{.name = std::string(kDefaultName),
                                          .driver = Driver::kEmbedded,
                                          .endpoint = {},
                                          .platforms = {}}}};
}

// "" when neither variable is set: the store then holds only "default" and refuses changes, so
// that a build in an environment without HOME (a service, a bare container) still runs.
stdfs::path default_dir() {
    // The XDG spec ignores a relative XDG_CONFIG_HOME.
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
        return stdfs::path(xdg) / "xarch";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
        return stdfs::path(home) / ".config" / "xarch";
    }
    return {};
}

void check_dir(const stdfs::path& dir) {
    if (dir.empty()) {
        throw Error(ErrorCode::kNotFound,
                    "cannot find the xarch configuration directory to keep builders in: neither "
                    "XDG_CONFIG_HOME nor HOME is set; set one of them");
    }
}

// Builder and node names: what buildx accepts, lowercased, so that a name is also a usable
// file or tag component.
bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 128) {
        return false;
    }
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) {
        return false;
    }
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

void check_name(std::string_view name, std::string_view what) {
    if (!valid_name(name)) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid " + std::string(what) + " name " + util::quote(name) +
                        ": use lowercase letters, digits, '-', '_' and '.', starting with a "
                        "letter or digit");
    }
}

// A Docker endpoint is an address the engine client speaks (unix://, tcp://) or a Docker context
// name, resolved when the node is used (so a context may change its address later).
void check_endpoint(std::string_view endpoint) {
    const std::size_t scheme_end = endpoint.find("://");
    if (scheme_end == std::string_view::npos) {
        return;
    }
    const std::string_view scheme = endpoint.substr(0, scheme_end);
    const std::string_view rest = endpoint.substr(scheme_end + 3);
    if ((scheme != "unix" && scheme != "tcp") || rest.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "unsupported Docker endpoint " + util::quote(endpoint) +
                        ": use unix:///path/to/docker.sock, tcp://host:port or the name of a "
                        "Docker context");
    }
}

std::string names_of(const std::vector<BuilderSpec>& builders) {
    std::string out;
    for (const BuilderSpec& b : builders) {
        out += (out.empty() ? "" : ", ") + b.name;
    }
    return out;
}

// --- reading -------------------------------------------------------------------------------

class FileReader {
public:
    explicit FileReader(const stdfs::path& file) : file_(file) {}

    [[noreturn]] void fail(const std::string& why) const {
        throw Error(ErrorCode::kInvalidArgument,
                    util::quote(file_.string()) + " is damaged: " + why +
                        "; fix it, or remove it to start again with only the default builder "
                        "(the builders in it are then lost)");
    }

    const bj::object& object(const bj::value& v, const std::string& path) const {
        if (!v.is_object()) {
            fail(path + " is not an object");
        }
        return v.get_object();
    }
    const bj::array& array(const bj::value& v, const std::string& path) const {
        if (!v.is_array()) {
            fail(path + " is not an array");
        }
        return v.get_array();
    }
    std::string string(const bj::object& o,
                       std::string_view key,
                       const std::string& path,
                       bool required) const {
        const bj::value* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) {
            if (required) {
                fail(oci::json::join(path, key) + " is missing");
            }
            return {};
        }
        if (!v->is_string()) {
            fail(oci::json::join(path, key) + " is not a string");
        }
        return std::string(v->get_string());
    }

private:
    const stdfs::path& file_;
};

NodeSpec read_node(const FileReader& r, const bj::value& value, const std::string& path) {
    const bj::object& o = r.object(value, path);
    NodeSpec node;
    node.name = r.string(o, "name", path, true);
    const std::string driver = r.string(o, "driver", path, true);
    try {
        node.driver = parse_driver(driver);
    } catch (const Error& e) {
        r.fail(oci::json::join(path, "driver") + ": " + e.what());
    }
    node.endpoint = r.string(o, "endpoint", path, false);
    if (const bj::value* platforms = o.if_contains("platforms");
        platforms != nullptr && !platforms->is_null()) {
        const std::string list_path = oci::json::join(path, "platforms");
        const bj::array& a = r.array(*platforms, list_path);
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!a[i].is_string()) {
                r.fail(oci::json::join(list_path, i) + " is not a string");
            }
            try {
                node.platforms.push_back(Platform::parse(a[i].get_string()));
            } catch (const Error& e) {
                r.fail(oci::json::join(list_path, i) + ": " + e.what());
            }
        }
    }
    return node;
}

std::vector<BuilderSpec>::iterator find_in(Contents& contents, std::string_view name) {
    return std::find_if(contents.builders.begin(), contents.builders.end(),
                        [&](const BuilderSpec& b) { return b.name == name; });
}

Contents read_contents(const stdfs::path& file) {
    Contents contents;
    if (file.empty()) {
        return contents;
    }
    const std::optional<std::string> text = oci::fs::read_file(file, kMaxFileBytes);
    if (!text) {
        return contents;
    }
    const FileReader r(file);
    boost::system::error_code ec;
    const bj::value doc = bj::parse(*text, ec);
    if (ec) {
        r.fail("not JSON (" + ec.message() + ")");
    }
    const bj::object& root = r.object(doc, "the document");
    contents.current = r.string(root, "current", "", false);
    if (const bj::value* builders = root.if_contains("builders");
        builders != nullptr && !builders->is_null()) {
        const bj::array& a = r.array(*builders, "builders");
        for (std::size_t i = 0; i < a.size(); ++i) {
            const std::string path = oci::json::join("builders", i);
            const bj::object& o = r.object(a[i], path);
            BuilderSpec builder;
            builder.name = r.string(o, "name", path, true);
            if (const bj::value* nodes = o.if_contains("nodes");
                nodes != nullptr && !nodes->is_null()) {
                const std::string nodes_path = oci::json::join(path, "nodes");
                const bj::array& n = r.array(*nodes, nodes_path);
                for (std::size_t j = 0; j < n.size(); ++j) {
                    builder.nodes.push_back(read_node(r, n[j], oci::json::join(nodes_path, j)));
                }
            }
            if (builder.nodes.empty()) {
                r.fail(path + " (" + util::quote(builder.name) + ") has no nodes");
            }
            if (builder.name == kDefaultName ||
                find_in(contents, builder.name) != contents.builders.end()) {
                r.fail(path + " is named " + util::quote(builder.name) +
                       (builder.name == kDefaultName ? ", which is this host's builder"
                                                     : " as an earlier builder is"));
            }
            contents.builders.push_back(std::move(builder));
        }
    }
    std::sort(contents.builders.begin(), contents.builders.end(),
              [](const BuilderSpec& a, const BuilderSpec& b) { return a.name < b.name; });
    return contents;
}

// --- writing -------------------------------------------------------------------------------

std::string serialize(const Contents& contents) {
    bj::array builders;
    for (const BuilderSpec& b : contents.builders) {
        bj::array nodes;
        for (const NodeSpec& n : b.nodes) {
            bj::array platforms;
            for (const Platform& p : n.platforms) {
                platforms.emplace_back(p.to_string());
            }
            nodes.emplace_back(bj::object{{"name", n.name},
                                          {"driver", std::string(to_string(n.driver))},
                                          {"endpoint", n.endpoint},
                                          {"platforms", std::move(platforms)}});
        }
        builders.emplace_back(bj::object{{"name", b.name}, {"nodes", std::move(nodes)}});
    }
    const bj::object root{{"current", contents.current}, {"builders", std::move(builders)}};
    return oci::json::indent(bj::serialize(root)) + "\n";
}

// Runs `change` on the file's contents under the store's lock and writes the result, so that a
// process changing the store at the same time waits instead of losing this change or its own.
template <typename Change>
auto modify(const stdfs::path& dir, const stdfs::path& file, Change&& change) {
    check_dir(dir);
    oci::fs::make_directories(dir);
    const oci::fs::FileLock lock = oci::fs::FileLock::acquire(
        dir / (std::string(kFileName) + ".lock"), oci::fs::FileLock::Mode::kExclusive);
    Contents contents = read_contents(file);
    auto result = change(contents);
    oci::fs::write_file_atomic(file, serialize(contents));
    return result;
}

[[noreturn]] void not_found(std::string_view name, const std::vector<BuilderSpec>& builders) {
    std::string names(kDefaultName);
    if (!builders.empty()) {
        names += ", " + names_of(builders);
    }
    throw Error(ErrorCode::kNotFound, "no builder named " + util::quote(name) + " (there are " +
                                          names +
                                          "); `xarch ls` lists them, `xarch create` "
                                          "makes one");
}

}  // namespace

std::string_view to_string(Driver driver) noexcept {
    switch (driver) {
        case Driver::kEmbedded:
            return "embedded";
        case Driver::kDocker:
            return "docker";
    }
    return "unknown";
}

Driver parse_driver(std::string_view text) {
    if (text == "embedded") {
        return Driver::kEmbedded;
    }
    if (text == "docker") {
        return Driver::kDocker;
    }
    throw Error(ErrorCode::kInvalidArgument,
                "unknown driver " + util::quote(text) + ": use embedded or docker");
}

Driver BuilderSpec::driver() const {
    return nodes.empty() ? Driver::kEmbedded : nodes.front().driver;
}

BuilderStore::BuilderStore(stdfs::path dir)
    : dir_(dir.empty() ? default_dir() : std::move(dir)),
      file_(dir_.empty() ? stdfs::path() : dir_ / kFileName) {}

const stdfs::path& BuilderStore::file() const {
    return file_;
}

std::vector<BuilderSpec> BuilderStore::list() const {
    Contents contents = read_contents(file_);
    std::vector<BuilderSpec> out{default_builder()};
    std::move(contents.builders.begin(), contents.builders.end(), std::back_inserter(out));
    return out;
}

std::optional<BuilderSpec> BuilderStore::find(std::string_view name) const {
    if (name == kDefaultName) {
        return default_builder();
    }
    Contents contents = read_contents(file_);
    const auto it = find_in(contents, name);
    if (it == contents.builders.end()) {
        return std::nullopt;
    }
    return std::move(*it);
}

BuilderSpec BuilderStore::get(std::string_view name) const {
    if (name == kDefaultName) {
        return default_builder();
    }
    Contents contents = read_contents(file_);
    const auto it = find_in(contents, name);
    if (it == contents.builders.end()) {
        not_found(name, contents.builders);
    }
    return std::move(*it);
}

std::string BuilderStore::current_name() const {
    Contents contents = read_contents(file_);
    // A current builder removed by hand from the file falls back as `rm` would have made it.
    if (contents.current.empty() ||
        find_in(contents, contents.current) == contents.builders.end()) {
        return std::string(kDefaultName);
    }
    return contents.current;
}

BuilderSpec BuilderStore::current() const {
    Contents contents = read_contents(file_);
    const auto it = find_in(contents, contents.current);
    if (contents.current.empty() || it == contents.builders.end()) {
        return default_builder();
    }
    return std::move(*it);
}

BuilderSpec BuilderStore::create(const CreateOptions& options) {
    if (!options.name.empty()) {
        check_name(options.name, "builder");
        if (options.name == kDefaultName) {
            throw Error(ErrorCode::kInvalidArgument,
                        "the builder \"default\" is this host's embedded builder and cannot be "
                        "changed; give another --name");
        }
    }
    if (!options.node_name.empty()) {
        check_name(options.node_name, "node");
    }
    if (options.driver == Driver::kEmbedded && !options.endpoint.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "an embedded node runs in this process and takes no endpoint, but " +
                        util::quote(options.endpoint) +
                        " was given; leave it out, or use --driver docker for a Docker Engine");
    }
    if (options.driver == Driver::kDocker) {
        check_endpoint(options.endpoint);
    }
    if (options.append && options.name.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "appending a node needs the builder's name: give --name");
    }
    std::vector<Platform> platforms;
    for (const Platform& p : options.platforms) {
        const Platform normalized = p.normalized();
        if (std::find(platforms.begin(), platforms.end(), normalized) == platforms.end()) {
            platforms.push_back(normalized);
        }
    }
    return modify(dir_, file_, [&](Contents& contents) {
        std::string name = options.name;
        if (name.empty()) {
            for (int i = 0; name.empty() || find_in(contents, name) != contents.builders.end();
                 ++i) {
                name = "xarch" + std::to_string(i);
            }
        }
        auto it = find_in(contents, name);
        if (options.append) {
            if (it == contents.builders.end()) {
                throw Error(ErrorCode::kNotFound,
                            "cannot append a node to " + util::quote(name) +
                                ": there is no builder of that name; create it first "
                                "(without --append)");
            }
        } else {
            if (it != contents.builders.end()) {
                throw Error(ErrorCode::kAlreadyExists,
                            "a builder named " + util::quote(name) +
                                " exists already; add a node to it with --append, or remove it "
                                "first (`xarch rm " +
                                name + "`)");
            }
            contents.builders.push_back(BuilderSpec{.name = name, .nodes = {}});
            it = std::prev(contents.builders.end());
        }
        BuilderSpec& builder = *it;
        NodeSpec node{.name = options.node_name,
                      .driver = options.driver,
                      .endpoint = options.endpoint,
                      .platforms = platforms};
        if (node.name.empty()) {
            for (std::size_t i = builder.nodes.size();; ++i) {
                node.name = name + std::to_string(i);
                if (std::none_of(builder.nodes.begin(), builder.nodes.end(),
                                 [&](const NodeSpec& n) { return n.name == node.name; })) {
                    break;
                }
            }
        }
        for (const NodeSpec& other : builder.nodes) {
            if (other.name == node.name) {
                throw Error(ErrorCode::kInvalidArgument,
                            "builder " + util::quote(name) + " has a node named " +
                                util::quote(node.name) +
                                " already; give the new one another --node name, or remove that "
                                "one first (`xarch create --leave --name " +
                                name + " --node " + node.name + "`)");
            }
            if (other.driver == node.driver && other.endpoint == node.endpoint) {
                const std::string shown = node.endpoint.empty()
                                              ? (node.driver == Driver::kEmbedded
                                                     ? std::string("local")
                                                     : std::string("the default Docker endpoint"))
                                              : util::quote(node.endpoint);
                throw Error(ErrorCode::kInvalidArgument,
                            "builder " + util::quote(name) + " has a node on " + shown +
                                " already (" + util::quote(other.name) +
                                "); a second node there would build the same platforms again");
            }
        }
        builder.nodes.push_back(std::move(node));
        std::sort(contents.builders.begin(), contents.builders.end(),
                  [](const BuilderSpec& a, const BuilderSpec& b) { return a.name < b.name; });
        if (options.use) {
            contents.current = name;
        }
        return *find_in(contents, name);
    });
}

BuilderSpec BuilderStore::remove_node(std::string_view builder, std::string_view node) {
    if (builder == kDefaultName) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the builder \"default\" is this host's embedded builder and its node cannot "
                    "be removed");
    }
    return modify(dir_, file_, [&](Contents& contents) {
        const auto it = find_in(contents, builder);
        if (it == contents.builders.end()) {
            not_found(builder, contents.builders);
        }
        const auto node_it = std::find_if(it->nodes.begin(), it->nodes.end(),
                                          [&](const NodeSpec& n) { return n.name == node; });
        if (node_it == it->nodes.end()) {
            std::string names;
            for (const NodeSpec& n : it->nodes) {
                names += (names.empty() ? "" : ", ") + n.name;
            }
            throw Error(ErrorCode::kNotFound, "builder " + util::quote(builder) +
                                                  " has no node named " + util::quote(node) +
                                                  " (its nodes: " + names + ")");
        }
        it->nodes.erase(node_it);
        BuilderSpec left = *it;
        if (it->nodes.empty()) {
            contents.builders.erase(it);
            if (contents.current == builder) {
                contents.current.clear();
            }
        }
        return left;
    });
}

void BuilderStore::use(std::string_view name) {
    modify(dir_, file_, [&](Contents& contents) {
        if (name != kDefaultName && find_in(contents, name) == contents.builders.end()) {
            not_found(name, contents.builders);
        }
        contents.current = name == kDefaultName ? std::string() : std::string(name);
        return 0;
    });
}

void BuilderStore::remove(std::string_view name) {
    if (name == kDefaultName) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the builder \"default\" is this host's embedded builder and cannot be "
                    "removed; remove the builders you made by their names (`xarch ls` lists "
                    "them)");
    }
    modify(dir_, file_, [&](Contents& contents) {
        const auto it = find_in(contents, name);
        if (it == contents.builders.end()) {
            not_found(name, contents.builders);
        }
        contents.builders.erase(it);
        if (contents.current == name) {
            contents.current.clear();
        }
        return 0;
    });
}

}  // namespace xarch
