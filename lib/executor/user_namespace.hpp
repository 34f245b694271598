// SPDX-License-Identifier: Apache-2.0
// IdMaps: the id maps of a rootless sandbox's user namespace — the caller as root, plus its
// subordinate ids when /etc/subuid and /etc/subgid give it a range and newuidmap/newgidmap exist.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace xarch::executor {

// A range of subordinate ids: host ids [start, start + count).
struct SubordinateRange {
    std::uint32_t start = 0;
    std::uint32_t count = 0;
};

// The first range an /etc/subuid-format listing ("NAME_OR_ID:START:COUNT" per line) gives the
// user `name` or `id`; malformed lines and empty ranges are skipped, as shadow-utils does.
std::optional<SubordinateRange> find_subordinate_range(std::istream& listing,
                                                       const std::string& name,
                                                       std::uint32_t id);

class IdMaps {
public:
    // The caller's effective ids and, when usable, its subordinate ranges and the setuid helpers.
    static IdMaps for_caller();

    // Whether ids other than 0 exist inside (newuidmap and newgidmap with both ranges).
    bool subordinate() const { return subordinate_; }
    // Inside, 0 is the caller (host_uid():host_gid()) and, with subordinate(), id N in 1..count
    // is host id start + N - 1 of its range: what a layer made without root maps back.
    uid_t host_uid() const { return uid_; }
    gid_t host_gid() const { return gid_; }
    const SubordinateRange& subordinate_uids() const { return uids_; }
    const SubordinateRange& subordinate_gids() const { return gids_; }

    // Throws Error(kPermissionDenied) saying why when the command cannot run as `uid`:`gid` with
    // `groups` under these maps. With the single map only 0:0 exists and setgroups is denied, so
    // the groups must be none or just `gid` (which the child then leaves as they are).
    void check(std::uint32_t uid,
               std::uint32_t gid,
               const std::vector<std::uint32_t>& groups) const;

    // Writes the maps of the child `pid` (cloned into a new user namespace, waiting for them).
    // Throws Error(kPermissionDenied) when newuidmap/newgidmap or the kernel refuse.
    void write(pid_t pid) const;

private:
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    std::string user_;  // the caller's name, or its uid when it has none
    bool subordinate_ = false;
    SubordinateRange uids_, gids_;
    std::string newuidmap_, newgidmap_;
};

}  // namespace xarch::executor
