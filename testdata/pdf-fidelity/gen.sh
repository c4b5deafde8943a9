#!/bin/sh
# Encrypted copies of annotated.pdf (run gen.go first), made with Debian's
# qpdf (apt-get install qpdf). qpdf draws a random salt and IV at every run,
# so the files differ from run to run; what they hold does not.
set -e
cd "$(dirname "$0")"
# Only the owner password is set: they open without a password.
qpdf --encrypt "" quire-owner 256 -- annotated.pdf empty-user-aes256.pdf
qpdf --encrypt "" quire-owner 256 --force-R5 -- annotated.pdf empty-user-aes256-r5.pdf
qpdf --encrypt "" quire-owner 128 --use-aes=y -- annotated.pdf empty-user-aes128.pdf
qpdf --allow-weak-crypto --encrypt "" quire-owner 40 -- annotated.pdf empty-user-rc4-40.pdf
# A user password: it needs one.
qpdf --encrypt quire-user quire-owner 256 -- annotated.pdf user-password.pdf
