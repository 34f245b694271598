#!/bin/sh
# Prints where it runs: the machine name tells which emulator (if any) ran it.
read -r motd < /app/config/motd
echo "$GREETING on $(uname -m) ($motd)"
