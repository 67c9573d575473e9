#!/usr/bin/env bash
# Regenerates assets/sample-speech.wav (16 kHz mono 16-bit: three espeak-ng sentences separated by 1.5 s of silence,
# over low white noise) and assets/sample-speech.json (where each sentence starts and ends, in ms).
# Needs espeak-ng and sox: apt-get install -y espeak-ng sox. Deterministic: sox -R fixes the noise seed and -D turns
# dithering off, so the same tool versions give the same bytes. Tests use the committed files, not this script.
set -euo pipefail
cd "$(dirname "$0")"

RATE=16000
LEAD_S=0.5    # silence before the first sentence
GAP_S=1.5     # silence between sentences
TAIL_S=0.5    # silence after the last sentence
NOISE=0.004   # white-noise peak amplitude (RMS ≈ 0.0023, far below energyVad's default threshold 0.02)
VOICE=en-us
WPM=160
SENTENCES=(
  "Please turn on the kitchen lights."
  "What is the weather like today?"
  "Remind me to call my sister tomorrow."
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sox_() { sox -R -D "$@"; }
silence() { sox_ -n -r "$RATE" -c 1 -b 16 "$1" trim 0 "$2"; }

silence "$tmp/lead.wav" "$LEAD_S"
silence "$tmp/gap.wav" "$GAP_S"
silence "$tmp/tail.wav" "$TAIL_S"

parts=("$tmp/lead.wav")
json_sentences=""
t=$LEAD_S
for i in "${!SENTENCES[@]}"; do
  text=${SENTENCES[$i]}
  espeak-ng -v "$VOICE" -s "$WPM" -w "$tmp/raw$i.wav" "$text"
  # Resample to 16 kHz and cut espeak's own leading/trailing silence, so the timeline below is exact.
  sox_ "$tmp/raw$i.wav" -r "$RATE" -c 1 -b 16 "$tmp/s$i.wav" silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
  d=$(soxi -D "$tmp/s$i.wav")
  start_ms=$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')
  end_ms=$(awk -v t="$t" -v d="$d" 'BEGIN { printf "%.1f", (t + d) * 1000 }')
  [ -n "$json_sentences" ] && json_sentences+=","
  json_sentences+=$'\n'"    { \"text\": \"$text\", \"startMs\": $start_ms, \"endMs\": $end_ms }"
  parts+=("$tmp/s$i.wav")
  t=$(awk -v t="$t" -v d="$d" 'BEGIN { printf "%.6f", t + d }')
  if [ "$i" -lt $((${#SENTENCES[@]} - 1)) ]; then
    parts+=("$tmp/gap.wav")
    t=$(awk -v t="$t" -v g="$GAP_S" 'BEGIN { printf "%.6f", t + g }')
  fi
done
parts+=("$tmp/tail.wav")

sox_ "${parts[@]}" "$tmp/speech.wav"
total=$(soxi -D "$tmp/speech.wav")
sox_ -n -r "$RATE" -c 1 -b 16 "$tmp/noise.wav" synth "$total" whitenoise vol "$NOISE"
# -v 1 on each input: sox -m would otherwise halve both.
sox_ -m -v 1 "$tmp/speech.wav" -v 1 "$tmp/noise.wav" -r "$RATE" -c 1 -b 16 sample-speech.wav

duration_ms=$(awk -v t="$total" 'BEGIN { printf "%.1f", t * 1000 }')
cat > sample-speech.json <<EOF
{
  "file": "sample-speech.wav",
  "generator": "assets/make-sample.sh (espeak-ng -v $VOICE -s $WPM, sox)",
  "sampleRate": $RATE,
  "channels": 1,
  "bitDepth": 16,
  "durationMs": $duration_ms,
  "noisePeak": $NOISE,
  "sentences": [$json_sentences
  ]
}
EOF
echo "wrote sample-speech.wav (${duration_ms} ms) and sample-speech.json"
