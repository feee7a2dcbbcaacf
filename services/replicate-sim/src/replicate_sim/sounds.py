"""WAV audio, 16-bit PCM mono at 22,050 Hz: tone syllables for narration, an arpeggio for music.

Waveforms are built from a few short cached pieces and tiled, so even minutes of audio take a
fraction of a second in pure Python.
"""

from __future__ import annotations

import functools
import io
import math
import random
import sys
import wave
from array import array

SAMPLE_RATE = 22_050
CHARS_PER_SECOND = 15.0
SYLLABLE_S = 1 / CHARS_PER_SECOND
BAR_S = 2.0
CHORDS = ((220.0, 277.18, 329.63), (196.0, 246.94, 293.66), (174.61, 220.0, 261.63))


def narration_duration(text: str, duration_s: float | None = None) -> float:
    """`duration_s` when given, else the time to say `text` at 15 characters a second (>= 1 s)."""
    if duration_s is not None:
        return duration_s
    return max(1.0, len(text) / CHARS_PER_SECOND)


def narration_wav(text: str, duration_s: float) -> bytes:
    """A voice-like pattern of tone syllables, one per character, lasting `duration_s`."""
    pieces = [_syllable(character) for character in (text or " ")]
    return _wav(_tile(pieces, _frames(duration_s)))


def music_wav(seed: int, duration_s: float) -> bytes:
    """A repeating two-second arpeggio over a chord picked by `seed`, lasting `duration_s`."""
    chord = CHORDS[random.Random(seed).randrange(len(CHORDS))]
    return _wav(_tile([_bar(chord)], _frames(duration_s)))


def _frames(duration_s: float) -> int:
    return max(1, round(duration_s * SAMPLE_RATE))


def _tile(pieces: list[bytes], frames: int) -> bytes:
    """Repeat the pieces in order until exactly `frames` samples are filled."""
    cycle = b"".join(pieces)
    repeats = -(-frames * 2 // len(cycle))
    return (cycle * repeats)[: frames * 2]


@functools.lru_cache(maxsize=256)
def _syllable(character: str) -> bytes:
    count = round(SYLLABLE_S * SAMPLE_RATE)
    if not character.isalnum():
        return bytes(count * 2)
    pitch = 110.0 + (ord(character.lower()) % 32) * 5.0
    return _tone([pitch, pitch * 2.0], count, volume=0.3)


@functools.lru_cache(maxsize=8)
def _bar(chord: tuple[float, ...]) -> bytes:
    note = round(BAR_S / 4 * SAMPLE_RATE)
    notes = [*chord, chord[1]]
    return b"".join(_tone([pitch, chord[0] / 2], note, volume=0.25) for pitch in notes)


def _tone(pitches: list[float], count: int, volume: float) -> bytes:
    """A sum of sines with a short attack and a linear release, as 16-bit little-endian PCM."""
    attack = max(1, count // 10)
    steps = [2.0 * math.pi * pitch / SAMPLE_RATE for pitch in pitches]
    peak = 32767 * volume / len(pitches)
    samples = array("h", bytes(count * 2))
    for i in range(count):
        envelope = min(i / attack, (count - i) / (count - attack))
        samples[i] = int(peak * envelope * sum(math.sin(step * i) for step in steps))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def pcm_of(wav: bytes) -> bytes:
    """The samples of a WAV made by this module."""
    with wave.open(io.BytesIO(wav)) as reader:
        frames: bytes = reader.readframes(reader.getnframes())
    return frames


def _wav(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    return buffer.getvalue()
