#!/bin/sh
# Install the system packages voiceloop needs, with apt-get (Debian, Ubuntu).
#
#   scripts/setup-system.sh            PortAudio and libsndfile (to run voiceloop)
#   scripts/setup-system.sh --test     also what the tests use: PulseAudio with its tools
#                                      and ALSA plugin (virtual sound devices), espeak-ng and
#                                      sox (speech to test with), tmux (terminal tests)
#   scripts/setup-system.sh --check    only say what is missing (exit 1 if anything is)
#   scripts/setup-system.sh --dry-run  update the package lists, then only simulate
#   scripts/setup-system.sh PKG...     also these packages
#
# Installs as root, or through sudo when it needs no password; otherwise prints one line
# saying what to install and exits 3. Checking costs one dpkg-query when nothing is missing.
set -eu

RUNTIME_PACKAGES="libportaudio2 libsndfile1"
TEST_PACKAGES="pulseaudio pulseaudio-utils libasound2-plugins espeak-ng sox tmux"

wanted=$RUNTIME_PACKAGES
check_only=false
quiet=false
simulate=
for arg in "$@"; do
    case $arg in
        --test) wanted="$wanted $TEST_PACKAGES" ;;
        --check) check_only=true ;;
        --quiet) quiet=true ;;
        --dry-run) simulate=--simulate ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "setup-system.sh: unknown option $arg" >&2; exit 2 ;;
        *) wanted="$wanted $arg" ;;
    esac
done

say() { $quiet || echo "setup-system.sh: $*" >&2; }

missing_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "$wanted"
        return
    fi
    # shellcheck disable=SC2086 # word splitting is wanted: one argument per package
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $wanted 2>/dev/null \
        | awk '$2 ~ /^ii/ { print $1 }')
    for package in $wanted; do
        case " $(echo $installed) " in
            *" $package "*) ;;
            *) printf '%s ' "$package" ;;
        esac
    done
}

missing=$(missing_packages)
missing=${missing% }
if [ -z "$missing" ]; then
    say "system packages present"
    exit 0
fi
if $check_only; then
    echo "missing: $missing"
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "voiceloop: please install these system packages (no apt-get here): $missing" >&2
    exit 3
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    echo "voiceloop: missing system packages; install them with: sudo apt-get install $missing" >&2
    exit 3
fi

echo "setup-system.sh: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet, and old lists may name files that are gone.
$as_root apt-get update -qq >&2
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $simulate $missing >&2
