"""The loader of the course's PNGs: good sources, the cache, and every kind of bad input."""

import io
import os
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import make_tree, pack, png_bytes

import helpers
import ssl_study.compute.data
import ssl_study.compute.sources
from helpers import DataError


def load(source: Path, tmp_path: Path) -> helpers.Mnist:
    return helpers.load_mnist(source, cache_dir=tmp_path / "cache", verbose=False)


def snapshot(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_folder_tar_and_zip_give_the_same_data(tree, tmp_path):
    from_folder = load(tree, tmp_path)
    from_tar = load(pack(tree, tmp_path / "m.tar.gz"), tmp_path)
    from_zip = load(pack(tree, tmp_path / "m.zip"), tmp_path)
    assert from_folder.images.shape == (60, 28, 28) and from_folder.images.dtype == np.uint8
    assert from_folder.fingerprint == from_tar.fingerprint == from_zip.fingerprint
    assert np.bincount(from_folder.labels).tolist() == [6] * 10
    assert sorted(set(from_folder.origin)) == ["testing", "training"]


def test_pixels_and_labels_are_read_faithfully(tmp_path):
    tree = make_tree(tmp_path / "src", per_class=1)
    image = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    (tree / "training" / "7" / "0.png").write_bytes(png_bytes(image))
    mnist = load(tree, tmp_path)
    k = list(mnist.files).index("training/7/0.png")
    assert mnist.labels[k] == 7 and np.array_equal(mnist.images[k], image)


def test_cache_is_used_and_invalidated_by_a_changed_source(tree, tmp_path, monkeypatch):
    archive = pack(tree, tmp_path / "m.tar.gz")
    first = load(archive, tmp_path)
    calls = []
    monkeypatch.setattr(ssl_study.compute.data, "read_source", lambda path: calls.append(path))
    assert load(archive, tmp_path).fingerprint == first.fingerprint and not calls  # served from the cache
    monkeypatch.undo()
    (tree / "training" / "3" / "0.png").write_bytes(png_bytes(np.zeros((28, 28), np.uint8)))
    changed = load(pack(tree, tmp_path / "m.tar.gz"), tmp_path)
    assert changed.fingerprint != first.fingerprint
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_environment_variable_and_default_location(tree, tmp_path, monkeypatch):
    monkeypatch.setenv(helpers.DATA_ENV, str(tree))
    assert helpers.find_source() == tree.resolve()
    monkeypatch.delenv(helpers.DATA_ENV)
    monkeypatch.setattr(ssl_study.compute.data, "DATA_DIR", tmp_path / "empty")
    with pytest.raises(DataError, match="data/mnist_png"):
        helpers.find_source()


def test_missing_source_says_where_to_put_the_data(tmp_path):
    with pytest.raises(DataError, match="MNIST_PNG"):
        load(tmp_path / "nowhere.tar.gz", tmp_path)


def test_folder_without_pngs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="No PNG images"):
        load(tmp_path / "empty", tmp_path)


def test_corrupt_png_is_named(tree, tmp_path):
    bad = tree / "training" / "4" / "1.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(DataError, match=r"training/4/1\.png.*not a readable PNG"):
        load(tree, tmp_path)


def test_jpeg_named_png_is_refused(tree, tmp_path):
    buffer = io.BytesIO()
    from PIL import Image
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(buffer, format="JPEG")
    (tree / "testing" / "2" / "0.png").write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match="JPEG image, not a PNG"):
        load(tree, tmp_path)


def test_non_png_file_in_a_class_folder(tree, tmp_path):
    (tree / "training" / "5" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"notes\.txt is not a \.png"):
        load(tree, tmp_path)


def test_wrong_size_is_refused(tree, tmp_path):
    (tree / "training" / "1" / "0.png").write_bytes(png_bytes(np.zeros((32, 32), np.uint8)))
    with pytest.raises(DataError, match="32x32 pixels"):
        load(tree, tmp_path)


def test_colour_is_converted_and_16_bit_refused(tree, tmp_path):
    rgb = np.zeros((28, 28, 3), np.uint8)
    rgb[..., 0] = 200
    (tree / "training" / "6" / "0.png").write_bytes(png_bytes(rgb, mode="RGB"))
    mnist = load(tree, tmp_path)
    k = list(mnist.files).index("training/6/0.png")
    assert mnist.images[k].max() == round(200 * 299 / 1000)  # ITU-R 601 luma of pure red
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((28, 28), np.uint16)).save(buffer, format="PNG")
    (tree / "training" / "6" / "1.png").write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match="pixel mode"):
        load(tree, tmp_path)


def test_class_folder_that_is_not_a_class_number(tree, tmp_path):
    (tree / "training" / "x").mkdir()
    (tree / "training" / "x" / "0.png").write_bytes(png_bytes(np.zeros((28, 28), np.uint8)))
    with pytest.raises(DataError, match="class folder 'x' is not a class number 0-9"):
        load(tree, tmp_path)


def test_empty_class_folder(tree, tmp_path):
    for file in (tree / "testing" / "8").iterdir():
        file.unlink()
    with pytest.raises(DataError, match=r"testing/8 holds no PNG images"):
        load(tree, tmp_path)


def test_missing_digit(tree, tmp_path):
    for subset in ("training", "testing"):
        for file in (tree / subset / "9").iterdir():
            file.unlink()
        (tree / subset / "9").rmdir()
    with pytest.raises(DataError, match=r"digit\(s\) \[9\]"):
        load(tree, tmp_path)


