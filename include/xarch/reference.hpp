// SPDX-License-Identifier: Apache-2.0
// xarch::Reference: an image reference (`registry/repository[:tag][@digest]`) parsed and
// normalized the way distribution/reference's ParseNormalizedNamed does it, so that `busybox`,
// `docker.io/library/busybox:latest` and `index.docker.io/library/busybox` name the same image.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace xarch {

class Reference {
public:
    // The empty value (empty() is true); every accessor returns "". Prefer parse().
    Reference() = default;

    // A reference as `docker pull`, `docker tag` and `buildx build -t` accept it:
    //   busybox                          -> docker.io/library/busybox:latest
    //   user/app:1.0                     -> docker.io/user/app:1.0
    //   localhost:5000/a/b:tag, [::1]:5000/x, host/name@sha256:..., name:tag@sha256:...
    // The first path component is the registry when it contains '.' or ':', is `localhost` or
    // has an uppercase letter; `index.docker.io` becomes `docker.io`, and a one-component name on
    // Docker Hub gets `library/`. Without a tag and a digest the tag is "latest"; with a digest
    // and no tag the tag stays empty. Throws Error(kInvalidArgument) with a message that quotes
    // the input and says what is wrong: empty, whitespace or control characters, uppercase in the
    // repository, an empty or badly separated path component, a bad registry host or port, a
    // repository over 255 characters, a bad tag (over 128 characters or characters outside
    // [A-Za-z0-9_.-]), a bad or unsupported digest (sha256, sha384 or sha512 in lowercase hex).
    static Reference parse(std::string_view text);

    // A repository without a tag or digest, as `imagetools tags REPO` takes it: `busybox` ->
    // docker.io/library/busybox (tag() stays empty). Throws Error(kInvalidArgument), also when
    // the text has a tag or a digest.
    static Reference parse_repository(std::string_view text);

    bool empty() const noexcept { return repository_.empty(); }

    // The registry as written in references: "docker.io", "localhost:5000", "[::1]:5000".
    const std::string& registry() const noexcept { return registry_; }
    // The repository path inside the registry: "library/busybox".
    const std::string& repository() const noexcept { return repository_; }
    // "" when the reference has none (a digest-only reference, or from parse_repository()).
    const std::string& tag() const noexcept { return tag_; }
    // "algorithm:hex" ("sha256:..."), "" when the reference has none.
    const std::string& digest() const noexcept { return digest_; }

    bool has_tag() const noexcept { return !tag_.empty(); }
    bool has_digest() const noexcept { return !digest_.empty(); }

    // registry/repository: "docker.io/library/busybox".
    std::string name() const;
    // The canonical full form: name[:tag][@digest], "docker.io/library/busybox:latest".
    std::string to_string() const;
    // Docker's short form (distribution's FamiliarString): "docker.io" and a one-component
    // "library/" dropped: "busybox:latest", "user/app:1.0", "localhost:5000/a:b". Unlike
    // distribution, "docker.io/" stays when the path's first component would read as a registry
    // ("docker.io/foo.bar/baz"), so that parse(familiar()) is always the same reference.
    std::string familiar() const;
    // familiar() without tag and digest: "busybox".
    std::string familiar_name() const;

    // What to ask the registry for: the digest when there is one, else the tag, else "latest".
    std::string identifier() const;
    // The host to send HTTP requests to: "registry-1.docker.io" for Docker Hub, registry()
    // otherwise.
    std::string api_host() const;

    // Copies with the tag or digest replaced; the argument is validated as parse() does and
    // quoted in the Error(kInvalidArgument) when it is bad.
    Reference with_tag(std::string_view tag) const;
    Reference with_digest(std::string_view digest) const;
    // Copies without the tag or digest (parse_repository() form when both are removed).
    Reference without_tag() const;
    Reference without_digest() const;

    friend bool operator==(const Reference&, const Reference&) = default;

private:
    std::string identifier_suffix() const;

    std::string registry_;
    std::string repository_;
    std::string tag_;
    std::string digest_;
};

// Writes to_string().
std::ostream& operator<<(std::ostream& out, const Reference& reference);

}  // namespace xarch

template <>
struct std::hash<xarch::Reference> {
    std::size_t operator()(const xarch::Reference& reference) const noexcept;
};
