#!/bin/sh
# Prints where it runs: the machine name tells which emulator (if any) ran it.
echo "$GREETING on $(uname -m) ($(cat /app/config/motd))"
