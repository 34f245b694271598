#!/bin/sh
# Ends the dockerd that start.sh started for STATE_DIR (its recorded PID, nothing else), waits
# for it, and removes its socket and state folder (--keep keeps the folder, for its log).
# Usage: stop.sh STATE_DIR [--keep]
set -u
state=${1:?usage: stop.sh STATE_DIR [--keep]}
keep=${2:-}
[ -d "$state" ] || exit 0
if [ -f "$state/started.pid" ]; then
    pid=$(cat "$state/started.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do
            sleep 0.5
            i=$((i + 1))
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
fi
# A dockerd that was killed (the engine-dies tests) leaves its containerd's shims running: each
# names this state folder's containerd socket in its arguments, which no other process does.
shim_socket="$state/exec/containerd/containerd.sock"
for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' 2>/dev/null < "$cmdline" | grep -qF -- "-address $shim_socket"; then
        pid=${cmdline#/proc/}
        pid=${pid%/cmdline}
        kill "$pid" 2>/dev/null
        sleep 0.5
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
done
# And its containers' processes: those in the cgroups named by the IDs of the containers this
# state folder holds (cgroup v1's pids hierarchy, or v2).
for dir in "$state"/data/containers/*/; do
    [ -d "$dir" ] || continue
    id=$(basename "$dir")
    for procs in "/sys/fs/cgroup/pids/docker/$id/cgroup.procs" "/sys/fs/cgroup/docker/$id/cgroup.procs"; do
        [ -f "$procs" ] || continue
        while read -r pid; do
            kill -9 "$pid" 2>/dev/null
        done < "$procs"
    done
done
# It also leaves its data root mounted on itself (dockerd makes it a private mount): unmount
# what is mounted under this state folder, deepest first.
awk -v prefix="$state/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r point; do
        umount -l "$point" 2>/dev/null
    done
[ -f "$state/socket" ] && rm -f "$(cat "$state/socket")"
if [ "$keep" != "--keep" ]; then
    # vfs layers can be read-only directories: make them writable before removing.
    chmod -R u+w "$state" 2>/dev/null
    rm -rf "$state"
fi
exit 0
