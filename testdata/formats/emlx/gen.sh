#!/bin/sh
# gen.sh writes 1001.emlx, an Apple Mail message file, from a message of
# testdata/email (see README.md). Run it from this directory.
set -e
src=../../email/spamassassin-easy-ham-1-00001.eml
tail -n +2 "$src" >msg.tmp # without the mbox "From " line, which Mail does not keep
{
	printf '%d\n' "$(wc -c <msg.tmp)"
	cat msg.tmp
	cat <<'PLIST'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>date-received</key>
	<integer>1030015585</integer>
	<key>flags</key>
	<integer>8590195729</integer>
	<key>remote-id</key>
	<string>1001</string>
</dict>
</plist>
PLIST
} >1001.emlx
rm msg.tmp
