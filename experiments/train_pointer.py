"""Train pointer networks on sorting, convex hulls and TSP-5/10 and print the learning bars (lecture 003).

    python experiments/train_pointer.py                 # every task at the full budget (one CPU core)
    python experiments/train_pointer.py --task tsp10    # one task
    python experiments/train_pointer.py --quick         # the reduced budget of the slow tests
    python experiments/train_pointer.py --cache-dir DIR # keep the solved TSP pools in DIR for the next run

Every number is measured on fixed, seeded test sets: 1000 sorting lists, 1000 hull instances and the
shipped TSP test sets (``course/data/tsp_test.npz``, optimal tours by Held-Karp). Beam search keeps only
valid outputs; for TSP the shortest tour among the beams is taken, for the other tasks the most probable
beam. Set OPENBLAS_NUM_THREADS=1 to reproduce the single-core timings.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course.data.combinatorial import (
    batch_sampler,
    closed_polygon_area,
    hull_area_coverage,
    hull_dataset,
    load_tsp_test,
    nearest_neighbour_tour,
    random_tour,
    sorting_dataset,
    tour_length,
    tsp_dataset,
)
from course.models.pointer import PointerNetwork, fit_pointer_network

# task -> (n, hidden size, batch, steps at full budget, steps with --quick, learning rate)
CONFIGS = {
    "sort": (5, 32, 128, 1000, 300, 3e-3),
    "hull": (10, 128, 128, 4000, 400, 2e-3),
    "tsp5": (5, 128, 128, 1500, 400, 1e-3),
    "tsp10": (10, 128, 128, 3000, 300, 1e-3),
}
TSP_POOL = {5: 50_000, 10: 100_000}  # solved instances (kept in --cache-dir if given), augmented in training
QUICK_HIDDEN, QUICK_POOL = 64, 5000  # --quick: the models and pools of tests/test_pointer.py's slow tests
BARS = {"sort": ">= 0.90 exact", "hull": ">= 0.99 coverage", "tsp5": "<= 2.14", "tsp10": "<= 2.95"}


def beam_best_tours(model: PointerNetwork, points: np.ndarray, width: int) -> np.ndarray:
    """The shortest valid tour among the ``width`` beams of each instance: (B, n, 2) -> (B, n)."""
    B, n = points.shape[:2]
    seqs, scores = model.beam(points.astype(np.float32), width)
    lengths = tour_length(np.repeat(points, width, axis=0), seqs.reshape(-1, n)).reshape(B, width)
    lengths[~np.isfinite(scores)] = np.inf
    return seqs[np.arange(B), np.argmin(lengths, axis=1)]


def beam_largest_polygons(model: PointerNetwork, x: np.ndarray, width: int) -> np.ndarray:
    """Among the beams of each instance, the valid (simple, closed) polygon of largest area.

    Every simple polygon on the points lies inside their hull, so the largest one is the best guess (the
    hull's twin of taking the shortest tour); it reads only the inputs. (B, n, 2) -> (B, n + 1).
    """
    seqs, scores = model.beam(x.astype(np.float32), width)
    B = len(x)
    areas = np.stack([closed_polygon_area(x, seqs[:, k]) for k in range(width)], axis=1)  # (B, K)
    areas[~np.isfinite(scores)] = -1.0
    return seqs[np.arange(B), np.argmax(areas, axis=1)]


def evaluate(task: str, model: PointerNetwork, width: int) -> dict[str, float]:
    """The task's metrics on its fixed test set, greedy and with beam search."""
    n = CONFIGS[task][0]
    if task == "sort":
        x, targets = sorting_dataset(1000, n, np.random.default_rng(12345))
        x = x.astype(np.float32)
        metrics = {
            "greedy exact": float((model.greedy(x) == targets).all(axis=1).mean()),
            f"beam{width} exact": float((model.beam(x, width)[0][:, 0] == targets).all(axis=1).mean()),
        }
        for other in (3, 4, 6, 8, 10):  # the same network on lengths it never saw
            xo, to = sorting_dataset(1000, other, np.random.default_rng(other))
            exact = (model.greedy(xo.astype(np.float32)) == to).all(axis=1)
            metrics[f"greedy exact n={other}"] = float(exact.mean())
        return metrics
    if task == "hull":
        x, targets = hull_dataset(1000, n, np.random.default_rng(12345))
        greedy = model.greedy(x.astype(np.float32))
        beam = model.beam(x.astype(np.float32), width)[0][:, 0]
        largest = beam_largest_polygons(model, x, width)
        return {
            "greedy exact": float((greedy == targets).all(axis=1).mean()),
            "greedy coverage": float(hull_area_coverage(x, greedy, targets).mean()),
            "greedy invalid": float((closed_polygon_area(x, greedy) == 0).mean()),
            f"beam{width} exact": float((beam == targets).all(axis=1).mean()),
            f"beam{width} coverage": float(hull_area_coverage(x, beam, targets).mean()),
            f"beam{width} largest exact": float((largest == targets).all(axis=1).mean()),
            f"beam{width} largest coverage": float(hull_area_coverage(x, largest, targets).mean()),
        }
    points, tours, lengths = load_tsp_test(n)
    return {
        "optimal": float(lengths.mean()),
        "greedy": float(tour_length(points, model.greedy(points.astype(np.float32))).mean()),
        f"beam{width} best": float(tour_length(points, beam_best_tours(model, points, width)).mean()),
        "nearest neighbour": float(tour_length(points, nearest_neighbour_tour(points)).mean()),
        "random": float(tour_length(points, random_tour(points, np.random.default_rng(0))).mean()),
        "greedy exact": float((model.greedy(points.astype(np.float32)) == tours).all(axis=1).mean()),
    }


def run(
    task: str,
    quick: bool,
    width: int,
    seed: int,
    save: str | None = None,
    steps: int | None = None,
    cache_dir: str | None = None,
) -> dict[str, float]:
    n, hidden, batch, full_steps, quick_steps, learning_rate = CONFIGS[task]
    steps = steps or (quick_steps if quick else full_steps)
    if quick:
        hidden = min(hidden, QUICK_HIDDEN)
    rng = np.random.default_rng(seed)
    if task.startswith("tsp"):
        start = time.perf_counter()
        pool_size = QUICK_POOL if quick else TSP_POOL[n]
        pool = tsp_dataset(pool_size, n, seed=1, cache_dir=cache_dir)[:2]
        elapsed = time.perf_counter() - start
        print(f"{task}: {pool_size} solved instances ready in {elapsed:.1f} s")
        sample = batch_sampler("tsp", n, batch, rng, pool=pool)
    else:
        sample = batch_sampler(task, n, batch, rng)
    features = 1 if task == "sort" else 2
    model = PointerNetwork(features, hidden, hidden, hidden, closed=task == "hull", rng=seed)

    def report(step: int, loss: float) -> None:
        if (step + 1) % max(1, steps // 5) == 0:
            elapsed = time.perf_counter() - start
            print(f"  step {step + 1:5d}/{steps}  loss {loss:.4f}  {elapsed:6.1f} s", flush=True)

    start = time.perf_counter()
    fit_pointer_network(model, sample, steps, learning_rate=learning_rate, callback=report)
    train_time = time.perf_counter() - start
    if save:
        np.savez(f"{save}_{task}.npz", **model.state_dict())
    metrics = evaluate(task, model, width)
    print(f"{task}: trained {steps} steps x {batch} in {train_time:.0f} s (H = {hidden}); bar {BARS[task]}")
    for name, value in metrics.items():
        print(f"  {name:>20s}: {value:.4f}")
    return {"train seconds": train_time, **metrics}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", choices=[*CONFIGS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="the reduced budget of the slow tests")
    parser.add_argument("--beam", type=int, default=10, help="beam width")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="override the number of training steps")
    parser.add_argument("--save", default=None, help="save the parameters to SAVE_<task>.npz")
    parser.add_argument(
        "--cache-dir", default=None, help="keep the solved TSP pools in this folder (default: keep nothing)"
    )
    args = parser.parse_args()
    tasks = list(CONFIGS) if args.task == "all" else [args.task]
    for task in tasks:
        run(task, args.quick, args.beam, args.seed, args.save, args.steps, args.cache_dir)


if __name__ == "__main__":
    main()
