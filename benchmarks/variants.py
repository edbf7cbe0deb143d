"""Each autoencoder variant doing its job on MNIST.

A plain script: settings at the top, one result line per measurement,
results in benchmarks/results/variants.{json,md} and variants.png (``--quick``:
``variants_quick.*``; ``--out DIR``: in DIR).

    python benchmarks/variants.py            # full run (~6 min on 2 idle CPU cores)
    python benchmarks/variants.py --quick    # smoke run (~10 s)
    python benchmarks/variants.py --mnist PATH --threads N   # other data, threads

The full run trains on a subset of the training set (N_TRAIN images) for a
few epochs, except the VAE, which sees all 60,000 images; every figure is
measured on the full 10,000-image test set.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the skae of this checkout, not an installed one

from defaults import commit  # noqa: E402

from skae import (  # noqa: E402
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)
from skae._penalties import jacobian_frobenius_sq  # noqa: E402

# ---------------------------------------------------------------- settings
MNIST = ROOT / ".." / "shared" / "data" / "mnist.npz"
SEED = 0
N_TRAIN = 20_000  # training subset for the deterministic autoencoders
EPOCHS = 10  # epochs for the deterministic autoencoders
BATCH_SIZE = 100
LEARNING_RATE = 1e-3
N_COMPONENTS = 32  # code size shared by the compared models
HIDDEN = (256,)
NOISE_LEVEL = 0.3  # masking noise of the denoising comparison
SPARSITY_TARGET = 0.1
# Weight 0.3 only brought the mean activation to 0.14 in 10 epochs; 1.0 to
# 0.11 and 3.0 to the target (measured while choosing it).
SPARSITY_WEIGHT = 3.0
# L1 on a ReLU code trades zeros for reconstruction: a sweep shows the
# trade-off, and the target is checked at the largest weight whose test
# error stays within MAX_ERROR_INCREASE of the unregularised model's.
ACTIVITY_L1_WEIGHTS = (0.001, 0.003, 0.01)
MAX_ERROR_INCREASE = 1.10
CONTRACTIVE_WEIGHT = 3e-4
# The one-layer sigmoid (contractive) autoencoders train slowly at
# LEARNING_RATE: they get 10x that rate and twice the epochs (both models).
CONTRACTIVE_LEARNING_RATE = 0.01
VAE_HIDDEN = (500,)
VAE_LATENT = 20
VAE_EPOCHS = 30  # on all 60,000 training images, dynamically binarised
CONV_CHANNELS = (16, 32)
QUICK = dict(N_TRAIN=2000, EPOCHS=2, VAE_EPOCHS=2, N_TEST=1000)
# One torch thread by default: on the shared 2-core machine, two threads
# stalled each other under contention (epochs 2-30x slower, erratic).
THREADS = 1
RESULTS = ROOT / "benchmarks" / "results"


def load_mnist(path, n_test=None):
    with np.load(path) as data:
        x_train = data["x_train"].reshape(-1, 784).astype(np.float32) / 255
        x_test = data["x_test"].reshape(-1, 784).astype(np.float32) / 255
    return x_train, x_test[:n_test]


def timed(fn):
    tic = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - tic


def mse(a, b):
    return float(np.mean((a - b) ** 2))


def report(results, section, **values):
    results.setdefault(section, {}).update(values)
    shown = ", ".join(
        f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
    )
    print(f"{section}: {shown}", flush=True)


def mlp_settings(**extra):
    settings = dict(
        n_components=N_COMPONENTS,
        hidden_layer_sizes=HIDDEN,
        output_activation="sigmoid",
        loss="bce",
        batch_size=BATCH_SIZE,
        learning_rate_init=LEARNING_RATE,
        max_iter=EPOCHS,
        random_state=SEED,
    )
    return {**settings, **extra}


def mean_jacobian_norm(model, X):
    # ||J(x)||_F per test image, averaged (computed in chunks, float32).
    norms = []
    for start in range(0, len(X), 1000):
        x = torch.from_numpy(X[start : start + 1000])
        with torch.no_grad():
            norms.append(jacobian_frobenius_sq(model.module_, x).sqrt())
    return float(torch.cat(norms).mean())


def bench_denoising(results, X, X_test, rng):
    noisy = X_test * (rng.random(X_test.shape) >= NOISE_LEVEL).astype(np.float32)
    dae, t_dae = timed(
        lambda: DenoisingAutoencoder(noise_level=NOISE_LEVEL, **mlp_settings()).fit(X)
    )
    ae, t_ae = timed(lambda: AutoencoderTransformer(**mlp_settings()).fit(X))
    pca = PCA(N_COMPONENTS, random_state=SEED).fit(X)
    report(
        results,
        "denoising",
        noisy_input_mse=mse(noisy, X_test),
        dae_mse=mse(dae.denoise(noisy), X_test),
        ae_mse=mse(ae.inverse_transform(ae.transform(noisy)), X_test),
        pca_mse=mse(pca.inverse_transform(pca.transform(noisy)), X_test),
        dae_clean_input_mse=mse(dae.denoise(X_test), X_test),
        ae_clean_input_mse=mse(ae.inverse_transform(ae.transform(X_test)), X_test),
        dae_fit_s=t_dae,
        ae_fit_s=t_ae,
    )
    return noisy, dae


def bench_sparse(results, X, X_test):
    sig = dict(code_activation="logistic")
    plain, t_plain = timed(lambda: AutoencoderTransformer(**mlp_settings(**sig)).fit(X))
    kl, t_kl = timed(
        lambda: AutoencoderTransformer(
            **mlp_settings(**sig, sparsity_target=SPARSITY_TARGET, sparsity_weight=SPARSITY_WEIGHT)
        ).fit(X)
    )
    plain_mse, kl_mse = -plain.score(X_test), -kl.score(X_test)
    report(
        results,
        "sparse_kl",
        sparsity_target=SPARSITY_TARGET,
        sparsity_weight=SPARSITY_WEIGHT,
        plain_mean_activation=float(plain.transform(X_test).mean()),
        sparse_mean_activation=float(kl.transform(X_test).mean()),
        plain_mse=plain_mse,
        sparse_mse=kl_mse,
        mse_ratio=kl_mse / plain_mse,
        plain_fit_s=t_plain,
        sparse_fit_s=t_kl,
    )
    relu = dict(code_activation="relu")
    plain, _ = timed(lambda: AutoencoderTransformer(**mlp_settings(**relu)).fit(X))
    plain_mse = -plain.score(X_test)
    plain_zeros = float(np.mean(plain.transform(X_test) < 1e-3))
    sweep = []
    for weight in ACTIVITY_L1_WEIGHTS:
        l1, t_l1 = timed(
            lambda w=weight: AutoencoderTransformer(**mlp_settings(**relu, activity_l1=w)).fit(X)
        )
        l1_mse = -l1.score(X_test)
        sweep.append(
            dict(
                activity_l1=weight,
                sparse_fraction_zero=float(np.mean(l1.transform(X_test) < 1e-3)),
                sparse_mse=l1_mse,
                mse_ratio=l1_mse / plain_mse,
                sparse_fit_s=t_l1,
            )
        )
        print(f"sparse_l1 sweep: {sweep[-1]}", flush=True)
    within = [row for row in sweep if row["mse_ratio"] <= MAX_ERROR_INCREASE]
    chosen = max(within, key=lambda row: row["activity_l1"]) if within else sweep[0]
    report(
        results,
        "sparse_l1",
        plain_fraction_zero=plain_zeros,
        plain_mse=plain_mse,
        max_error_increase=MAX_ERROR_INCREASE,
        **chosen,
    )
    results["sparse_l1"]["sweep"] = sweep


def bench_contractive(results, X, X_test):
    # The classic CAE: one sigmoid layer, closed-form Jacobian penalty.
    one_layer = dict(
        hidden_layer_sizes=(),
        code_activation="logistic",
        learning_rate_init=CONTRACTIVE_LEARNING_RATE,
        max_iter=2 * EPOCHS,
    )
    plain, t_plain = timed(lambda: AutoencoderTransformer(**mlp_settings(**one_layer)).fit(X))
    cae, t_cae = timed(
        lambda: AutoencoderTransformer(
            **mlp_settings(**one_layer, contractive_weight=CONTRACTIVE_WEIGHT)
        ).fit(X)
    )
    plain_mse, cae_mse = -plain.score(X_test), -cae.score(X_test)
    report(
        results,
        "contractive",
        contractive_weight=CONTRACTIVE_WEIGHT,
        plain_jacobian_norm=mean_jacobian_norm(plain, X_test),
        cae_jacobian_norm=mean_jacobian_norm(cae, X_test),
        plain_mse=plain_mse,
        cae_mse=cae_mse,
        mse_ratio=cae_mse / plain_mse,
        plain_fit_s=t_plain,
        cae_fit_s=t_cae,
    )


def bench_vae(results, X_full, X_test, rng, vae_epochs):
    vae = VariationalAutoencoder(
        n_components=VAE_LATENT,
        hidden_layer_sizes=VAE_HIDDEN,
        activation="relu",
        output_activation="sigmoid",
        loss="bce",
        batch_size=BATCH_SIZE,
        learning_rate_init=LEARNING_RATE,
        random_state=SEED,
    )
    tic = time.perf_counter()
    # Dynamic binarisation: every epoch sees a fresh Bernoulli draw of each
    # image (pixel intensities as probabilities); partial_fit = one epoch.
    for _ in range(vae_epochs):
        vae.partial_fit((rng.random(X_full.shape) < X_full).astype(np.float32))
    fit_s = time.perf_counter() - tic
    # The test set is binarised once, with a fixed seed.
    X_test_bin = (np.random.default_rng(123).random(X_test.shape) < X_test).astype(np.float32)
    samples = vae.sample(16, random_state=SEED)
    report(
        results,
        "vae",
        latent=VAE_LATENT,
        hidden=list(VAE_HIDDEN),
        epochs=vae.n_iter_,
        train_images=len(X_full),
        test_elbo_nats=vae.score(X_test_bin),
        last_train_loss=vae.loss_curve_[-1],
        sample_shape=list(samples.shape),
        fit_s=fit_s,
    )
    return samples


def bench_conv(results, X, X_test):
    mlp, t_mlp = timed(lambda: AutoencoderTransformer(**mlp_settings()).fit(X))
    conv_settings = mlp_settings(
        architecture="conv",
        image_shape=(1, 28, 28),
        conv_channels=CONV_CHANNELS,
        hidden_layer_sizes=(),
    )
    conv, t_conv = timed(lambda: AutoencoderTransformer(**conv_settings).fit(X))
    unpool, t_unpool = timed(
        lambda: AutoencoderTransformer(**dict(conv_settings, unpooling="max")).fit(X)
    )
    report(
        results,
        "convolutional",
        n_components=N_COMPONENTS,
        mlp_hidden=list(HIDDEN),
        conv_channels=list(CONV_CHANNELS),
        mlp_test_mse=-mlp.score(X_test),
        conv_nearest_test_mse=-conv.score(X_test),
        conv_maxunpool_test_mse=-unpool.score(X_test),
        mlp_params=sum(p.numel() for p in mlp.module_.parameters()),
        conv_params=sum(p.numel() for p in conv.module_.parameters()),
        mlp_fit_s=t_mlp,
        conv_nearest_fit_s=t_conv,
        conv_maxunpool_fit_s=t_unpool,
    )


def save_figure(path, X_test, noisy, dae, samples):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no figure")
        return
    rows = [X_test[:8], noisy[:8], dae.denoise(noisy[:8]), samples[:8], samples[8:16]]
    titles = ["clean", "30% masked", "denoised", "VAE samples", ""]
    fig, axes = plt.subplots(len(rows), 8, figsize=(8, len(rows) * 1.1))
    for r, (row, title) in enumerate(zip(rows, titles, strict=True)):
        for c in range(8):
            axes[r, c].imshow(row[c].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_markdown(path, results, command, total_s):
    d, kl, l1 = results["denoising"], results["sparse_kl"], results["sparse_l1"]
    c, v, cv = results["contractive"], results["vae"], results["convolutional"]
    lines = [
        f"Command: `{command}` ({total_s / 60:.1f} min; {results['settings']})",
        "",
        f"Run of {results['date']} at commit {results['commit']}; load average (1, 5, 15 "
        f"min): start {results['loadavg_start']}, end {results['loadavg_end']}.",
        "",
        "| variant | measure | regularised / variant | baseline | baseline is |",
        "|---|---|---|---|---|",
        f"| denoising | test MSE to clean images, 30% masked input | {d['dae_mse']:.4f} "
        f"| {d['ae_mse']:.4f} / {d['pca_mse']:.4f} | plain AE / PCA (same size) |",
        f"| sparse (KL, target {kl['sparsity_target']}) | mean code activation "
        f"| {kl['sparse_mean_activation']:.3f} | {kl['plain_mean_activation']:.3f} "
        "| same AE, no penalty |",
        f"| sparse (KL) | test MSE | {kl['sparse_mse']:.4f} ({kl['mse_ratio']:.2f}x) "
        f"| {kl['plain_mse']:.4f} | same AE, no penalty |",
        f"| sparse (L1 {l1['activity_l1']}, relu code) | fraction of code < 1e-3 "
        f"| {l1['sparse_fraction_zero']:.3f} | {l1['plain_fraction_zero']:.3f} "
        "| same AE, no penalty |",
        f"| sparse (L1) | test MSE | {l1['sparse_mse']:.4f} ({l1['mse_ratio']:.2f}x) "
        f"| {l1['plain_mse']:.4f} | same AE, no penalty |",
        f"| contractive ({c['contractive_weight']}) | mean test ‖J‖_F "
        f"| {c['cae_jacobian_norm']:.3f} | {c['plain_jacobian_norm']:.3f} "
        "| same one-layer sigmoid AE |",
        f"| contractive | test MSE | {c['cae_mse']:.4f} ({c['mse_ratio']:.2f}x) "
        f"| {c['plain_mse']:.4f} | same one-layer sigmoid AE |",
        f"| VAE | test ELBO (nats/image) | {v['test_elbo_nats']:.2f} | -87 to -89 "
        "| literature, ~1000s of epochs |",
        f"| convolutional | test MSE, code {cv['n_components']} | nearest "
        f"{cv['conv_nearest_test_mse']:.4f}, max-unpool {cv['conv_maxunpool_test_mse']:.4f} "
        f"| {cv['mlp_test_mse']:.4f} | MLP AE {tuple(cv['mlp_hidden'])} |",
        "",
        f"L1 sweep (ReLU code; the row above is the largest weight within "
        f"{l1['max_error_increase']:.2f}x of the unregularised test MSE):",
        "",
        "| activity_l1 | fraction of code < 1e-3 | test MSE | vs no penalty |",
        "|---:|---:|---:|---:|",
        f"| 0 | {l1['plain_fraction_zero']:.3f} | {l1['plain_mse']:.4f} | 1.00x |",
        *(
            f"| {row['activity_l1']} | {row['sparse_fraction_zero']:.3f} "
            f"| {row['sparse_mse']:.4f} | {row['mse_ratio']:.2f}x |"
            for row in l1["sweep"]
        ),
        "",
    ]
    path.write_text("\n".join(lines))


def main():
    global N_TRAIN, EPOCHS, VAE_EPOCHS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=str(MNIST), help="path to mnist.npz")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch threads")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_test = None
    if args.quick:
        N_TRAIN, EPOCHS, VAE_EPOCHS, n_test = (
            QUICK[k] for k in ("N_TRAIN", "EPOCHS", "VAE_EPOCHS", "N_TEST")
        )
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs on purpose
    command = " ".join(["python benchmarks/variants.py", *sys.argv[1:]])
    tic = time.perf_counter()
    x_train, X_test = load_mnist(args.mnist, n_test)
    rng = np.random.default_rng(SEED)
    X = x_train[rng.permutation(len(x_train))[:N_TRAIN]]
    X_vae = x_train[:N_TRAIN] if args.quick else x_train
    results = {
        "settings": (
            f"{N_TRAIN} training images, {EPOCHS} epochs, code {N_COMPONENTS}, "
            f"{len(X_test)} test images; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads"
        ),
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    print(results["settings"], flush=True)
    # Warm-up: the first fit pays for torch's lazy initialisation.
    AutoencoderTransformer(**mlp_settings(max_iter=1)).fit(X[:500])
    noisy, dae = bench_denoising(results, X, X_test, rng)
    bench_sparse(results, X, X_test)
    bench_contractive(results, X, X_test)
    samples = bench_vae(results, X_vae, X_test, rng, VAE_EPOCHS)
    bench_conv(results, X, X_test)
    total_s = time.perf_counter() - tic
    results["total_s"] = total_s
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["command"] = command
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (args.out / f"variants{suffix}.json").write_text(json.dumps(results, indent=2))
    write_markdown(args.out / f"variants{suffix}.md", results, command, total_s)
    save_figure(args.out / f"variants{suffix}.png", X_test, noisy, dae, samples)
    print(f"total {total_s:.0f}s; results in {args.out}/variants{suffix}.*")
    print(f"reproduce with: {command}")


if __name__ == "__main__":
    main()
