"""Training: the shared supervised recipe (`fit_classifier`), the budget of a fit, the three ways the study trains
the CNN on a label subset -- from random weights (`train_supervised`), as a linear probe on a frozen encoder
(`train_probe`), and by fine-tuning from the probe (`probe_then_finetune`) -- and the cheap frozen-feature classifiers
(`train_frozen`: k-nearest neighbours and logistic regression, their setting chosen by cross-validation on the label
subset). Notebooks 2 and 5, the experiments and the benchmark all train through these functions."""

from __future__ import annotations

import time

import numpy as np

from ..config import INPUT_SHAPE, N_CLASSES, STEPS_PER_EXECUTION, Recipe
from .models import build_augmenter, build_classifier, build_encoder, build_linear_head, encode, import_keras


def fit_classifier(model, x_train, y_train, epochs: int, batch_size: int, seed: int, learning_rate: float,
                   recipe: Recipe = Recipe()) -> dict:
    """Train ``model`` in place with the shared recipe on **every** image given; return its history and seconds.

    Adam with a cosine-decaying learning rate (from ``learning_rate`` to 1 % of it) over a fixed number of epochs,
    and light random shifts/rotations. Nothing is held out and nothing stops early: the schedule (``epochs``, from
    `epochs_for`) was fixed by the selection experiments on other labelled images (experiments/results/), so a fit
    of 100 labels trains on all 100 instead of picking an epoch on a 10-image validation set. A subset smaller than
    ``recipe.min_epoch_images`` is repeated within an epoch (each repeat augmented afresh), so that tiny subsets still
    get enough optimisation steps. Features (2-D input, for a linear probe) are not augmented.
    """
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    repeats = int(np.ceil(recipe.min_epoch_images / len(x_train)))
    if repeats > 1:  # a small subset: repeat it within the epoch
        x_train, y_train = np.concatenate([x_train] * repeats), np.concatenate([y_train] * repeats)
    if x_train.ndim == 4:  # images: light augmentation, one affine transform per image, on the device
        augment = build_augmenter(recipe.augment, seed=seed, name="light_augment")
        trainer = keras.Sequential([keras.Input(INPUT_SHAPE), augment, model], name="trainer")
    else:  # features (a linear probe on a frozen encoder's cached output): nothing to augment
        trainer = model
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)
    # several steps per call of the compiled training function: less Python overhead per batch
    trainer.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"],
                    steps_per_execution=STEPS_PER_EXECUTION)
    start = time.perf_counter()
    history = trainer.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    return {"history": history.history, "epochs": len(history.history["loss"]),
            "seconds": time.perf_counter() - start}


def evaluate(model, x: np.ndarray, y: np.ndarray) -> dict:
    """Test accuracy, macro-F1, predictions (and which are correct) and confusion matrix of a classifier: a Keras
    model (softmax outputs) or a scikit-learn estimator (on features)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    if hasattr(model, "predict_proba"):  # scikit-learn
        predicted = model.predict(x)
    else:
        predicted = np.argmax(model.predict(x, batch_size=2048, verbose=0), axis=1)
    return {"accuracy": float(accuracy_score(y, predicted)), "macro_f1": float(f1_score(y, predicted, average="macro")),
            "predicted": predicted, "correct": np.asarray(predicted) == np.asarray(y),
            "confusion": confusion_matrix(y, predicted, labels=range(N_CLASSES)).tolist()}


def train_supervised(x_train, y_train, epochs: int, batch_size: int, seed: int, recipe: Recipe = Recipe(),
                     encoder_weights: list | None = None, head_weights: list | None = None) -> tuple[object, dict]:
    """The prescribed CNN, initialised under ``seed``, trained with the shared recipe at ``recipe.learning_rate``;
    or, where ``encoder_weights`` (and ``head_weights``, the Dense layer) are given, fine-tuned from them at
    ``recipe.finetune_learning_rate``. Returns the model and its `fit_classifier` record."""
    model = start_classifier(seed, encoder_weights, head_weights)
    rate = recipe.learning_rate if encoder_weights is None else recipe.finetune_learning_rate
    return model, fit_classifier(model, x_train, y_train, epochs, batch_size, seed, rate, recipe)


def start_classifier(seed: int, encoder_weights: list | None = None, head_weights: list | None = None):
    """The prescribed CNN initialised under ``seed``: random weights, or the given encoder's (and Dense layer's)."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = build_classifier()
    if encoder_weights is not None:
        model.get_layer("encoder").set_weights(encoder_weights)
    if head_weights is not None:
        model.get_layer("softmax").set_weights(head_weights)
    return model


