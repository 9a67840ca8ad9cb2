#!/bin/sh
# Builds cclient for the aarch64 guest.
#
#   build.sh OUTPUT [INCLUDE_DIR] [LIB_DIR]
#
# INCLUDE_DIR holds OP-TEE's tee_client_api.h and LIB_DIR a libteec.so to
# link against (defaults: the Debian optee-client 3.19 tree that
# `cargo xtask` unpacks). The binary needs libteec.so.1 at run time, from
# OP-TEE or oxtee. CC overrides the compiler.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUTPUT [INCLUDE_DIR] [LIB_DIR]}
inc=${2:-$root/target/debian/root/usr/include}
lib=${3:-$root/target/debian/root/usr/lib/aarch64-linux-gnu}
cc=${CC:-aarch64-linux-gnu-gcc}

mkdir -p "$(dirname "$out")"
# --allow-shlib-undefined: libteec's own libc references are resolved on
# the guest, whatever glibc the cross toolchain ships.
"$cc" -std=gnu99 -O2 -Wall -Wextra \
	-I "$inc" -o "$out" "$here/client.c" \
	-L "$lib" -lteec -Wl,--allow-shlib-undefined
