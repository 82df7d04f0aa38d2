"""Train the digits MLP and CNN with the library for three seeds each; print test accuracy and time.

OPENBLAS_NUM_THREADS=1 python experiments/run_digits.py
"""

import numpy as np

from experiments.digits import train_digits


def main() -> None:
    for kind in ("mlp", "cnn"):
        runs = [train_digits(kind, seed) for seed in (0, 1, 2)]
        accs = [r["test_acc"] for r in runs]
        for r in runs:
            print(
                f"{kind} seed {r['seed']}: test {r['test_acc']:.4f}  val {r['val_acc']:.4f}  "
                f"{r['epochs']} epochs in {r['seconds']:.1f} s"
            )
        print(
            f"{kind}: mean test accuracy {np.mean(accs):.4f} over 3 seeds, "
            f"max training time {max(r['seconds'] for r in runs):.1f} s"
        )


if __name__ == "__main__":
    main()
