"""The denoise command and the preparation of a user's images (dae.images)."""

import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image, ImageDraw

from dae.images import ImageError, read_grey, to_mnist
from dae.models import build_autoencoder, save_model
from tests.conftest import PROJECT, default_logging
from tests.e2e import model_names
from tools.denoise import same_names


def draw_seven(size=(240, 300), ink="black", paper="white", width=18, mode="RGB"):
    """A hand-drawn-like 7: a bar and a slanted stroke, somewhere off centre."""
    image = Image.new(mode, size, paper)
    w, h = size
    pen = ImageDraw.Draw(image)
    pen.line([(0.30 * w, 0.25 * h), (0.70 * w, 0.22 * h), (0.45 * w, 0.80 * h)], fill=ink, width=width, joint="curve")
    return image


def centre_of_mass(digit):
    rows, columns = np.indices(digit.shape)
    return (rows * digit).sum() / digit.sum(), (columns * digit).sum() / digit.sum()


def ink_box(digit):
    rows, columns = np.nonzero(digit > 0.05)
    return rows.max() - rows.min() + 1, columns.max() - columns.min() + 1


@pytest.mark.parametrize(
    "image",
    [
        draw_seven(),  # dark ink on light paper
        draw_seven(ink="white", paper="black"),  # light on dark
        draw_seven(size=(600, 180), width=12),  # wide, not square
        draw_seven(ink=(20, 40, 160), paper=(235, 225, 190)),  # blue ink on yellowish paper, in colour
    ],
    ids=["dark-on-light", "light-on-dark", "wide", "colour"],
)
def test_an_image_becomes_an_mnist_digit(image, tmp_path):
    image.save(tmp_path / "digit.png")
    digit = to_mnist(read_grey(tmp_path / "digit.png"))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.max() == 1.0 and digit.min() == 0.0
    assert (digit[0] == 0).all() and (digit[-1] == 0).all() and (digit[:, 0] == 0).all() and (digit[:, -1] == 0).all()
    assert max(ink_box(digit)) in (19, 20, 21)  # the longer side fits the box
    grey = np.asarray(image.convert("L"), np.float32)
    rows, columns = np.nonzero(np.abs(grey - grey[0, 0]) > 64)  # the drawing's own extent
    height, width = ink_box(digit)
    assert height / width == pytest.approx((np.ptp(rows) + 1) / (np.ptp(columns) + 1), rel=0.2)  # aspect kept
    assert np.allclose(centre_of_mass(digit), 13.5, atol=0.75)
    assert digit.mean() < 0.35  # ink on a dark field, as in MNIST, whichever way round the image was


def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path):
    """A phone held sideways stores the picture turned and says so in its EXIF tag 274 (6: turn
    it 90 degrees clockwise to view it)."""
    upright = draw_seven()
    upright.save(tmp_path / "upright.jpg", quality=95)
    exif = Image.Exif()
    exif[274] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.jpg", quality=95, exif=exif)
    sideways = read_grey(tmp_path / "sideways.jpg")
    assert sideways.shape == read_grey(tmp_path / "upright.jpg").shape == (300, 240)
    assert np.abs(to_mnist(sideways) - to_mnist(read_grey(tmp_path / "upright.jpg"))).max() < 0.1  # JPEG's rounding apart


@pytest.mark.parametrize(
    "name, ink, paper, depth",
    [
        # Ink at 1,000 and paper at 60,000 of 65,535: clipped at 255, both would be white.
        ("scan16.png", 1000, 60000, 65535),
        # A 12-bit scanner's levels in a 16-bit TIFF: white paper reads as white, not as the dark
        # grey of 4,095 / 65,535, which would pass for light ink on dark paper.
        ("scan12.tif", 50, 4095, 4095),
    ],
)
def test_a_sixteen_bit_grey_scan_is_scaled_on_its_own_depth_not_clipped(tmp_path, name, ink, paper, depth):
    eight_bit = np.asarray(draw_seven().convert("L"), np.float32) / 255
    levels = np.round(ink + eight_bit.astype(np.float64) * (paper - ink)).astype(np.uint16)
    Image.fromarray(levels).save(tmp_path / name)
    with Image.open(tmp_path / name) as image:
        assert image.mode in ("I;16", "I")  # as Pillow opens a 16-bit grey file
    grey = read_grey(tmp_path / name)
    np.testing.assert_allclose(grey, levels / depth, atol=1e-6)
    np.testing.assert_allclose(to_mnist(grey), to_mnist(eight_bit), atol=0.05)


