#!/usr/bin/env bash
# Debian's nginx binary for the test of deploy/nginx/sopipe-desk.conf (`nginx -t`), unpacked into the virtual
# environment: downloaded and extracted, never installed, so no web server is enabled or started on this machine.
# Nothing to do where nginx is installed already. Usage: tools/test-nginx.sh DEST (e.g. .venv/opt/nginx).
set -euo pipefail
dest=$1
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || [ -x "$dest/usr/sbin/nginx" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "nginx is not installed and this is no Debian/Ubuntu machine: the reverse-proxy test will be skipped" >&2
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download -qq nginx >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] && apt-get update -qq
    apt-get download -qq nginx >/dev/null
fi
mkdir -p "$dest"
dpkg-deb -x nginx_*.deb "$dest"
echo "nginx $("$dest/usr/sbin/nginx" -v 2>&1 | sed 's/.*nginx\///') unpacked into $dest for the tests"
