# first line: 224
def _run_pretext(run: PretextRun, code: str, paths: dict) -> dict:
    """Train one `PretextRun` from its initial encoder on the unlabelled images; return the trained weights."""
    keras = models.import_keras()
    _check_code(code, pretext_code(run.pretext))
    d = _inputs(paths["split"], run.data, run.split)
    pretext: Pretext = PRETEXTS[run.pretext](run.settings)
    train, val = pretext_indices(d["split"]["unlabelled"], run.images, run.settings.val_fraction, run.seed)
    ref, query = monitor_slice(len(d["y_labelled"]))
    x_lab, y_lab = d["x_labelled"], d["y_labelled"]
    keras.utils.set_random_seed(run.seed)
    encoder = models.build_encoder()
    encoder.set_weights(_encoder_weights(paths, run.init))
    result = pretrain(pretext, encoder, d["x"][train], d["x"][val], run.seed, run.epochs,
                      monitor=(x_lab[ref], y_lab[ref], x_lab[query], y_lab[query]))
    analysis = pretext.analyse(result.pop("model"), x_lab[np.concatenate([ref, query])],
                               y_lab[np.concatenate([ref, query])])
    return {**result, "analysis": analysis, "weights": encoder.get_weights(), "train_images": len(train),
            "val_images": len(val)}