def train_probe(encoder_weights: list, x_train, y_train, epochs: int, batch_size: int, seed: int,
                recipe: Recipe = Recipe()) -> tuple[object, dict]:
    """A linear probe: the Dense(10) layer alone, trained on the frozen encoder's features (computed once, no
    augmentation), with the shared recipe's optimiser, learning rate and schedule.

    Returns the CNN made of the frozen encoder and the trained Dense layer -- it predicts exactly what the probe
    predicts from the features -- and the fit record."""
    keras = import_keras()
    encoder = build_encoder()
    encoder.set_weights(encoder_weights)
    features = encode(encoder, x_train)
    keras.utils.set_random_seed(seed)
    head = build_linear_head(features.shape[1])
    fit = fit_classifier(head, features, y_train, epochs, batch_size, seed, recipe.learning_rate, recipe)
    model = build_classifier(encoder)
    model.get_layer("softmax").set_weights(head.get_weights())
    return model, fit


def probe_then_finetune(encoder_weights: list, x_train, y_train, epochs: int, batch_size: int, seed: int,
                        recipe: Recipe = Recipe()) -> dict:
    """Linear probing, then fine-tuning (Kumar et al., ICLR 2022): the probe of `train_probe`, then every weight
    trained with the supervised recipe (at its fine-tuning learning rate) from the pre-trained encoder **and** the
    probe's Dense layer. A random Dense layer would send large, random gradients into the pre-trained features in the
    first steps; the probe's keeps them. Returns ``{"probe": (model, fit), "finetune": (model, fit)}``."""
    probe, probe_fit = train_probe(encoder_weights, x_train, y_train, epochs, batch_size, seed, recipe)
    finetuned = train_supervised(x_train, y_train, epochs, batch_size, seed, recipe, encoder_weights,
                                 probe.get_layer("softmax").get_weights())
    return {"probe": (probe, probe_fit), "finetune": finetuned}


#: the frozen-feature classifiers and the settings their cross-validation chooses from
FROZEN_GRIDS = {"knn": {"n_neighbors": [1, 3, 5, 10, 20]},  # cosine distance
                "logistic": {"logisticregression__C": [1e-3, 1e-2, 1e-1, 1.0, 10.0]}}  # on standardised features
CV_IMAGES = 2000  #: cross-validation looks at a stratified sample of at most this many images of the subset


def frozen_estimator(kind: str):
    """An untrained frozen-feature classifier: ``knn`` (cosine, brute force) or ``logistic`` (standardised features,
    multinomial logistic regression, L2 penalty)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "knn":
        return KNeighborsClassifier(metric="cosine", algorithm="brute")
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    raise ValueError(f"unknown frozen-feature classifier {kind!r}")


def train_frozen(kind: str, features: np.ndarray, labels: np.ndarray, seed: int) -> tuple[object, dict]:
    """A frozen-feature classifier (`frozen_estimator`) on **every** image of a label subset; its setting (k, or the
    inverse regularisation C) chosen by stratified 5-fold cross-validation on the subset (a stratified sample of at
    most `CV_IMAGES` of it), then refitted on all of it. No other labelled image and no test image is looked at.

    Returns the fitted estimator and a record: the chosen setting, the cross-validated accuracy of each, seconds."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one thread, as every fit: several BLAS pools in one process slow each other tenfold
        return _search_then_fit(kind, features, labels, seed)


def _search_then_fit(kind: str, features: np.ndarray, labels: np.ndarray, seed: int) -> tuple[object, dict]:
    """`train_frozen`'s work: the cross-validated choice of the setting, then the fit on every image."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

    start = time.perf_counter()
    sample = np.arange(len(labels))
    if len(sample) > CV_IMAGES:
        sample = train_test_split(sample, train_size=CV_IMAGES, stratify=labels, random_state=seed)[0]
    folds = int(min(5, np.bincount(labels[sample]).min()))
    grid = dict(FROZEN_GRIDS[kind])
    if kind == "knn":  # at most as many neighbours as a training fold holds of its smallest class x 10
        grid["n_neighbors"] = [k for k in grid["n_neighbors"] if k <= len(sample) * (folds - 1) // folds]
    search = GridSearchCV(frozen_estimator(kind), grid, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    search.fit(features[sample], labels[sample])
    model = frozen_estimator(kind).set_params(**search.best_params_).fit(features, labels)
    (name, value), = search.best_params_.items()
    name = {"n_neighbors": "k"}.get(name, name.rsplit("__", 1)[-1])
    scores = {f"{name}={v}": float(m) for v, m in zip(grid[next(iter(grid))], search.cv_results_["mean_test_score"])}
    return model, {"history": {"cv_accuracy": scores}, "choice": f"{name}={value}", "epochs": 0,
                   "seconds": time.perf_counter() - start}
