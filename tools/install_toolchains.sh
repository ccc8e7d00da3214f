#!/bin/sh
# Install the Debian cross compilers that rebuild the C demo firmware (root or sudo needed).
set -e
if command -v powerpc-linux-gnu-gcc >/dev/null 2>&1 && command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "cross compilers already installed"; exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends gcc-arm-none-eabi gcc-powerpc-linux-gnu >/dev/null
echo "installed: $(powerpc-linux-gnu-gcc --version | head -1); $(arm-none-eabi-gcc --version | head -1)"
