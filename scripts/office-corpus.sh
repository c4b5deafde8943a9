#!/usr/bin/env bash
# Builds the office corpus of docs/benchmarks.md: the same content in the
# legacy binary formats and in their modern counterparts, so that
# `quire bench pipeline` compares the readers and nothing else.
#
#   scripts/office-corpus.sh SOTU_DIR OUT_DIR [N]
#
# SOTU_DIR is the State of the Union corpus of scripts/corpora.sh. For each
# of the first N addresses (120 by default) it writes, with LibreOffice:
#   OUT_DIR/doc/*.doc   and OUT_DIR/docx/*.docx   the address as a document;
#   OUT_DIR/xls/*.xls   and OUT_DIR/xlsx/*.xlsx   a workbook of its words and
#                                                 their counts, one row each;
#   OUT_DIR/ppt/*.ppt   and OUT_DIR/pptx/*.pptx   its paragraphs as slides,
#                                                 through an ODF presentation.
set -euo pipefail
sotu=${1:?SOTU_DIR}
out=${2:?OUT_DIR}
n=${3:-120}
command -v soffice >/dev/null || { echo "office-corpus: soffice not found (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/txt" "$work/csv" "$work/fodp" "$out"/{doc,docx,xls,xlsx,ppt,pptx}

# One private LibreOffice profile: a run beside another soffice (Quire's
# converter, a desktop session) must not share its lock.
lo() { soffice -env:UserInstallation="file://$work/profile" --headless --norestore --nologo "$@" >/dev/null 2>&1; }

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

for f in $(ls "$sotu"/*.txt | sort | head -n "$n"); do
  base=$(basename "$f" .txt)
  cp "$f" "$work/txt/$base.txt"
  # Words and counts, most frequent first.
  { echo "word,count"; tr -cs "[:alpha:]'" '\n' <"$f" | tr '[:upper:]' '[:lower:]' | grep -v '^$' |
      sort | uniq -c | sort -k1,1nr -k2 | awk '{print $2 "," $1}'; } >"$work/csv/$base.csv"
  # A flat ODF presentation: a slide per 600 characters or so, at most 40
  # (the addresses are one line each).
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation"><office:body><office:presentation>'
    i=0
    while IFS= read -r para && ((i < 40)); do
      [[ -z "${para// }" ]] && continue
      i=$((i + 1))
      printf '<draw:page draw:name="s%d"><draw:frame svg:x="1cm" svg:y="1cm" svg:width="26cm" svg:height="18cm"><draw:text-box><text:p>%s</text:p></draw:text-box></draw:frame></draw:page>\n' \
        "$i" "$(printf '%s' "$para" | xml_escape)"
    done < <(fold -s -w 600 "$f"; echo)
    echo '</office:presentation></office:body></office:document>'
  } >"$work/fodp/$base.fodp"
done

lo --convert-to doc:"MS Word 97" --outdir "$out/doc" "$work"/txt/*.txt
lo --convert-to docx:"MS Word 2007 XML" --outdir "$out/docx" "$work"/txt/*.txt
lo --convert-to xls:"MS Excel 97" --infilter=CSV:44,34,76,1 --outdir "$out/xls" "$work"/csv/*.csv
lo --convert-to xlsx:"Calc MS Excel 2007 XML" --infilter=CSV:44,34,76,1 --outdir "$out/xlsx" "$work"/csv/*.csv
lo --convert-to ppt:"MS PowerPoint 97" --outdir "$out/ppt" "$work"/fodp/*.fodp
lo --convert-to pptx:"Impress MS PowerPoint 2007 XML" --outdir "$out/pptx" "$work"/fodp/*.fodp
for d in doc docx xls xlsx ppt pptx; do
  echo "office-corpus: $(ls "$out/$d" | wc -l) files in $out/$d"
done
