#!/usr/bin/env bash
# Write the legacy binary Office test files of testdata/formats/legacy/ with
# LibreOffice (Debian: libreoffice-writer-nogui libreoffice-calc-nogui
# libreoffice-impress-nogui; made with 7.4.7):
#   udhr.doc, sotu.xls, udhr.ppt  the project's own testdata/office/ documents
#                                 saved as Word, Excel and PowerPoint 97–2003
#   features.doc                  flat ODT below: header, footer, footnote,
#                                 endnote, comment, text box, fields, table,
#                                 special characters
#   numbers.xls                   flat ODS below: big integers, floats, dates
#                                 and times, formulas, booleans, errors, rich
#                                 text, a sheet long enough for CONTINUE records
#   dates1904.xls                 flat ODS below in the 1904 date system
#   slides.ppt                    flat ODP below: three slides, speaker notes
#   encrypted.doc, encrypted.xls  features.doc and dates1904.xls saved with
#                                 the password "quire" (LibreOffice cannot
#                                 encrypt PowerPoint files: ppt_test.go
#                                 marks one encrypted instead)
# The sources are written by this script; only its output is committed.
# The files are not byte-for-byte reproducible (LibreOffice stamps them), so
# run it only to change them:
#   scripts/make-legacy-testdata.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/testdata/formats/legacy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v soffice >/dev/null || { echo "make-legacy-testdata.sh: soffice not found (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)" >&2; exit 1; }
mkdir -p "$out" "$work/src"

# A profile of our own, with a Basic macro that saves a document with a
# password, which --convert-to cannot.
profile=-env:UserInstallation=file://$work/profile
soffice "$profile" --headless --terminate_after_init >/dev/null 2>&1
sed -i 's#<library:element library:name="Module1"/>#&<library:element library:name="Legacy"/>#' "$work/profile/user/basic/Standard/script.xlb"
grep -q Legacy "$work/profile/user/basic/Standard/script.xlb" || { echo "make-legacy-testdata.sh: cannot add the macro to the profile" >&2; exit 1; }
# Formulas are computed on load, so that their cached results are saved.
sed -i 's#</oor:items>#<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>&#' "$work/profile/user/registrymodifications.xcu"
cat >"$work/profile/user/basic/Standard/Legacy.xba" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Legacy" script:language="StarBasic">
Sub SaveWithPassword(src As String, dst As String, filter As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot; : load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), &quot;_blank&quot;, 0, load())
  Dim save(1) As New com.sun.star.beans.PropertyValue
  save(0).Name = &quot;FilterName&quot; : save(0).Value = filter
  save(1).Name = &quot;Password&quot; : save(1).Value = &quot;quire&quot;
  doc.storeToURL(ConvertToURL(dst), save())
  doc.close(True)
End Sub
</script:module>
EOF

convert() { # convert FORMAT SRC: writes $work/out/NAME.FORMAT
  soffice "$profile" --headless --convert-to "$1" --outdir "$work/out" "$2" >/dev/null 2>&1
}

# ---- sources

cat >"$work/src/features.fodt" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta>
  <dc:title>Quire legacy Word fixture</dc:title>
  <meta:initial-creator>Quire testdata</meta:initial-creator>
  <dc:creator>Quire testdata</dc:creator>
  <meta:creation-date>2024-03-05T10:20:30</meta:creation-date>
  <dc:date>2024-03-06T11:00:00</dc:date>
 </office:meta>
 <office:automatic-styles>
  <style:style style:name="PB" style:family="paragraph"><style:paragraph-properties fo:break-before="page"/></style:style>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard">
   <style:header><text:p>Header: Quire legacy fixture</text:p></style:header>
   <style:footer><text:p>Footer: page <text:page-number text:select-page="current">1</text:page-number></text:p></style:footer>
  </style:master-page>
 </office:master-styles>
 <office:body>
  <office:text>
   <text:h text:outline-level="1">Legacy Word features</text:h>
   <text:p>The body mentions a footnote<text:note text:id="n1" text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>Footnote: the first note.</text:p></text:note-body></text:note> and an endnote<text:note text:id="n2" text:note-class="endnote"><text:note-citation>i</text:note-citation><text:note-body><text:p>Endnote: the last note.</text:p></text:note-body></text:note> in one sentence.</text:p>
   <text:p>A reviewed paragraph<office:annotation><dc:creator>QA</dc:creator><dc:date>2024-03-05T12:00:00</dc:date><text:p>Comment: reviewed by QA.</text:p></office:annotation> ends here.</text:p>
   <text:p>Visit <text:a xlink:type="simple" xlink:href="https://example.com/quire">the Quire site</text:a> for more.</text:p>
   <text:p>Non‑breaking hyphen and soft­hyphen and a tab:<text:tab/>after the tab.</text:p>
   <text:p>First line<text:line-break/>second line of the same paragraph.</text:p>
   <text:p>Accents: déjà vu, naïve café, “quotes” — and 世界人权宣言.</text:p>
   <table:table table:name="T1">
    <table:table-column table:number-columns-repeated="3"/>
    <table:table-row><table:table-cell><text:p>Name</text:p></table:table-cell><table:table-cell><text:p>Count</text:p></table:table-cell><table:table-cell><text:p>Note</text:p></table:table-cell></table:table-row>
    <table:table-row><table:table-cell><text:p>Apples</text:p></table:table-cell><table:table-cell><text:p>12</text:p></table:table-cell><table:table-cell><text:p>red</text:p></table:table-cell></table:table-row>
   </table:table>
   <text:p>Before the text box.<draw:frame draw:name="Box" text:anchor-type="paragraph" svg:width="6cm" svg:height="2cm"><draw:text-box><text:p>Text box: boxed words.</text:p></draw:text-box></draw:frame></text:p>
   <text:p text:style-name="PB">Second page after a page break.</text:p>
  </office:text>
 </office:body>
