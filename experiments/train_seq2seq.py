"""Train attention seq2seq models on the toy tasks and print the learning bars (lecture 003).

    python experiments/train_seq2seq.py                    # reversal and dates, 5-minute budget each
    python experiments/train_seq2seq.py --task sorting     # one task (reversal, sorting, addition, dates)
    python experiments/train_seq2seq.py --quick            # the reduced budget of the slow tests (500 steps)

Bar: >= 99% exact match on held-out pairs (sources never seen in training) within 5 minutes of wall
time on one CPU core (set OPENBLAS_NUM_THREADS=1 to reproduce). Training stops early once the
validation exact match reaches the stopping level; the reported time includes the periodic
validation. The test set is separate from the validation set, and both exclude training sources.
Greedy decoding is compared with beam search of widths 3 and 5 on the test set.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course.data.seq_tasks import SOS, TASKS, encode_pairs, make_task
from course.models.seq2seq import Seq2Seq, exact_match, train_seq2seq

BAR = 0.99
QUICK_STEPS, QUICK_FINAL_LR = 500, 1e-3
# task -> (training pairs, max steps, learning rate at the start and at max steps)
CONFIGS = {
    "reversal": (20_000, 4000, 3e-3, 3e-4),
    "sorting": (20_000, 4000, 3e-3, 3e-4),
    "addition": (50_000, 6000, 3e-3, 3e-4),
    "dates": (20_000, 4000, 3e-3, 3e-4),
}


def held_out(task: str, n: int, seed: int, exclude: set[str]) -> list[tuple[str, str]]:
    """``n`` pairs whose sources are not in ``exclude`` (drawn from a separate seed)."""
    pairs = [p for p in make_task(task, 3 * n, seed).pairs if p[0] not in exclude]
    if len(pairs) < n:
        raise RuntimeError(f"held_out: only {len(pairs)} unseen {task} pairs, wanted {n}")
    return pairs[:n]


def run(
    task: str, max_seconds: float, steps: int | None, eval_every: int, stop_at: float, show: bool = False
) -> dict[str, float]:
    n_train, max_steps, lr, final_lr = CONFIGS[task]
    if steps is not None:  # the reduced budget of tests/test_seq2seq.py: its schedule too
        final_lr = QUICK_FINAL_LR
    steps = steps or max_steps
    train_task = make_task(task, n_train, seed=0)
    seen = {s for s, _ in train_task.pairs}
    val_pairs = held_out(task, 500, 1, seen)
    test_pairs = held_out(task, 1000, 2, seen | {s for s, _ in val_pairs})
    vocab = (train_task.src_vocab, train_task.tgt_vocab)
    train, val, test = (encode_pairs(p, *vocab) for p in (train_task.pairs, val_pairs, test_pairs))
    model = Seq2Seq(len(vocab[0]), len(vocab[1]), embed_dim=32, hidden_dim=64, attn_dim=32, rng=0)
    start = time.perf_counter()
    reached: list[float] = []  # wall time when validation first reached the bar

    def callback(step: int, loss: float) -> bool:
        if (step + 1) % eval_every:
            return False
        acc = exact_match(model, val)
        elapsed = time.perf_counter() - start
        print(
            f"  {task:8s} step {step + 1:5d}  {elapsed:6.1f} s  loss {loss:.4f}  val exact {acc:.3f}",
            flush=True,
        )
        if acc >= BAR and not reached:
            reached.append(elapsed)
        return acc >= stop_at

    losses = train_seq2seq(
        model,
        train,
        steps=steps,
        batch_size=64,
        learning_rate=lr,
        final_learning_rate=final_lr,
        rng=0,
        max_seconds=max_seconds,
        callback=callback,
    )
    if show:
        show_attention(model, test_pairs[0][0], *vocab)
    result = {
        "steps": float(len(losses)),
        "train seconds": time.perf_counter() - start,
        "val reached 0.99 at s": reached[0] if reached else float("nan"),
    }
    result["test exact (greedy)"] = exact_match(model, test)
    for width in (3, 5):
        result[f"test exact (beam {width})"] = exact_match(model, test, beam_width=width)
    return result


def show_attention(model: Seq2Seq, source: str, src_vocab, tgt_vocab) -> None:
    """Print the greedy output of one source and, for each output character, where attention looked."""
    enc = encode_pairs([(source, "")], src_vocab, tgt_vocab)
    out = model.greedy(enc.src, enc.src_mask, 16)[0]
    text = tgt_vocab.decode(out)
    tgt_in = np.array([[SOS, *tgt_vocab.encode(text)]])
    attn = model.attention_maps(enc.src, enc.src_mask, tgt_in)[0]  # (Tt, Ts)
    print(f"  {source!r} -> {text!r}; each output character and the source character it attends to most:")
    for t, ch in enumerate(text + "$"):  # $ marks the end token
        j = int(attn[t].argmax())
        print(f"    {ch} <- {source[j]!r} at {j:2d} (weight {attn[t, j]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--task", choices=TASKS, action="append", help="task to run, repeatable (default: reversal and dates)"
    )
    parser.add_argument("--max-seconds", type=float, default=300.0, help="wall-time budget per task")
    parser.add_argument("--quick", action="store_true", help="500 steps, as in the slow tests")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--show-attention", action="store_true", help="print one test example's alignment")
    parser.add_argument(
        "--stop-at", type=float, default=0.998, help="stop once validation exact match reaches this"
    )
    args = parser.parse_args()
    tasks = args.task or ["reversal", "dates"]
    print(f"bar: test exact match >= {BAR} within {args.max_seconds:.0f} s per task (one core)")
    for task in tasks:
        r = run(
            task,
            args.max_seconds,
            QUICK_STEPS if args.quick else None,
            args.eval_every,
            args.stop_at,
            args.show_attention,
        )
        ok = r["test exact (greedy)"] >= BAR and r["train seconds"] <= args.max_seconds
        verdict = "PASS" if ok else "FAIL"
        print(f"{task}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()) + f"  [{verdict}]", flush=True)


if __name__ == "__main__":
    main()
