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
  libopenblas-openmp-dev libdnnl-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libicu-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium nodejs  # web UI test (tests/web): Debian's Chromium driven by playwright-core from npm
  # the Python package (python/, docs/python.md), built for Debian's /usr/bin/python3, and its tests
  python3-dev python3-venv pybind11-dev python3-pybind11 python3-numpy python3-pytest python3-distributed python3-pil
  clang libclang-rt-14-dev libomp-dev  # fuzz targets (libFuzzer, fuzz/) and the sanitizer build (scripts/test.sh)
)
# npm: part of NodeSource's nodejs (which conflicts with Debian's npm package); Debian's nodejs needs it apart.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

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
  python_env
}

python_env() {
  # The Python package is built into build/python (PYTHONPATH=build/python /usr/bin/python3 imports it). Also make
  # .venv: a venv of Debian's python3 that sees Debian's numpy/dask and, through a .pth file, build/python.
  [ -d build/python/sam3 ] || { echo "setup: the Python package was not built (see cmake's output)"; return; }
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  local site
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$PWD/build/python" > "$site/sam3cpp.pth"
  .venv/bin/python -c 'import sam3' && echo "setup: Python package ready: .venv/bin/python -c 'import sam3'"
}

example() {
  # Segments the bundled example image (assets/example.png, drawn by tools/make_example_image.cpp) with the text
  # prompt "ball". Real weights: models/sam3.pt or $SAM3_MODEL; otherwise a small random model made here.
  local model="${SAM3_MODEL:-models/sam3.pt}" out=build/example args=()
  mkdir -p "$out"
  if [ -f "$model" ]; then
    echo "setup: example: segmenting assets/example.png with $model"
  else
    echo "setup: example: no weights at $model, so the example uses a small RANDOM model: its masks and scores"
    echo "setup:   are MEANINGLESS (it only shows that the pipeline runs). For real results get sam3.pt from the"
    echo "setup:   gated Hugging Face repo facebook/sam3: accept the licence at https://huggingface.co/facebook/sam3,"
    echo "setup:   then 'huggingface-cli download facebook/sam3 sam3.pt --local-dir models' (or set SAM3_MODEL)."
    model="$out/sam3_small_random.pt"
    args=(--config assets/sam3_small_random.json --threshold 0.35)  # random scores sit around 0.3
    [ -f "$model" ] || ./build/sam3 make-random-checkpoint --config assets/sam3_small_random.json -o "$model"
  fi
  ./build/sam3 segment -m "$model" "${args[@]}" -i assets/example.png -t ball \
    -o "$out/result.json" --overlay "$out/overlay.png"
  echo "setup: example: wrote $out/result.json (instances with COCO RLE masks) and $out/overlay.png"
}

case "${1:-all}" in
  --deps) install_deps ;;
  --build) build ;;
  all) install_deps; build; example ;;
  *) echo "usage: scripts/setup.sh [--deps|--build]" >&2; exit 2 ;;
esac
