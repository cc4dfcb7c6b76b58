"""The compute layer: what trains and scores, knowing nothing of the study's design or of how results are shown.

artefacts (side-cars and lineage) · data (the course's PNGs, checked, decoded once) · split (labelled / unlabelled /
test, nested label subsets) · models (the CNN, its encoder, the augmenter) · training (the shared recipe, probe,
frozen-feature classifiers) · the units, one module and one registry line each: ``fits/`` (kinds of fit),
``pretexts/`` (pretext tasks), ``semi/`` (semi-supervised methods); plugins (units from outside the package).
"""
