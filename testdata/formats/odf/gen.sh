#!/usr/bin/env bash
# Writes the files of this folder with LibreOffice from the project's own
# test documents. Run from this folder: ./gen.sh (needs soffice).
set -euo pipefail
prof=$(mktemp -d)
trap 'rm -rf "$prof"' EXIT
lo() { soffice -env:UserInstallation="file://$prof" --headless --norestore "$@" >/dev/null; }
lo --convert-to ott --outdir . ../../office/udhr-fra.odt
lo --convert-to docm:"MS Word 2007 XML VBA" --outdir . ../../office/udhr-fra.odt
lo --convert-to dotx:"MS Word 2007 XML Template" --outdir . ../../office/udhr-fra.odt
lo --convert-to odg --outdir . ../longtail/hoover.vsdx
lo --convert-to otp --outdir . ../../office/udhr.odp