</office:document>
EOF

{
  cat <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:meta>
  <dc:title>Quire legacy Excel fixture</dc:title>
  <meta:initial-creator>Quire testdata</meta:initial-creator>
  <meta:creation-date>2024-03-05T10:20:30</meta:creation-date>
 </office:meta>
 <office:automatic-styles>
  <number:date-style style:name="Ndate"><number:year number:style="long"/><number:text>-</number:text><number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/></number:date-style>
  <number:date-style style:name="Ndt"><number:day/><number:text>/</number:text><number:month/><number:text>/</number:text><number:year number:style="long"/><number:text> </number:text><number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/></number:date-style>
  <number:time-style style:name="Ntime"><number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/><number:text>:</number:text><number:seconds number:style="long"/></number:time-style>
  <number:percentage-style style:name="Npct"><number:number number:decimal-places="0" number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>
  <style:style style:name="cdate" style:family="table-cell" style:data-style-name="Ndate"/>
  <style:style style:name="cdt" style:family="table-cell" style:data-style-name="Ndt"/>
  <style:style style:name="ctime" style:family="table-cell" style:data-style-name="Ntime"/>
  <style:style style:name="cpct" style:family="table-cell" style:data-style-name="Npct"/>
  <style:style style:name="bold" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
 </office:automatic-styles>
 <office:body>
  <office:spreadsheet>
   <table:table table:name="Numbers">
    <table:table-row><table:table-cell office:value-type="string"><text:p>kind</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>value</text:p></table:table-cell></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>big integer</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="123456789012345"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>small integer</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="42"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>negative</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="-7"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>float</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="3.14159"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>tenth</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="0.1"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>cents</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="1234.56"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>percent</text:p></table:table-cell><table:table-cell table:style-name="cpct" office:value-type="percentage" office:value="0.25"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>date</text:p></table:table-cell><table:table-cell table:style-name="cdate" office:value-type="date" office:date-value="1948-12-10"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>date and time</text:p></table:table-cell><table:table-cell table:style-name="cdt" office:value-type="date" office:date-value="2024-02-29T14:30:00"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>time</text:p></table:table-cell><table:table-cell table:style-name="ctime" office:value-type="time" office:time-value="PT08H15M30S"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>formula number</text:p></table:table-cell><table:table-cell table:formula="of:=[.B3]*2" office:value-type="float" office:value="84"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>formula text</text:p></table:table-cell><table:table-cell table:formula="of:=CONCATENATE(&quot;Total &quot;;&quot;rows&quot;)" office:value-type="string" office:string-value="Total rows"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>formula boolean</text:p></table:table-cell><table:table-cell table:formula="of:=1&gt;0" office:value-type="boolean" office:boolean-value="true"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>formula error</text:p></table:table-cell><table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>boolean</text:p></table:table-cell><table:table-cell office:value-type="boolean" office:boolean-value="false"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>rich text</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>plain <text:span text:style-name="bold">bold</text:span> plain</text:p></table:table-cell></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>gap</text:p></table:table-cell><table:table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type="string"><text:p>after two empty cells</text:p></table:table-cell></table:table-row>
   </table:table>
   <table:table table:name="Ünïcödé – 世界">
    <table:table-row><table:table-cell office:value-type="string"><text:p>Déclaration universelle des droits de l’homme</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>世界人权宣言</text:p></table:table-cell></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>Всеобщая декларация прав человека</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>ASCII only</text:p></table:table-cell></table:table-row>
   </table:table>
   <table:table table:name="Long">
EOF
  # Enough distinct strings that the shared string table spans many
  # CONTINUE records, and one string longer than a record.
  for i in $(seq 1 500); do
    printf '    <table:table-row><table:table-cell office:value-type="float" office:value="%d"/><table:table-cell office:value-type="string"><text:p>row %d of the long sheet: ünïcödé text</text:p></table:table-cell></table:table-row>\n' "$i" "$i"
  done
  printf '    <table:table-row><table:table-cell office:value-type="string"><text:p>'
  for i in $(seq 1 600); do printf 'long%04d ' "$i"; done
  printf 'end of the long string — ✓</text:p></table:table-cell></table:table-row>\n'
  cat <<'EOF'
   </table:table>
  </office:spreadsheet>
 </office:body>
</office:document>
EOF
} >"$work/src/numbers.fods"

