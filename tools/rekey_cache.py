"""One-off (issue 27): re-key the committed fit cache from weight hashes to encoder identities, computing nothing.

    MNIST_PNG=... .venv/bin/python tools/rekey_cache.py [--profile full]

Up to this change a task named the encoder it starts from by the sha256 of its weights, and a t-SNE map by the sha256
of the features it maps: floats computed on the machine that ran the notebooks, whose last bits differ on a processor
with other instruction-set extensions. Now an encoder is named by its identity (`ssl_study.keys`): an initial encoder
by `keys.initial_encoder_key`, a pre-trained one by the key of its pretext run; a t-SNE map by what its features are
made from. What each task computes is unchanged (the workers find the same encoder file by another name), so every
entry is moved to its new key with its result as it is:

1. the initial encoders' weight hashes (their side-cars) -> their identities;
2. each pretext run: its ``init`` -> that identity; the hash of its trained weights -> its new key;
3. each fit and semi-supervised run that starts from an encoder: its ``encoder`` -> that encoder's identity (a
   semi-supervised run also gains the field ``images``, None: every unlabelled image, as it used);
4. each t-SNE map: the features of notebook 4's map images are computed again (the encoders as committed) and their
   hash found among the entries; a map whose hash is not found is left to be computed again.

Every old key is checked first (its task and the old versions give it). Afterwards, run the profile once
(``run_study.py``): notebooks 3 and 4 write the identities into the encoders' side-cars, and nothing is computed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ssl_study import keys
from ssl_study.config import NOTEBOOK_ENCODER, NOTEBOOK_PRETEXT, PROFILES
from ssl_study.models import build_encoder, encode, weights_fingerprint
from ssl_study.store import Store

#: the versions of the keys being replaced (`keys.VERSIONS` before this change)
OLD_VERSIONS = {"fit": 2, "pretext": 1, "semi": 2, "tsne": 1}


def old_key(kind: str, task, env: dict) -> str:
    """The key ``task`` had under `OLD_VERSIONS`."""
    versions = {**keys.task_versions(kind, task), "version": OLD_VERSIONS[kind]} if kind != "tsne" else \
        {"version": OLD_VERSIONS[kind]}
    described = keys.plain(task)
    if kind == "semi":  # a field added with the new keys (`SemiRun.images`, None: every unlabelled image, as before)
        described.pop("images")
    material = {"kind": kind, **versions, "task": described, "environment": env}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def move(store: Store, kind: str, key: str, new_key: str, task: dict) -> None:
    """Rewrite the entry ``key`` under ``new_key`` with the task description ``task``; the result and its arrays stay
    as they are."""
    json_path, npz_path = store._paths(kind, key)
    new_json, new_npz = store._paths(kind, new_key)
    entry = json.loads(json_path.read_text())
    entry.update(key=new_key, task=task)
    if npz_path.exists():
        npz_path.rename(new_npz)
    new_json.write_text(json.dumps(entry, indent=1, allow_nan=True) + "\n")
    json_path.unlink()


def side_car(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".meta.json").read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="full", choices=PROFILES)
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    store, env, art = Store(profile.cache), keys.environment(), profile.artefacts
    entries = {kind: [(key, keys.from_plain(store.task(kind, key))) for _, key in store.entries(kind)]
               for kind in ("pretext", "fit", "semi")}
    for kind, pairs in entries.items():
        for key, task in pairs:
            assert old_key(kind, task, env) == key, f"{kind}/{key}: its task and the old versions do not give its key"

    names: dict[str, str] = {}  # old weight hash -> identity
    for path in sorted(art.glob("encoder_init_seed*.weights.h5")):
        meta = side_car(path)
        names[meta["weights"]] = keys.initial_encoder_key(meta["seed"], env)
    moved = {"pretext": 0, "fit": 0, "semi": 0, "tsne": 0}
    for key, run in entries["pretext"]:
        new = replace(run, init=names[run.init])
        new_key = keys.task_key("pretext", new, env)
        names[weights_fingerprint(store.get("pretext", key)["weights"])] = new_key
        move(store, "pretext", key, new_key, keys.plain(new))
        moved["pretext"] += 1
    for kind in ("fit", "semi"):
        for key, task in entries[kind]:
            new = task if task.encoder is None else replace(task, encoder=names[task.encoder])
            move(store, kind, key, keys.task_key(kind, new, env), keys.plain(new))
            moved[kind] += 1

    # notebook 4's maps: the features of the same test images from the same encoders, as its cells compute them
    from ssl_study.study import load_inputs

    inputs = load_inputs(profile, verbose=False)
    rng = np.random.default_rng(0)
    shown = rng.choice(len(inputs.split["test"]), min(profile.map_images, len(inputs.split["test"])), replace=False)
    x_map = inputs.images("test")[shown]
    tsne = {json.loads(store._paths("tsne", key)[0].read_text())["task"]["features"]: key
            for _, key in store.entries("tsne")}
    seed = profile.seeds[0]
    for path in [art / f"encoder_init_seed{seed}.weights.h5",
                 *sorted(p for p in art.glob(f"encoder_*_seed{seed}.weights.h5") if "_init_" not in p.name)]:
        meta = side_car(path)
        if meta["notebook"] not in (NOTEBOOK_ENCODER, NOTEBOOK_PRETEXT) or "_u" in path.name.split("_seed")[0]:
            continue
        encoder = build_encoder()
        encoder.load_weights(path)
        features = np.ascontiguousarray(encode(encoder, x_map))
        digest = hashlib.sha256(f"{features.dtype}{features.shape}".encode() + features.tobytes()).hexdigest()
        if digest in tsne:
            made_from = {"encoder": names[meta["weights"]], "split": inputs.split_fp, "test_images": shown.tolist()}
            move(store, "tsne", tsne.pop(digest), keys.task_key("tsne", made_from, env), keys.plain(made_from))
            moved["tsne"] += 1
        else:
            print(f"{path.name}: its map's features are not those of any cached map; it will be computed again")
    print("moved to their new keys: " + ", ".join(f"{n} {kind}" for kind, n in moved.items()) +
          f"; {len(tsne)} t-SNE entries matched no encoder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
