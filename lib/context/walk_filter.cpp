// SPDX-License-Identifier: Apache-2.0
// fsutil's fs.go Walk (over Go's filepath.WalkDir) and filter.go's filterFS, reimplemented.
#include "context/walk_filter.hpp"

#include "util/quote.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::context {
namespace {

bool is_not_exist(const std::error_code& ec) {
    return ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory;
}

bool is_permission(const std::error_code& ec) {
    return ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted;
}

// Calls `fn`, turning a WalkError for something that vanished into SkipDir as fsutil does.
WalkAction call(const WalkFunc& fn, const WalkEntry& entry, std::error_code error) {
    try {
        return fn(entry, error);
    } catch (const WalkError& e) {
        if (is_not_exist(e.error_code())) {
            return WalkAction::kSkipDir;
        }
        throw;
    }
}

std::string join(std::string_view dir, std::string_view name) {
    if (dir.empty()) {
        return std::string(name);
    }
    std::string out(dir);
    out += '/';
    out.append(name);
    return out;
}

// os.ReadDir: the entries of a directory sorted by name, each lstat'ed. Entries that vanish
// between the listing and the lstat are left out.
std::vector<WalkEntry> read_dir(const std::filesystem::path& root,
                                const std::string& rel,
                                std::error_code& error) {
    std::vector<WalkEntry> out;
    const std::filesystem::path dir = rel.empty() ? root : root / rel;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        error = std::error_code(errno, std::generic_category());
        return out;
    }
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        const dirent* e = ::readdir(d);
        if (e == nullptr) {
            if (errno != 0) {
                error = std::error_code(errno, std::generic_category());
            }
            break;
        }
        const std::string_view name = e->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    const int fd = ::dirfd(d);
    std::sort(names.begin(), names.end());
    for (std::string& name : names) {
        WalkEntry entry;
        if (::fstatat(fd, name.c_str(), &entry.info, AT_SYMLINK_NOFOLLOW) != 0) {
            const int err = errno;
            if (err == ENOENT) {
                continue;
            }
            ::closedir(d);
            throw WalkError(join(rel, name), std::error_code(err, std::generic_category()));
        }
        entry.is_dir = S_ISDIR(entry.info.st_mode);
        entry.path = join(rel, name);
        out.push_back(std::move(entry));
    }
    ::closedir(d);
    return out;
}

// Go's walkDir for one entry below the root. kSkipDir returned means "skip the rest of the
// parent directory".
WalkAction walk_entry(const std::filesystem::path& root,
                      const WalkEntry& entry,
                      const WalkFunc& fn,
                      const WalkOptions& options) {
    const WalkAction first = call(fn, entry, {});
    if (first == WalkAction::kSkipDir || !entry.is_dir) {
        return entry.is_dir ? WalkAction::kContinue : first;
    }
    std::error_code error;
    if (options.before_read) {
        error = options.before_read(entry.path);
    }
    std::vector<WalkEntry> children;
    if (!error) {
        children = read_dir(root, entry.path, error);
    }
    if (error) {
        // The second call, which reports why the directory could not be read.
        if (call(fn, entry, error) == WalkAction::kSkipDir) {
            return WalkAction::kContinue;
        }
    }
    for (const WalkEntry& child : children) {
        if (walk_entry(root, child, fn, options) == WalkAction::kSkipDir) {
            break;
        }
    }
    return WalkAction::kContinue;
}

// patternWithoutTrailingGlob: "dir/**" and "dir/*" both stand for "dir" when deciding whether a
// pattern can reach into a directory.
std::string_view without_trailing_glob(const Pattern& p) {
    std::string_view s = p.text();
    if (s.size() >= 3 && s.substr(s.size() - 3) == "/**") {
        s.remove_suffix(3);
    }
    if (s.size() >= 2 && s.substr(s.size() - 2) == "/*") {
        s.remove_suffix(2);
    }
    return s;
}

bool has_glob(std::string_view s) {
    return s.find_first_of("*[]?^\\") != std::string_view::npos;
}

// Whether some pattern (of the given kind) could match something under `dir`: its literal text
// continues dir + "/".
bool reaches_below(const PatternMatcher& pm, bool exclusions, std::string_view dir) {
    std::string dir_slash(dir);
    dir_slash += '/';
    for (const Pattern& p : pm.patterns()) {
        if (p.exclusion() != exclusions) {
            continue;
        }
        std::string pattern(without_trailing_glob(p));
        pattern += '/';
        if (pattern.compare(0, dir_slash.size(), dir_slash) == 0) {
            return true;
        }
    }
    return false;
}

std::string list_for_error(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : " ") + items[i];
    }
    return out + "]";
}

}  // namespace

WalkError::WalkError(const std::string& path, std::error_code error)
    : Error(ErrorCode::kIo, util::quote(path) + ": " + error.message()), error_(error) {}

void walk_directory(const std::filesystem::path& root,
                    const WalkFunc& fn,
                    const WalkOptions& options) {
    struct stat info {};
    if (::stat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
        throw Error(ErrorCode::kNotFound,
                    "build context " + util::quote(root.string()) + " is not a directory");
    }
    std::error_code error;
    if (options.before_read) {
        error = options.before_read("");
    }
    if (error) {
        return;
    }
    // A failure to read the root is reported to fsutil's callback, which ignores the root.
    for (const WalkEntry& child : read_dir(root, "", error)) {
        if (walk_entry(root, child, fn, options) == WalkAction::kSkipDir) {
            break;
        }
    }
}

// ---- WalkFilter ----

struct WalkFilter::State {
    std::optional<PatternMatcher> include;
    std::optional<PatternMatcher> exclude;
    bool only_prefix_includes = true;
    bool only_prefix_exclude_exceptions = true;
};

