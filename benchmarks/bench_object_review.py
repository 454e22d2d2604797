"""Find objects to check: do its orders put the default model's mistakes first?

    python benchmarks/bench_object_review.py [--data ../shared/data] [--write]

The bundled default model labels the held-out side of each development data set (the
product path, as ``bench_accuracy.py``); a predicted object is a mistake when no reference
object matches it at IoU >= 0.5 (a fragment, a merge, a false object). Each of the panel's
orders (``app.object_review``) ranks the predicted objects; the figure is the share of
mistakes among the first 10 and the first 20 it shows, against the share among all objects
(what going through them in any order finds). Images of a set are pooled: each image is
ranked on its own and its first N taken, as a user steps through one image at a time.
HeLa: objects touching the image edge are left out on both sides (the reference leaves most
of them out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "resources" / "models" / "recipes"))
import default_data  # noqa: E402

SETS = ("hela", "hoechst", "stardist_3d")
FIRST = (10, 20)


def mistakes(pred: np.ndarray, true: np.ndarray) -> dict[int, bool]:
    """{predicted id: no reference object matches it at IoU >= 0.5}."""
    from unet_studio.models.metrics import match, object_overlaps

    ids = np.unique(pred)[1:]
    matched, _, _ = match(object_overlaps(pred, true), 0.5)
    good = set(ids[matched].tolist())
    return {int(i): int(i) not in good for i in ids}


def ranked(pred: np.ndarray, axes: str, order: str) -> list[int]:
    from unet_studio.app.measure import iter_measure
    from unet_studio.app.object_review import ObjectQueue
    from unet_studio.models.generators import drain

    rows = drain(iter_measure(pred, axes=axes))
    return [entry.label for entry in ObjectQueue(rows, axes, order).entries]


def main() -> None:
    import torch

    from unet_studio.app.object_review import ORDERS
    from unet_studio.models.inference import predict_image
    from unet_studio.models.weights import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(default_data.DEFAULT_DATA_DIR))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    net = load_model(ROOT / "resources" / "models" / "default")
    header = ["| held-out data | objects | mistakes among all | order | mistakes in the first 10 "
              "| in the first 20 |", "|---|---|---|---|---|---|"]
    rows = []
    for name in SETS:
        data = default_data.load_set(name, "test", Path(args.data))
        flags, firsts = {}, {order: {n: [] for n in FIRST} for order in ORDERS}
        for index, (image, true) in enumerate(zip(data.images, data.labels)):
            scale = {"scale": dict(zip("ZYX", data.sampling))} if data.axes == "ZYX" else {}
            pred = np.asarray(predict_image(net, image, axes=data.axes, task=net.task,
                                            output_type="labels", device="cpu", **scale))
            if data.ignore_edge_objects:
                from bench_accuracy import drop_edge_objects

                pred, true = drop_edge_objects(pred), drop_edge_objects(true)
            wrong = mistakes(pred, true)
            flags.update({(index, i): w for i, w in wrong.items()})
            for order in ORDERS:
                ranking = [i for i in ranked(pred, data.axes, order) if i in wrong]
                for n in FIRST:
                    firsts[order][n] += [wrong[i] for i in ranking[:n]]
        base = float(np.mean(list(flags.values())))
        for order in ORDERS:
            shares = [100 * float(np.mean(firsts[order][n])) for n in FIRST]
            rows.append(f"| {data.description} | {len(flags)} | {100 * base:.0f} % | {order} "
                        f"| {shares[0]:.0f} % | {shares[1]:.0f} % |")
            print(rows[-1], flush=True)
    if args.write:
        write_result("object_review", "Find objects to check: the default model's mistakes first?",
                     "\n".join(header + rows))


if __name__ == "__main__":
    main()
