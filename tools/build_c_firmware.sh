#!/usr/bin/env bash
# Build the C demo firmware of the app cores (firmware/app/) into ELFs, reproducibly.
#
#   tools/build_c_firmware.sh [OUTDIR]   build ppc_demo.elf and arm_demo.elf into OUTDIR
#                                        (default: firmware/app/prebuilt, the committed ELFs)
#   tools/build_c_firmware.sh --check    build into a temporary directory and compare
#                                        byte-for-byte with the committed ELFs (CI)
#
# Compilers: Debian's gcc-powerpc-linux-gnu and gcc-arm-none-eabi (override with PPC_CC /
# ARM_CC). The committed ELFs were built with Debian 12 (bookworm): powerpc-linux-gnu-gcc
# 12.2.0-13 and arm-none-eabi-gcc 12.2.1 (15:12.2.rel1-1); another compiler version gives
# other bytes. The compiler's version string is kept in each ELF's .comment section.
#
# Reproducible: fixed source order, relative source paths run from the repository root,
# -ffile-prefix-map, -g0, no build-id, LC_ALL=C; nothing depends on time or on OUTDIR.
# With --check, a missing cross compiler is not an error: that ELF is reported as skipped.
set -euo pipefail

usage() {
    sed -n '2,17s/^# \{0,1\}//p' "$0"
}

check=0
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "build_c_firmware: unknown option $1" >&2; usage >&2; exit 2 ;;
        *)
            if [ -n "$out" ]; then echo "build_c_firmware: one OUTDIR only" >&2; exit 2; fi
            out="$1" ;;
    esac
    shift
done
if [ "$check" = 1 ] && [ -n "$out" ]; then
    echo "build_c_firmware: --check takes no OUTDIR" >&2
    exit 2
fi

if [ -n "$out" ]; then
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export LC_ALL=C TZ=UTC
unset GCC_EXEC_PREFIX COMPILER_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH 2>/dev/null || true

prebuilt="firmware/app/prebuilt"
PPC_CC="${PPC_CC:-powerpc-linux-gnu-gcc}"
ARM_CC="${ARM_CC:-arm-none-eabi-gcc}"

common_flags=(
    -std=c11 -O2 -g0 -Wall -Wextra
    -ffreestanding -nostdlib -nostartfiles -static
    -fno-common -fno-pic -fno-pie -no-pie -fno-stack-protector
    -fno-asynchronous-unwind-tables -fno-unwind-tables
    -ffunction-sections -fdata-sections
    "-ffile-prefix-map=$root=." -frandom-seed=hsmemu-app
    -Wa,--noexecstack
    -Wl,--build-id=none -Wl,--gc-sections -Wl,-n -Wl,--no-warn-rwx-segments
    -Ifirmware/app/common
)
ppc_flags=(-m32 -mbig-endian -mcpu=powerpc -msoft-float -mno-altivec -G 0)
arm_flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft)

# build NAME ARCH CC OUTDIR -- ARCH_FLAGS...
build() {
    local name="$1" arch="$2" cc="$3" dir="$4"
    shift 5
    "$cc" "${common_flags[@]}" "$@" \
        -Ifirmware/app/"$arch" \
        -Wl,-T,firmware/app/"$arch"/link.ld \
        -o "$dir/$name.elf" \
        firmware/app/"$arch"/start.S \
        firmware/app/common/demo.c \
        firmware/app/common/wh_mbox_client.c \
        firmware/app/"$arch"/board.c \
        -lgcc
}

have() { command -v "$1" >/dev/null 2>&1; }

targets=("ppc_demo ppc $PPC_CC" "arm_demo arm $ARM_CC")

if [ "$check" = 0 ]; then
    dir="${out:-$root/$prebuilt}"
    mkdir -p "$dir"
    for t in "${targets[@]}"; do
        read -r name arch cc <<<"$t"
        if ! have "$cc"; then
            echo "build_c_firmware: $cc not found (Debian: apt-get install gcc-powerpc-linux-gnu gcc-arm-none-eabi)" >&2
            exit 1
        fi
        if [ "$arch" = ppc ]; then build "$name" "$arch" "$cc" "$dir" -- "${ppc_flags[@]}"
        else build "$name" "$arch" "$cc" "$dir" -- "${arm_flags[@]}"; fi
        echo "built $dir/$name.elf ($(wc -c <"$dir/$name.elf") bytes, $("$cc" -dumpfullversion))"
    done
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for t in "${targets[@]}"; do
    read -r name arch cc <<<"$t"
    committed="$prebuilt/$name.elf"
    if ! have "$cc"; then
        echo "$name.elf: skipped: compiler not installed ($cc)"
        continue
    fi
    if [ ! -f "$committed" ]; then
        echo "$name.elf: MISSING: $committed does not exist; run tools/build_c_firmware.sh" >&2
        status=1
        continue
    fi
    if [ "$arch" = ppc ]; then build "$name" "$arch" "$cc" "$tmp" -- "${ppc_flags[@]}"
    else build "$name" "$arch" "$cc" "$tmp" -- "${arm_flags[@]}"; fi
    if cmp -s "$tmp/$name.elf" "$committed"; then
        echo "$name.elf: ok (identical to $committed)"
    else
        echo "$name.elf: MISMATCH: a fresh build differs from the committed $committed" >&2
        echo "  local compiler: $("$cc" --version | head -n 1)" >&2
        echo "  either the sources changed without a rebuild (run tools/build_c_firmware.sh and" >&2
        echo "  commit $prebuilt/), or this compiler is not the one the ELFs were built with" >&2
        echo "  (Debian 12: powerpc-linux-gnu-gcc 12.2.0-13, arm-none-eabi-gcc 12.2.1)." >&2
        status=1
    fi
done
exit "$status"