def test_the_same_drawing_either_way_round_gives_the_same_digit(tmp_path):
    dark, light = draw_seven(), draw_seven(ink="white", paper="black")
    assert np.abs(to_mnist(np.asarray(dark.convert("L")) / 255) - to_mnist(np.asarray(light.convert("L")) / 255)).max() < 1e-5


def test_glare_brighter_than_the_paper_is_not_ink():
    paper = np.full((200, 160), 0.6, np.float32)
    paper[60:140, 70:82] = 0.1  # a dark stroke
    glared = paper.copy()
    glared[5:20, 5:30] = 1.0  # a white reflection in a corner
    np.testing.assert_array_equal(to_mnist(glared), to_mnist(paper))


def test_an_empty_page_holds_no_digit():
    with pytest.raises(ImageError, match="page.png: found no digit"):
        to_mnist(np.full((50, 40), 0.9, np.float32), "page.png")


def test_the_command_denoises_each_image_and_names_the_one_it_cannot_read(tmp_path):
    keras.utils.set_random_seed(0)
    model = tmp_path / "tiny.keras"
    save_model(build_autoencoder([16]), model)
    draw_seven().save(tmp_path / "scan.png")
    draw_seven(size=(640, 200), ink=(30, 30, 90), paper=(250, 245, 230)).convert("RGB").save(tmp_path / "photo.jpg", quality=80)
    (tmp_path / "notes.png").write_text("not an image")
    result = subprocess.run(
        [sys.executable, "-m", "tools.denoise", "--model", str(model), "--noise", "0.5", "--out", str(tmp_path / "out"),
         str(tmp_path / "scan.png"), str(tmp_path / "notes.png"), str(tmp_path / "photo.jpg")],
        cwd=PROJECT, capture_output=True, text=True,
        env=default_logging(),
    )
    assert result.returncode == 1
    errors = result.stderr.splitlines()  # that line alone: none of TensorFlow's start-up notices
    assert len(errors) == 1 and errors[0].startswith(f"denoise: {tmp_path / 'notes.png'}: cannot read as an image: ")
    for name in ("scan.png", "photo.jpg"):
        with Image.open(tmp_path / "out" / f"{name}.denoised.png") as figure:
            assert figure.width > 2 * figure.height  # three panels side by side (two would be 1.6 times as wide)
    assert not (tmp_path / "out" / "notes.png.denoised.png").exists()



def test_the_folders_made_for_figures_go_again_when_no_image_could_be_read(tmp_path):
    keras.utils.set_random_seed(0)
    model = tmp_path / "tiny.keras"
    save_model(build_autoencoder([16]), model)
    (tmp_path / "notes.png").write_text("not an image")
    result = subprocess.run(
        [sys.executable, "-m", "tools.denoise", "--model", str(model), "--out", str(tmp_path / "new" / "figures"), str(tmp_path / "notes.png")],
        cwd=PROJECT, capture_output=True, text=True,
    )
    assert result.returncode == 1 and f"denoise: {tmp_path / 'notes.png'}: cannot read as an image" in result.stderr
    assert not (tmp_path / "new").exists()
    # A folder the user had stays, empty or not, however the path reaches it.
    (tmp_path / "mine").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "tools.denoise", "--model", str(model), "--out", str(tmp_path / "gone" / ".." / "mine"), str(tmp_path / "notes.png")],
        cwd=PROJECT, capture_output=True, text=True,
    )
    assert result.returncode == 1 and (tmp_path / "mine").is_dir() and not (tmp_path / "gone").exists()


