#!/usr/bin/env bash
# Sets up what is missing (Debian's Fashion-MNIST package), builds in Release and trains the
# Fashion-MNIST sample with its defaults. Extra arguments go to the sample, e.g. --max-epochs 1.
set -euo pipefail
cd "$(dirname "$0")"

# What the main job needs from Debian: the data set, and a font for the labels of the curves' PNG (metrics.png).
missing=""
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing="$missing dataset-fashion-mnist"
[ -d /usr/share/fonts/truetype/dejavu ] || missing="$missing fonts-dejavu-core"
if [ -n "$missing" ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing Debian's$missing..."
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq $missing
fi

dotnet build samples/FashionMnist/FashionMnist.csproj -c Release -nologo -v quiet
exec dotnet samples/FashionMnist/bin/Release/net10.0/FashionMnist.dll "$@"
