# first line: 297
def _run_pretext_subset(run: SubsetPretextRun, code: str, paths: dict) -> dict:
    """`_run_pretext` on the first ``run.images`` unlabelled images of the seed's order, the training images repeated
    ``run.repeats`` times. (A function of its own, not an option of `_run_pretext`: an edit of that function's source
    would empty the cache of every pretext run.)"""
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
    result = pretrain(pretext, encoder, d["x"][np.tile(train, run.repeats)], d["x"][val], run.seed, run.epochs,
                      monitor=(x_lab[ref], y_lab[ref], x_lab[query], y_lab[query]))
    result.pop("model")
    return {**result, "analysis": {}, "weights": encoder.get_weights(), "train_images": len(train),
            "val_images": len(val)}
