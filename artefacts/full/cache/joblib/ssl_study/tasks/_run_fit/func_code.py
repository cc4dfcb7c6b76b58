# first line: 197
def _run_fit(fit: Fit, code: str, paths: dict) -> dict:
    """Train and score one `Fit` (``paths`` says where the split, the encoders and the cache are; not part of the key)."""
    models.import_keras()  # first, so that the backend's start-up chatter stays out of the worker's output
    _check_code(code, fit_code())
    d = _inputs(paths["split"], fit.data, fit.split)
    subset = nested_subsets(d["y_labelled"], [fit.n_labels], fit.seed)[0]
    official = _official_test(paths["split"])
    if fit.kind in FROZEN_KINDS:  # every label of the subset; the setting is chosen by cross-validation on it
        features = _features(paths["split"], fit.data, fit.split, paths["encoders"].get(fit.encoder), fit.encoder)
        model, record = train_frozen(fit.kind, features["labelled"][subset], d["y_labelled"][subset], fit.seed)
        return _result(fit, record, evaluate(model, features["test"], d["y_test"]), official, len(d["y_labelled"]))
    # every label of the subset is trained on, for the fixed schedule of `epochs_for` (nothing is held out)
    args = (d["x_labelled"][subset], d["y_labelled"][subset], fit.epochs, fit.batch_size, fit.seed, fit.recipe)
    head = None
    if fit.kind == "supervised":
        model, record = train_supervised(*args)
    elif fit.kind == "probe":
        model, record = train_probe(_encoder_weights(paths, fit.encoder), *args)
        head = model.get_layer("softmax").get_weights()
    elif fit.kind == "finetune":  # from the probe of the same encoder, amount and seed (computed once, cached)
        probe = _cached(_run_fit, paths["cache"])(replace(fit, kind="probe"), code, paths)
        model, record = train_supervised(*args, _encoder_weights(paths, fit.encoder), probe["head"])
    else:
        raise ValueError(f"unknown kind of fit {fit.kind!r}")
    scores = evaluate(model, d["x_test"], d["y_test"])
    return {**_result(fit, record, scores, official, len(d["y_labelled"])), "head": head}
