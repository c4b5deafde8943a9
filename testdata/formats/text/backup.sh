#!/bin/sh
# Copies Quire's embedded database aside before an upgrade.
set -eu
cp -a ./quire-data "./quire-data.backup.$(date +%Y%m%d)"
echo "Backup of the embedded database done."
