"""Golden values for audio/ (STFT, ISTFT, mel filterbank, log-mel, semitone filterbank).

Debian 12 has no librosa or madmom, so their formulas are written down here in numpy,
following librosa 0.10 (core/convert.py mel_frequencies/hz_to_mel/mel_to_hz with htk=False,
filters.mel with norm='slaney', core/spectrum.py stft/istft with center=True, window_sumsquare,
power_to_db) and madmom 0.16 (audio/filters.py log_frequencies, frequencies2bins,
TriangularFilter, LogarithmicFilterbank). Run: /usr/bin/python3 tests/golden/make_golden_audio.py
Writes tests/golden/audio.txt (read by tests/test_stft.c and tests/test_features.c)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402


# ---- librosa.filters.get_window('hann', n, fftbins=True) / scipy sym window ----
def hann(n, periodic=True):
    m = n if periodic else n - 1
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / m)


# ---- librosa.hz_to_mel / mel_to_hz (htk=False, Slaney) ----
def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_min, f_sp = 0.0, 200.0 / 3
    mels = (f - f_min) / f_sp
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = f >= min_log_hz
    mels = np.where(log_t, min_log_mel + np.log(np.maximum(f, 1e-30) / min_log_hz) / logstep, mels)
    return mels


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_min, f_sp = 0.0, 200.0 / 3
    freqs = f_min + f_sp * m
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_frequencies(n_mels, fmin, fmax):
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))


# ---- librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney') ----
def filters_mel(sr, n_fft, n_mels=128, fmin=0.0, fmax=None):
    if fmax is None:
        fmax = float(sr) / 2
    weights = np.zeros((n_mels, int(1 + n_fft // 2)), dtype=np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights


# ---- librosa.stft(y, n_fft, hop_length, window='hann', center=True, pad_mode) -> frames x bins ----
def stft(y, n_fft, hop, center=True, pad_mode="constant", periodic=True):
    w = hann(n_fft, periodic)
    if center:
        y = np.pad(y, n_fft // 2, mode=pad_mode)
    n_frames = 1 + (len(y) - n_fft) // hop
    frames = np.stack([y[f * hop:f * hop + n_fft] * w for f in range(n_frames)])
    return np.fft.rfft(frames, axis=1)       # (frames, bins), no normalisation


# ---- librosa.istft(S, hop_length, window='hann', center=True, length) with window_sumsquare ----
def istft(spec_fb, n_fft, hop, length):
    n_frames = spec_fb.shape[0]
    w = hann(n_fft)
    frames = np.fft.irfft(spec_fb, n=n_fft, axis=1) * w
    n = n_fft + hop * (n_frames - 1)
    y = np.zeros(n)
    wss = np.zeros(n)
    for f in range(n_frames):
        y[f * hop:f * hop + n_fft] += frames[f]
        wss[f * hop:f * hop + n_fft] += w ** 2
    nz = wss > np.finfo(np.float32).tiny
    y[nz] /= wss[nz]
    start = n_fft // 2
    y = y[start:start + length]
    return np.pad(y, (0, max(0, length - len(y))))


# ---- librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80) ----
def power_to_db(S, amin=1e-10, top_db=80.0):
    log_spec = 10.0 * np.log10(np.maximum(amin, S))
    return np.maximum(log_spec, log_spec.max() - top_db)


# ---- madmom LogarithmicFilterbank (norm_filters=True, unique_filters=True) ----
def log_frequencies(bpo, fmin, fmax, fref=440.0):
    left = np.floor(np.log2(float(fmin) / fref) * bpo)
    right = np.ceil(np.log2(float(fmax) / fref) * bpo)
    f = fref * 2.0 ** (np.arange(left, right) / float(bpo))
    f = f[np.searchsorted(f, fmin):]
    return f[:np.searchsorted(f, fmax, "right")]


def frequencies2bins(freqs, bin_freqs):
    idx = bin_freqs.searchsorted(freqs)
    idx = np.clip(idx, 1, len(bin_freqs) - 1)
    left = bin_freqs[idx - 1]
    right = bin_freqs[idx]
    idx -= freqs - left < right - freqs
    return np.unique(idx)


def log_filterbank(sr, n_fft, bpo, fmin, fmax, fref=440.0):
    bin_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    bins = frequencies2bins(log_frequencies(bpo, fmin, fmax, fref), bin_freqs)
    starts, lens, peaks, weights = [], [], [], []
    for i in range(len(bins) - 2):
        start, center, stop = bins[i:i + 3]
        c, s = center - start, stop - start
        data = np.zeros(s)
        data[:c] = np.linspace(0, 1, c, endpoint=False)
        data[c:] = np.linspace(1, 0, s - c, endpoint=False)
        data /= np.sum(data)
        starts.append(start); lens.append(s); peaks.append(center); weights.extend(data)
    return np.array(starts), np.array(lens), np.array(peaks), np.array(weights)


def main():
    rng = np.random.RandomState(1234)
    rec = {}
    hz = np.array([0.0, 50.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 11025.0])
    rec["hz"] = hz
    rec["hz_to_mel"] = hz_to_mel(hz)

    rec["mel_16000_256_20"] = filters_mel(16000, 256, 20)
    full = filters_mel(22050, 2048, 128)
    rows = [0, 5, 40, 100, 127]
    rec["mel_22050_2048_128_rows"] = full[rows]
    rec["mel_22050_2048_128_rowsum"] = full.astype(np.float64).sum(axis=1)
    rec["mel_22050_1024_64_f50_8000"] = filters_mel(22050, 1024, 64, 50.0, 8000.0)[::8]

    # STFT of a random signal, 1000 samples, n_fft 256, hop 64
    x = rng.uniform(-1, 1, 1000).astype(np.float32)
    rec["stft_x"] = x
    S = stft(x.astype(np.float64), 256, 64)
    rec["stft_const_re"] = S.real
    rec["stft_const_im"] = S.imag
    rec["stft_reflect_mag"] = np.abs(stft(x.astype(np.float64), 256, 64, pad_mode="reflect"))
    rec["stft_nocenter_sym_mag"] = np.abs(stft(x.astype(np.float64), 256, 100, center=False, periodic=False))

    # ISTFT of an arbitrary (inconsistent) spectrum: checks the window-sum normalisation
    Z = rng.normal(size=(12, 33)) + 1j * rng.normal(size=(12, 33))
    rec["istft_re"] = Z.real
    rec["istft_im"] = Z.imag
    rec["istft_y"] = istft(Z, 64, 16, 180)

    # log-mel: 0.5 s at 22050 Hz of two sines and a chirp, n_fft 2048, hop 512, 128 mels, power 2, dB top 80
    # (the signal is a formula the C test recomputes: x[i] = float32 of the float64 value)
    t = np.arange(11025) / 22050.0
    y = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3000 * t)
         + 0.05 * np.sin(2 * np.pi * (100 * t + 4000 * t * t))).astype(np.float32)
    P = np.abs(stft(y.astype(np.float64), 2048, 512)) ** 2
    rec["logmel_db"] = power_to_db(P @ full.astype(np.float64).T)

    # semitone filterbank, Kelz et al. 2016 settings (44.1 kHz, 4096, 48/oct, 27.5..8000 Hz)
    st, ln, pk, wt = log_filterbank(44100, 4096, 48, 27.5, 8000.0)
    rec["semi_start"] = st
    rec["semi_len"] = ln
    rec["semi_peak"] = pk
    rec["semi_w"] = wt
    golden_io.write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "audio.txt"), rec)
    print("semitone bins:", len(st))


if __name__ == "__main__":
    main()