cat >"$work/src/dates1904.fods" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:automatic-styles>
  <number:date-style style:name="Ndate"><number:year number:style="long"/><number:text>-</number:text><number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/></number:date-style>
  <style:style style:name="cdate" style:family="table-cell" style:data-style-name="Ndate"/>
 </office:automatic-styles>
 <office:body>
  <office:spreadsheet>
   <table:calculation-settings><table:null-date table:date-value="1904-01-01"/></table:calculation-settings>
   <table:table table:name="Dates">
    <table:table-row><table:table-cell office:value-type="string"><text:p>adopted</text:p></table:table-cell><table:table-cell table:style-name="cdate" office:value-type="date" office:date-value="1948-12-10"/></table:table-row>
    <table:table-row><table:table-cell office:value-type="string"><text:p>leap day</text:p></table:table-cell><table:table-cell table:style-name="cdate" office:value-type="date" office:date-value="2024-02-29"/></table:table-row>
   </table:table>
  </office:spreadsheet>
 </office:body>
</office:document>
EOF

cat >"$work/src/slides.fodp" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">
 <office:meta>
  <dc:title>Quire legacy PowerPoint fixture</dc:title>
  <meta:initial-creator>Quire testdata</meta:initial-creator>
  <meta:creation-date>2024-03-05T10:20:30</meta:creation-date>
 </office:meta>
 <office:master-styles>
  <style:master-page style:name="Default"/>
 </office:master-styles>
 <office:body>
  <office:presentation>
   <draw:page draw:name="one" draw:master-page-name="Default">
    <draw:frame presentation:class="title" svg:x="2cm" svg:y="1cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Slide one: the opening</text:p></draw:text-box></draw:frame>
    <draw:frame presentation:class="outline" svg:x="2cm" svg:y="5cm" svg:width="20cm" svg:height="10cm"><draw:text-box><text:list><text:list-item><text:p>First point of slide one</text:p></text:list-item><text:list-item><text:p>Second point with naïve café</text:p></text:list-item></text:list></draw:text-box></draw:frame>
    <presentation:notes><draw:frame presentation:class="notes" svg:x="2cm" svg:y="14cm" svg:width="17cm" svg:height="10cm"><draw:text-box><text:p>Notes of slide one: speak slowly.</text:p></draw:text-box></draw:frame></presentation:notes>
   </draw:page>
   <draw:page draw:name="two" draw:master-page-name="Default">
    <draw:frame presentation:class="title" svg:x="2cm" svg:y="1cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Slide two: 世界人权宣言</text:p></draw:text-box></draw:frame>
    <draw:frame svg:x="2cm" svg:y="8cm" svg:width="12cm" svg:height="3cm"><draw:text-box><text:p>A free text box on slide two</text:p></draw:text-box></draw:frame>
   </draw:page>
   <draw:page draw:name="three" draw:master-page-name="Default">
    <draw:frame presentation:class="title" svg:x="2cm" svg:y="1cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Slide three: the end</text:p></draw:text-box></draw:frame>
    <presentation:notes><draw:frame presentation:class="notes" svg:x="2cm" svg:y="14cm" svg:width="17cm" svg:height="10cm"><draw:text-box><text:p>Notes of slide three: thank the audience.</text:p></draw:text-box></draw:frame></presentation:notes>
   </draw:page>
  </office:presentation>
 </office:body>
</office:document>
EOF

# ---- conversions

cp "$root/testdata/office/udhr.docx" "$root/testdata/office/sotu.xlsx" "$root/testdata/office/udhr.pptx" "$work/src/"
convert doc "$work/src/udhr.docx"
convert doc "$work/src/features.fodt"
convert xls "$work/src/sotu.xlsx"
convert xls "$work/src/numbers.fods"
convert xls "$work/src/dates1904.fods"
convert ppt "$work/src/udhr.pptx"
convert ppt "$work/src/slides.fodp"
for f in udhr.doc features.doc sotu.xls numbers.xls dates1904.xls; do
  cp "$work/out/$f" "$out/$f"
done
# LibreOffice's PowerPoint export always embeds a 440 KB thumbnail.
strip() { (cd "$root" && go run ./testdata/formats/legacy/gen/cfbstrip.go "$1" "$2"); }
strip "$work/out/udhr.ppt" "$out/udhr.ppt"
strip "$work/out/slides.ppt" "$out/slides.ppt"

encrypt() { # encrypt SRC FILTER DST
  soffice "$profile" --headless "macro:///Standard.Legacy.SaveWithPassword(\"$1\",\"$3\",\"$2\")" >/dev/null 2>&1 || true
  [ -s "$3" ] || { echo "make-legacy-testdata.sh: no $3 written" >&2; exit 1; }
}
encrypt "$work/src/features.fodt" "MS Word 97" "$out/encrypted.doc"
encrypt "$work/src/dates1904.fods" "MS Excel 97" "$out/encrypted.xls"
ls -l "$out"
