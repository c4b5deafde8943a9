#!/bin/sh
# gen.sh writes udhr.chm, the help file the CHM tests read (see README.md):
# the UDHR pages of testdata/html compiled by chmcmd, Free Pascal's CHM
# compiler (Debian's fp-utils package), which compresses them with LZX.
# Run it from this directory: sh gen.sh.
set -eu
here=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for l in eng fra deu_1996 rus jpn cmn_hans arb; do
	cp "../../html/udhr-$l.html" "$work/udhr-$l.html"
done
cat > "$work/index.html" <<'HTML'
<html><head><title>Quire help</title></head>
<body><h1>Quire test help</h1><p>This help file holds the Universal Declaration of Human Rights in seven languages.</p></body></html>
HTML
# The table of contents gives the reading order: not the directory's
# (alphabetical) one.
cat > "$work/toc.hhc" <<'HTML'
<html><body><ul>
<li><object type="text/sitemap"><param name="Name" value="Start"><param name="Local" value="index.html"></object>
<li><object type="text/sitemap"><param name="Name" value="English"><param name="Local" value="udhr-eng.html"></object>
<li><object type="text/sitemap"><param name="Name" value="Français"><param name="Local" value="udhr-fra.html"></object>
<li><object type="text/sitemap"><param name="Name" value="Deutsch"><param name="Local" value="udhr-deu_1996.html"></object>
<li><object type="text/sitemap"><param name="Name" value="Русский"><param name="Local" value="udhr-rus.html"></object>
<li><object type="text/sitemap"><param name="Name" value="日本語"><param name="Local" value="udhr-jpn.html"></object>
<li><object type="text/sitemap"><param name="Name" value="中文"><param name="Local" value="udhr-cmn_hans.html"></object>
</ul></body></html>
HTML
cat > "$work/udhr.hhp" <<'HHP'
[OPTIONS]
Compatibility=1.1 or later
Compiled file=udhr.chm
Contents file=toc.hhc
Default topic=index.html
Display compile progress=No
Language=0x409 English (United States)
Title=Universal Declaration of Human Rights

[FILES]
index.html
udhr-eng.html
udhr-fra.html
udhr-deu_1996.html
udhr-rus.html
udhr-jpn.html
udhr-cmn_hans.html
udhr-arb.html
HHP
(cd "$work" && chmcmd --no-html-scan --verbosity 0 udhr.hhp >/dev/null)
cp "$work/udhr.chm" "$here/udhr.chm"
