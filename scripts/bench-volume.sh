#!/usr/bin/env bash
# Mount a fresh journaled ext4 volume for `quire bench pipeline` to keep its
# temporary store on: TMPDIR=DIR quire bench pipeline ...
#
# The benchmark writes one file per document (and, on a fresh store, one
# shard directory per document) and deletes them all at the end. On a
# journal-less ext4, which some VM images use as their root file system,
# creating a file right after many were deleted scans past every recently
# deleted inode, and each run makes the next one slower (docs/benchmarks.md
# has the figures). A deployment keeps blobs on a volume of its own (an RWX
# volume, a disk with a journal); this gives the benchmark one.
#
# Usage (as root): scripts/bench-volume.sh [DIR] [SIZE]   defaults /mnt/quire-bench 8G
set -euo pipefail
dir=${1:-/mnt/quire-bench}
size=${2:-8G}
img=/var/tmp/quire-bench.img

if mountpoint -q "$dir"; then
	echo "$dir is already mounted" >&2
	exit 1
fi
rm -f "$img"
truncate -s "$size" "$img"
# Inode tables and journal initialised now, not lazily in the background
# while the benchmark runs.
mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$img"
mkdir -p "$dir"
mount -o loop "$img" "$dir"
echo "mounted a journaled ext4 volume of $size at $dir; now: export TMPDIR=$dir"