@pytest.mark.parametrize("name", ["../evil/training/1/0.png", "/abs/training/1/0.png", "mnist_png/../../x.png"])
@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_archive_member_leaving_the_folder_is_refused(tree, tmp_path, name, kind):
    archive = pack(tree, tmp_path / ("m.zip" if kind == "zip" else "m.tar.gz"))
    data = png_bytes(np.zeros((28, 28), np.uint8))
    if kind == "zip":
        with zipfile.ZipFile(archive, "a") as z:
            z.writestr(name, data)
    else:
        rebuilt = tmp_path / "evil.tar"
        with tarfile.open(archive) as src, tarfile.open(rebuilt, "w") as dst:
            for member in src:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
        archive = rebuilt
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match="leaves the archive's folder"):
        load(archive, tmp_path)
    assert snapshot(tmp_path) == before  # nothing written, not even the cache


def test_symlink_member_is_refused(tree, tmp_path):
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as t:
        t.add(tree, arcname="mnist_png")
        info = tarfile.TarInfo("mnist_png/training/1/link.png")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    with pytest.raises(DataError, match="symbolic link or a device, not a file: re-pack"):
        load(archive, tmp_path)


def test_bad_input_writes_nothing(tree, tmp_path):
    (tree / "training" / "1" / "0.png").write_bytes(b"not a png")
    before = snapshot(tmp_path)
    with pytest.raises(DataError):
        load(tree, tmp_path)
    assert snapshot(tmp_path) == before


def test_hidden_files_and_files_outside_the_tree_are_ignored(tree, tmp_path):
    (tree / "README.txt").write_text("course notes")
    (tree / "training" / "3" / ".DS_Store").write_bytes(b"\0\1")
    assert len(load(tree, tmp_path)) == 60


def test_a_tree_without_its_testing_folder_is_refused(tree, tmp_path):
    import shutil

    shutil.rmtree(tree / "testing")
    with pytest.raises(DataError, match="no testing/ images.*70,000"):
        load(tree, tmp_path)


def test_a_tree_with_a_digit_mostly_missing_is_refused(tmp_path):
    tree = make_tree(tmp_path / "src", per_class=10)
    for file in sorted((tree / "training" / "3").glob("*.png"))[2:]:  # 2 of 10 left: a fifth of its usual share
        file.unlink()
    with pytest.raises(DataError, match=r"training/ holds far fewer.*digit 3: 2 of 92"):
        load(tree, tmp_path)


def test_a_smaller_tree_with_the_usual_shares_is_accepted_and_noted(tree, tmp_path, capsys):
    mnist = helpers.load_mnist(tree, cache_dir=tmp_path / "cache", verbose=True)
    assert len(mnist) == 60 and "not the 70,000" in capsys.readouterr().out


def test_a_corrupt_decoded_data_cache_is_decoded_again(tree, tmp_path, capsys):
    first = load(tree, tmp_path)
    (cache,) = (tmp_path / "cache").glob("*.npz")
    cache.write_bytes(b"not a zip file")
    again = helpers.load_mnist(tree, cache_dir=tmp_path / "cache", verbose=True)
    assert again.fingerprint == first.fingerprint and "unreadable or corrupt" in capsys.readouterr().out
    assert load(tree, tmp_path).fingerprint == first.fingerprint  # the cache was replaced by a good one


def test_the_source_is_recorded_without_a_machine_path(tree, tmp_path):
    assert load(tree, tmp_path).source == "mnist_png"


def test_a_folder_unchanged_since_its_last_start_is_not_read_again(tree, tmp_path, monkeypatch):
    monkeypatch.setattr(ssl_study.compute.data, "SETTLED_NS", 0)  # the tree's files are seconds old, not minutes
    first = load(tree, tmp_path)

    def no_read(file):
        raise AssertionError(f"{file} was read again")

    monkeypatch.setattr(ssl_study.compute.sources, "_read_file", no_read)
    assert load(tree, tmp_path).fingerprint == first.fingerprint


def test_a_file_rewritten_with_its_size_and_date_kept_is_noticed(tmp_path, monkeypatch):
    monkeypatch.setattr(ssl_study.compute.data, "SETTLED_NS", 0)
    tree = make_tree(tmp_path / "src", per_class=1)
    file = tree / "training" / "3" / "0.png"
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(50)]
    sizes = {}
    for image in images:  # two images whose PNGs have the same size
        sizes.setdefault(len(png_bytes(image)), []).append(image)
    a, b = next(pair for pair in sizes.values() if len(pair) > 1)[:2]
    file.write_bytes(png_bytes(a))
    first = load(tree, tmp_path)
    assert (tmp_path / "cache" / "mnist-folder.json").exists()
    time.sleep(0.05)
    before = file.stat()
    file.write_bytes(png_bytes(b))
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert file.stat().st_size == before.st_size and file.stat().st_mtime_ns == before.st_mtime_ns
    again = load(tree, tmp_path)
    k = list(again.files).index("training/3/0.png")
    assert again.fingerprint != first.fingerprint and (again.images[k] == b).all()


def test_a_folder_just_written_is_hashed_again_at_the_next_start(tree, tmp_path):
    load(tree, tmp_path)  # its files are younger than SETTLED_NS: a rewrite within a clock tick could look unchanged
    assert not (tmp_path / "cache" / "mnist-folder.json").exists()
