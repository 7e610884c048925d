#!/bin/sh
# deltascope `bench:gpu`, from its carried bundle (scripts/gpuBundle/pack.mjs builds the bundle).
#
# Runs the 135M-class benchmark on WebGPU (onnxruntime-web on Dawn, on the machine's Vulkan driver)
# and on the CPU (onnxruntime-node) with the Node binary, native modules and Vulkan loader packed
# beside this script: nothing is installed or downloaded. Unpack and run in one line:
#
#   mkdir -p /tmp/dsb && (tar -xJf deltascope-gpu-bench.tar.xz -C /tmp/dsb || python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' deltascope-gpu-bench.tar.xz /tmp/dsb) && /tmp/dsb/run.sh --out "$OUT"
#
# (python3 unpacks it where no `xz` is installed.) Arguments go to bench-gpu.mjs: --out DIR (default
# $OUT, else ./gpu-bench-out), --quick, --budget-s N, --models DIR; `--help` lists them.
#
# What this script decides, and why:
# - LD_LIBRARY_PATH: the packed Vulkan loader (libvulkan.so.1) and libglvnd (libGLdispatch.so.0, GLX, EGL, GL)
#   (which NVIDIA's Vulkan driver links against) only where the system has none, so a system's own
#   newer copy wins; the packed libstdc++ only where the system's is older than dawn.node needs
#   (GLIBCXX_3.4.30); the NVIDIA driver's folder where it is mounted outside the linker's cache.
# - The Vulkan driver (ICD): a VK_DRIVER_FILES / VK_ICD_FILENAMES already set is kept; else NVIDIA's
#   manifest where one exists; else SwiftShader's (Debian's chromium package), which emulates a GPU
#   on the CPU (the figures are then labelled CPU-emulated).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

# DSB_BUNDLED_LIBS=1 takes the packed libraries even where the system has its own (to test them).
ldcache() {
  if [ "${DSB_BUNDLED_LIBS:-0}" = 1 ]; then return 0; fi
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | grep -F "$1 (" | head -n 1 | sed 's/.*=> //'
}

lib_path=""
add_lib() { lib_path="${lib_path:+$lib_path:}$1"; }
vulkan_loader="system $(ldcache libvulkan.so.1)"
if [ -z "$(ldcache libvulkan.so.1)" ]; then add_lib "$HERE/lib/vulkan"; vulkan_loader="bundled"; fi
if [ -z "$(ldcache libGLdispatch.so.0)" ] || [ -z "$(ldcache libGLX.so.0)" ] || [ -z "$(ldcache libEGL.so.1)" ]; then
  add_lib "$HERE/lib/glvnd"
fi
stdcpp=$(ldcache libstdc++.so.6)
if [ -z "$stdcpp" ] || ! grep -aqF GLIBCXX_3.4.30 "$stdcpp"; then add_lib "$HERE/lib/compat"; fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  if [ -d "$d" ]; then add_lib "$d"; fi
done
LD_LIBRARY_PATH="${lib_path}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in \
    /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
    /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/lib/chromium/vk_swiftshader_icd.json; do
    if [ -f "$icd" ]; then
      VK_DRIVER_FILES=$icd
      VK_ICD_FILENAMES=$icd
      export VK_DRIVER_FILES VK_ICD_FILENAMES
      break
    fi
  done
fi

# NVIDIA's EGL vendor file, as the driver's container mounts it (libglvnd looks elsewhere by default).
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
  __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  export __EGL_VENDOR_LIBRARY_FILENAMES
fi

# Only the bundle's own modules: nothing from a NODE_PATH or NODE_OPTIONS of the machine.
unset NODE_PATH NODE_OPTIONS
DSB_VULKAN_LOADER=$vulkan_loader
DSB_LD_LIBRARY_PATH=$lib_path
export DSB_VULKAN_LOADER DSB_LD_LIBRARY_PATH

echo "[bench:gpu] bundle: $HERE"
echo "[bench:gpu] Vulkan loader: $vulkan_loader; driver manifest: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-none found}}"
echo "[bench:gpu] LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; fi

exec "$HERE/bin/node" "$HERE/bench-gpu.mjs" "$@"