WalkFilter::WalkFilter(const FilterOptions& options) {
    auto state = std::make_shared<State>();
    if (!options.include_patterns.empty()) {
        try {
            state->include.emplace(options.include_patterns);
        } catch (const Error& e) {
            throw Error(e.code(), "invalid includepatterns: " +
                                      list_for_error(options.include_patterns) + ": " + e.what());
        }
        for (const Pattern& p : state->include->patterns()) {
            if (!p.exclusion() && has_glob(without_trailing_glob(p))) {
                state->only_prefix_includes = false;
                break;
            }
        }
    }
    if (!options.exclude_patterns.empty()) {
        try {
            state->exclude.emplace(options.exclude_patterns);
        } catch (const Error& e) {
            throw Error(e.code(), "invalid excludepatterns: " +
                                      list_for_error(options.exclude_patterns) + ": " + e.what());
        }
        for (const Pattern& p : state->exclude->patterns()) {
            if (p.exclusion() && has_glob(without_trailing_glob(p))) {
                state->only_prefix_exclude_exceptions = false;
                break;
            }
        }
    }
    state_ = std::move(state);
}

bool WalkFilter::allows(std::string_view path) const {
    if (state_->include && !state_->include->matches_or_parent_matches(path)) {
        return false;
    }
    return !(state_->exclude && state_->exclude->matches_or_parent_matches(path));
}

WalkFunc WalkFilter::wrap(WalkFunc next) const {
    struct VisitedDir {
        WalkEntry entry;
        std::string path_with_sep;
        PatternMatcher::MatchInfo include_info;
        PatternMatcher::MatchInfo exclude_info;
        bool called_fn = false;
        bool skip_fn = false;
    };
    // The directories above the current entry, outermost first, with their match results.
    auto parents = std::make_shared<std::vector<VisitedDir>>();
    std::shared_ptr<const State> state = state_;

    return [state, parents, next = std::move(next)](const WalkEntry& entry,
                                                    std::error_code walk_error) -> WalkAction {
        try {
            const bool filtering = state->include || state->exclude;
            const bool is_dir = entry.is_dir;
            VisitedDir dir;
            if (filtering) {
                while (!parents->empty() &&
                       entry.path.compare(0, parents->back().path_with_sep.size(),
                                          parents->back().path_with_sep) != 0) {
                    parents->pop_back();
                }
                if (is_dir) {
                    dir.entry = entry;
                    dir.path_with_sep = entry.path + "/";
                }
            }

            bool skip = false;
            if (state->include) {
                const PatternMatcher::MatchInfo none;
                const PatternMatcher::MatchInfo& parent =
                    parents->empty() ? none : parents->back().include_info;
                PatternMatcher::MatchInfo info;
                bool m = false;
                try {
                    m = state->include->matches_using_parent_results(entry.path, parent, info);
                } catch (const Error& e) {
                    throw Error(e.code(),
                                std::string("failed to match includepatterns: ") + e.what());
                }
                if (is_dir) {
                    dir.include_info = std::move(info);
                }
                if (!m) {
                    // Nothing inside can be included: do not even read it.
                    if (is_dir && state->only_prefix_includes &&
                        !reaches_below(*state->include, false, entry.path)) {
                        return WalkAction::kSkipDir;
                    }
                    skip = true;
                }
            }
            if (state->exclude) {
                const PatternMatcher::MatchInfo none;
                const PatternMatcher::MatchInfo& parent =
                    parents->empty() ? none : parents->back().exclude_info;
                PatternMatcher::MatchInfo info;
                bool m = false;
                try {
                    m = state->exclude->matches_using_parent_results(entry.path, parent, info);
                } catch (const Error& e) {
                    throw Error(e.code(),
                                std::string("failed to match excludepatterns: ") + e.what());
                }
                if (is_dir) {
                    dir.exclude_info = std::move(info);
                }
                if (m) {
                    // Excluded, and no exception can reach inside: do not even read it.
                    if (is_dir && state->only_prefix_exclude_exceptions &&
                        (!state->exclude->has_exclusions() ||
                         !reaches_below(*state->exclude, true, entry.path))) {
                        return WalkAction::kSkipDir;
                    }
                    skip = true;
                }
            }

            if (walk_error) {
                // An unreadable directory that is excluded anyway is no error.
                if (skip && is_permission(walk_error)) {
                    return WalkAction::kContinue;
                }
                throw WalkError(entry.path, walk_error);
            }

            // From here on the directory is remembered as a parent however this call ends, with
            // whether it was passed on (fsutil's deferred append).
            struct Remember {
                bool active;
                VisitedDir& dir;
                std::vector<VisitedDir>& parents;
                ~Remember() {
                    if (active) {
                        parents.push_back(std::move(dir));
                    }
                }
            } remember{filtering && is_dir, dir, *parents};

            if (skip) {
                return WalkAction::kContinue;
            }
            dir.called_fn = true;

            // The directories leading here that were held back are passed on first.
            for (VisitedDir& parent : *parents) {
                if (parent.skip_fn) {
                    return WalkAction::kSkipDir;
                }
                if (parent.called_fn) {
                    continue;
                }
                parent.called_fn = true;
                if (next(parent.entry, {}) == WalkAction::kSkipDir) {
                    parent.skip_fn = true;
                    return WalkAction::kSkipDir;
                }
            }
            return next(entry, {});
        } catch (const WalkError& e) {
            if (is_not_exist(e.error_code())) {
                return WalkAction::kSkipDir;
            }
            throw;
        }
    };
}

}  // namespace xarch::context
