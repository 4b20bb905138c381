#!/bin/sh
# System libraries the Python packages need but do not bundle: libopenjp2 for glymur.
set -eu
missing=""
ldconfig -p 2>/dev/null | grep -q 'libopenjp2\.so' || missing="$missing libopenjp2-7"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "install-system-deps: need root to install:$missing" >&2; exit 1; fi
echo "install-system-deps: apt-get install$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
