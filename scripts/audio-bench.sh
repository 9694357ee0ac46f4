#!/usr/bin/env bash
# A private PulseAudio daemon with two virtual devices, for audio tests and demos.
#
#   mic  null sink: tests play "user speech" into it; voiceloop records mic.monitor
#   spk  null sink: voiceloop plays into it; tests record spk.monitor
#
# Usage:
#   scripts/audio-bench.sh start [DIR] [OWNER_PID]
#                                        start a daemon whose runtime dir is DIR, print its env;
#                                        with OWNER_PID, stop it and remove DIR when that
#                                        process exits (test runs that get killed leak nothing)
#   scripts/audio-bench.sh env   [DIR]   print the env lines for an already running daemon
#   scripts/audio-bench.sh stop  [DIR]   stop that daemon
#
# DIR defaults to $VOICELOOP_TEST_PULSE, else /tmp/voiceloop-pulse-$UID. The output is shell:
#   eval "$(scripts/audio-bench.sh start)"
# sets XDG_RUNTIME_DIR, PULSE_SERVER, VOICELOOP_TEST_PULSE, PULSE_SOURCE=mic.monitor and
# PULSE_SINK=spk, which the audio tests pick up instead of starting their own daemon.
# Needs: apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2
set -euo pipefail

cmd="${1:-}"
dir="${2:-${VOICELOOP_TEST_PULSE:-/tmp/voiceloop-pulse-$(id -u)}}"
owner="${3:-}"

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "audio-bench: '$1' not found; install: apt-get install pulseaudio pulseaudio-utils libasound2-plugins" >&2
        exit 3
    fi
}

print_env() {
    echo "export XDG_RUNTIME_DIR='$dir'"
    echo "export PULSE_SERVER='unix:$dir/pulse/native'"
    echo "export VOICELOOP_TEST_PULSE='$dir'"
    echo "export PULSE_SOURCE=mic.monitor"
    echo "export PULSE_SINK=spk"
}

in_bench() {
    env XDG_RUNTIME_DIR="$dir" PULSE_SERVER="unix:$dir/pulse/native" HOME="$dir/home" "$@"
}

case "$cmd" in
start)
    need pulseaudio
    need pactl
    mkdir -p "$dir/home"
    chmod 700 "$dir"
    if in_bench pactl info >/dev/null 2>&1; then
        print_env
        exit 0
    fi
    # Run as root on purpose (CI containers); the daemon's warning about it is harmless.
    in_bench pulseaudio -n --daemonize=yes --exit-idle-time=-1 --use-pid-file=yes \
        --log-target=file:"$dir/pulse.log" \
        -L "module-native-protocol-unix auth-anonymous=1 socket=$dir/pulse/native" \
        -L "module-null-sink sink_name=mic norewinds=1 sink_properties=device.description=mic" \
        -L "module-null-sink sink_name=spk norewinds=1 sink_properties=device.description=spk" \
        -L "module-always-sink" \
        2>>"$dir/pulse.log"
    for _ in $(seq 50); do
        if in_bench pactl info >/dev/null 2>&1; then
            in_bench pactl set-default-sink spk
            in_bench pactl set-default-source mic.monitor
            if [ -n "$owner" ]; then
                setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done
                    XDG_RUNTIME_DIR="$2" PULSE_SERVER="unix:$2/pulse/native" HOME="$2/home" \
                        pulseaudio --kill; rm -rf "$2"' watcher "$owner" "$dir" \
                    </dev/null >/dev/null 2>&1 &
            fi
            print_env
            exit 0
        fi
        sleep 0.1
    done
    echo "audio-bench: pulseaudio did not come up; see $dir/pulse.log" >&2
    exit 1
    ;;
env)
    print_env
    ;;
stop)
    need pulseaudio
    in_bench pulseaudio --kill 2>/dev/null || true
    ;;
*)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
