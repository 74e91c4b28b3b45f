#!/usr/bin/env bash
# Installs every system dependency of Cadereau from Debian bookworm packages.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libopenscenegraph-dev openscenegraph
  libgdal-dev gdal-bin
  libproj-dev proj-bin
  libcgal-dev libgmp-dev libmpfr-dev
  sumo sumo-tools
  libhdf5-dev hdf5-tools python3-h5py
  libboost-dev libboost-system-dev libboost-program-options-dev
  catch2
  libspdlog-dev libfmt-dev
  libyaml-cpp-dev nlohmann-json3-dev
  libtbb-dev libpugixml-dev
  libsodium-dev libssl-dev openssl
  libpaho-mqtt-dev libpaho-mqttpp-dev mosquitto mosquitto-clients
  python3-websockets python3-requests python3-paho-mqtt python3-yaml jq curl libxml2-utils
  xvfb xauth libgl1-mesa-dri libglx-mesa0 libgl-dev mesa-utils
  libjs-leaflet chromium chromium-driver python3-selenium python3-pil
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
