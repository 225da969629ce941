#!/bin/sh
# Installs the Debian 12 packages amt needs to build, test and render data. Idempotent.
# Run as root (or through sudo). AMT_DEPS_EXTRA="python3-torch ..." adds packages.
set -e
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
PKGS="build-essential pkg-config
  libopenblas-openmp-dev liblapacke-dev libfftw3-dev libsndfile1-dev libsoxr-dev
  libhdf5-dev zlib1g-dev libinih-dev libpng-dev libfluidsynth-dev
  fluid-soundfont-gm timgm6mb-soundfont"
missing=""
for p in $PKGS $AMT_DEPS_EXTRA; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
else
  echo "all Debian packages present"
fi
