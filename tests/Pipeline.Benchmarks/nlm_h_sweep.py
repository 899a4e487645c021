# How UnbiasedNonLocalMeans.DefaultHOverSigma was chosen: scikit-image NLM (patch 5, distance 6, true sigma) +
# Rician bias correction on the Colin27 ch2better VALIDATION slices (70-80 %), never the protocol's test slices.
# Run: /usr/bin/python3 tests/Pipeline.Benchmarks/nlm_h_sweep.py   (Debian python3-skimage, mricron-data; ~3 min)
import gzip, struct
import numpy as np
from skimage.restoration import denoise_nl_means
from skimage.metrics import peak_signal_noise_ratio as psnr, structural_similarity

R = 4095.0
def ssim_(a, b): return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=R)
def read(path='/usr/share/mricron/templates/ch2better.nii.gz'):
    b = gzip.open(path).read()
    nx, ny, nz = struct.unpack('<8h', b[40:56])[1:4]
    off = int(struct.unpack('<f', b[108:112])[0])
    return np.frombuffer(b, np.uint8, nx * ny * nz, off).reshape(nz, ny, nx).astype(np.float64)

v = read(); nz = v.shape[0]
a = int(nz*0.7); b = a + int(nz*0.1)
idx = list(range(a, b, 3))[:10]
thr = 0.1*np.percentile(v[v > 0], 99.5); p = np.percentile(v[v > thr], 99.5)
rng = np.random.default_rng(7)
res = {}
for frac in (0.3, 0.9):
    clean = [np.round(v[k]*frac*R/p) for k in idx]
    for level in (0.05, 0.10, 0.15, 0.20):
        s = level*R
        noisy = [np.sqrt((c + s*rng.standard_normal(c.shape))**2 + (s*rng.standard_normal(c.shape))**2) for c in clean]
        for hf in (0.5, 0.6, 0.7, 0.8, 1.0):
            ps = []; ss = []
            for c, n in zip(clean, noisy):
                d = denoise_nl_means(n, patch_size=5, patch_distance=6, h=hf*s, sigma=s, fast_mode=True, preserve_range=True)
                d = np.sqrt(np.maximum(d*d - 2*s*s, 0)); ps.append(psnr(c, d, data_range=R)); ss.append(ssim_(c, d))
            res.setdefault(hf, []).append((np.mean(ps), np.mean(ss)))
            print(frac, level, hf, round(np.mean(ps), 2), round(np.mean(ss), 4), flush=True)
for hf, r in res.items(): print('h/sigma', hf, 'mean PSNR', round(np.mean([x[0] for x in r]), 3), 'mean SSIM', round(np.mean([x[1] for x in r]), 4))
