#!/usr/bin/env bash
# Installs the system packages sopipe needs (Debian/Ubuntu), or says exactly what to install when not root.
set -euo pipefail

missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || missing+=(python3-uno)
command -v pdfsig >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
# the tests sign as poppler's `pdfsig -add-signature` does, from an NSS database made with these
command -v pk12util >/dev/null 2>&1 && command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
[ -f /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf ] || missing+=(fonts-liberation2)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# other scripts (CJK) and emoji must appear in the PDFs literally, not as empty boxes
[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing+=(fonts-droid-fallback)
ls /usr/share/fonts/truetype/*/Symbola*.ttf >/dev/null 2>&1 || missing+=(fonts-symbola)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
# the service units in deploy/systemd/ are checked with systemd-analyze verify (a container may lack systemd)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# the desk's browser tests (Playwright drives Debian's chromium; no browser is downloaded)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "sopipe needs these system packages, which are missing: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
