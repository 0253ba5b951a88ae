#!/usr/bin/env bash
# sam3.cpp — one-step setup on Debian 12: install dependencies from Debian's packages, build (Release),
# and run the tool's main job on an example. Run as root (or with sudo available).
#   scripts/setup.sh            install + build + example
#   scripts/setup.sh --deps     install dependencies only
#   scripts/setup.sh --build    build only (no apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  libopenblas-openmp-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libutf8proc-dev libicu-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all Debian packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq || echo "setup: apt-get update failed; trying the install with the current lists"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${SAM3_CMAKE_ARGS:-}
  cmake --build build -j"$(nproc)"
}

example() {
  echo "setup: running the example: sam3 info on the tiny fixture checkpoint"
  ./build/sam3 info ../shared/golden/tiny/sam3_random.pt --config ../shared/golden/tiny/config.json
}

case "${1:-all}" in
  --deps) install_deps ;;
  --build) build ;;
  all) install_deps; build; example ;;
  *) echo "usage: scripts/setup.sh [--deps|--build]" >&2; exit 2 ;;
esac