# A mistyped model name, and an existing file that is no .keras model (the example image).
@pytest.mark.parametrize(
    "flag, value", [("--noise", "-1"), ("--noise", "nan"), ("--seed", "-1"), ("--model", "shalow"), ("--model", "examples/four.jpg")]
)
def test_the_command_refuses_a_bad_option_before_loading_anything(tmp_path, flag, value):
    (tmp_path / "damaged.keras").write_bytes(b"not a model")  # loading it would fail otherwise
    model = [] if flag == "--model" else ["--model", str(tmp_path / "damaged.keras")]
    result = subprocess.run(
        [sys.executable, "-m", "tools.denoise", *model, flag, value, str(tmp_path / "x.png")],
        cwd=PROJECT, capture_output=True, text=True,
    )
    assert result.returncode == 2 and f"{flag} {value} is invalid" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("usage: python -m tools.denoise ")  # as it is run, not denoise.py


def test_the_command_refuses_an_output_folder_it_cannot_make_before_loading_the_model(tmp_path):
    (tmp_path / "damaged.keras").write_bytes(b"not a model")  # loading it would fail first
    (tmp_path / "taken").write_text("a file where the folder would go")
    result = subprocess.run(
        [sys.executable, "-m", "tools.denoise", "--model", str(tmp_path / "damaged.keras"), "--out", str(tmp_path / "taken"), "x.png"],
        cwd=PROJECT, capture_output=True, text=True,
    )
    assert result.returncode == 2 and f"--out {tmp_path / 'taken'} is invalid: expected a folder for the figures" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_refuses_two_images_of_one_name_before_loading_the_model(tmp_path):
    """Figures are named after their images: `a/scan.png` and `b/scan.png` would share one, the
    second overwriting the first. The same file given twice is no clash."""
    (tmp_path / "damaged.keras").write_bytes(b"not a model")  # loading it would fail first
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        draw_seven().save(tmp_path / folder / "scan.png")
    first, second = tmp_path / "a/scan.png", tmp_path / "b/scan.png"
    command = [sys.executable, "-m", "tools.denoise", "--model", str(tmp_path / "damaged.keras"), "--out", str(tmp_path / "out")]
    result = subprocess.run([*command, str(first), str(second)], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"python -m tools.denoise: error: {first} and {second} would both be drawn to {tmp_path / 'out/scan.png.denoised.png'}: "
        "denoise them in separate runs, each with its own --out"
    )
    assert not (tmp_path / "out").exists()
    draw_seven().save(tmp_path / "b/Scan.PNG")
    by_case = subprocess.run([*command, str(first), str(tmp_path / "b/Scan.PNG")], cwd=PROJECT, capture_output=True, text=True)
    assert by_case.returncode == 2 and by_case.stderr.splitlines()[-1].endswith(
        "scan.png.denoised.png (one file where case does not count, as on macOS and Windows): denoise them in separate runs, each with its own --out"
    )
    same = subprocess.run([*command, str(first), str(tmp_path / "b/../a/scan.png")], cwd=PROJECT, capture_output=True, text=True)
    assert same.returncode == 1 and "damaged.keras" in same.stderr  # past the check, on to loading the model


def test_images_clash_by_name_in_any_case_unless_they_are_one_file(tmp_path):
    for path in ("a/scan.png", "b/Scan.PNG", "c/other.png"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(b"an image")
    (tmp_path / "c/link.png").symlink_to(tmp_path / "a/scan.png")
    (tmp_path / "c/scan.png").symlink_to(tmp_path / "a/scan.png")
    (tmp_path / "d").mkdir()
    (tmp_path / "d/scan.png").hardlink_to(tmp_path / "a/scan.png")
    a, b = tmp_path / "a/scan.png", tmp_path / "b/Scan.PNG"
    assert same_names([a, tmp_path / "c/other.png", b]) == [a, b]  # one figure on macOS and Windows
    one_file = [a, tmp_path / "c/scan.png", tmp_path / "b/../a/scan.png", tmp_path / "c/link.png", tmp_path / "d/scan.png"]
    assert same_names(one_file) is None


def test_a_model_not_trained_yet_is_named_with_what_to_run(tmp_path):
    (tmp_path / "params.yaml").write_text((PROJECT / "params.yaml").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "tools.denoise", "x.png"],
        cwd=tmp_path, capture_output=True, text=True, env=default_logging(PYTHONPATH=str(PROJECT)),
    )
    assert result.returncode == 1
    first = model_names(tmp_path)[0]  # the default model
    assert result.stderr.strip() == (
        f"denoise: no trained model at models/{first}.keras: run `dvc repro` to train it, or `dvc pull` to fetch it from a DVC remote"
    )
