"""Train the character-level LSTM language model on the shipped Shakespeare and print validation nats/char.

    python experiments/train_charlm.py                        # 300 s on one core (the course's bar: <= 2.0)
    python experiments/train_charlm.py --budget 45 --max-steps 300   # the reduced budget of the slow test
    python experiments/train_charlm.py --cell rnn             # the vanilla RNN instead of the LSTM

The text is split 90/5/5 into contiguous train/validation/test pieces (``course.data.text_splits``);
the vocabulary is every character of the whole text. Alongside the model it prints the best add-k
n-gram baseline on the same split. The last line is machine-readable:
``val_nats=<float> val_bits=<float> steps=<int> seconds=<float>``.

BLAS is limited to one thread (set before NumPy is imported): on small matrices extra threads mostly
wait for each other, and on a shared machine they can make training many times slower.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402  (the thread limits above must precede the NumPy import)

import numpy as np  # noqa: E402

from course.data.text import CharVocab, load_text, text_splits  # noqa: E402
from course.models.charlm import sample, train_charlm  # noqa: E402
from course.models.ngram import ngram_sweep  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training time budget in seconds")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many updates")
    parser.add_argument("--cell", choices=("lstm", "rnn"), default="lstm")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embed", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--k", type=int, default=50, help="truncated-BPTT length")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=None, help="print validation every N updates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true", help="skip the n-gram baseline")
    args = parser.parse_args()

    text = load_text()
    train, val, _ = text_splits(text)
    vocab = CharVocab(text)
    if not args.no_baseline:
        rows = ngram_sweep(vocab.encode(train), vocab.encode(val), vocab.size, ns=(3, 4, 5), ks=(0.1, 0.01))
        best = min(rows, key=lambda row: row["val_nats"])
        print(
            f"best n-gram baseline (n={best['n']}, k={best['k']}): "
            f"{best['val_nats']:.3f} nats/char ({best['val_bits']:.3f} bits)"
        )

    model, history = train_charlm(
        train,
        val,
        vocab,
        cell=args.cell,
        embed_dim=args.embed,
        hidden_dim=args.hidden,
        batch_size=args.batch,
        k=args.k,
        learning_rate=args.lr,
        time_budget_s=args.budget,
        max_steps=args.max_steps,
        eval_every=args.eval_every,
        seed=args.seed,
    )
    for step, nats in history["val"][:-1]:
        print(f"step {step}: val {nats:.3f} nats/char")
    print("sample (temperature 0.8):")
    print(sample(model, "\n", 300, np.random.default_rng(args.seed), temperature=0.8))
    print(
        f"val_nats={history['val_nats']:.4f} val_bits={history['val_bits']:.4f} "
        f"steps={history['steps']} seconds={history['seconds']:.1f}"
    )


if __name__ == "__main__":
    main()
