#!/bin/sh
# Builds the test plugin for Debian's tee-supplicant (aarch64, glibc).
#
#   build.sh OUTPUT [INCLUDE_DIR]
#
# INCLUDE_DIR holds optee-client's tee_plugin_method.h and
# tee_client_api.h (default: the Debian optee-client tree `cargo xtask`
# unpacks). CC overrides the compiler.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUTPUT [INCLUDE_DIR]}
inc=${2:-$root/target/debian/root/usr/include}
cc=${CC:-aarch64-linux-gnu-gcc}

mkdir -p "$(dirname "$out")"
"$cc" -std=gnu99 -O2 -Wall -Wextra -fPIC -shared -I "$inc" -o "$out" "$here/test_plugin.c"
