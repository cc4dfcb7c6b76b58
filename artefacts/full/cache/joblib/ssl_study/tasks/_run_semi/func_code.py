# first line: 339
def _run_semi(run: SemiRun, code: str, paths: dict) -> dict:
    """Train and score one `SemiRun`: the labels of the subset and the unlabelled **images** go to the training
    function; the unlabelled images' labels are read afterwards, to score the pseudo-labels only."""
    models.import_keras()
    _check_code(code, semi_code())
    d = _inputs(paths["split"], run.data, run.split)
    subset = nested_subsets(d["y_labelled"], [run.n_labels], run.seed)[0]
    x, y = d["x_labelled"][subset], d["y_labelled"][subset]
    x_unlabelled = d["x"][d["split"]["unlabelled"]]
    weights = None if run.encoder is None else _encoder_weights(paths, run.encoder)
    if run.kind == "pseudolabel":
        model, record = semi.train_pseudo_label(x, y, x_unlabelled, run.epochs, run.batch_size, run.seed, run.recipe,
                                                run.settings, weights)
    elif run.kind == "fixmatch":
        model, record = semi.train_fixmatch(x, y, x_unlabelled, run.seed, run.settings, weights)
    else:
        raise ValueError(f"unknown semi-supervised method {run.kind!r}")
    truth = _unlabelled_labels(paths["split"], run.data, run.split)
    record = {**record, "history": _pseudo_label_report(record.pop("rounds"), truth, run.settings.threshold),
              "choice": f"threshold={run.settings.threshold}"}
    scores = evaluate(model, d["x_test"], d["y_test"])
    return {**_result(run, record, scores, _official_test(paths["split"]), len(d["y_labelled"])),
            "weights": model.get_weights()}
