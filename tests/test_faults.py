"""Faults a user meets, end to end: invalid params, a non-finite cost, kills and signals in the
middle of a stage, two runs at once. Each must end in a clear message and a state from which a
plain `dvc repro` gives the results of a run that never failed."""

import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from dae.params import BASELINE_NAMES
from tests.conftest import PROJECT
from tests.e2e import TINY, dvc, environment, metrics, model_names, new_repo, ran, restore, run, set_params

RESUME = ".dvc/tmp/train-resume"  # where stages/train.py keeps an interrupted run's last epoch


@pytest.fixture(scope="module")
def done(tmp_path_factory, mnist_mirror):
    """A throwaway repo whose tiny pipeline has run once, its results committed."""
    repo = new_repo(tmp_path_factory.mktemp("faults"))
    dvc(repo, "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "results")
    return repo


def results(repo):
    """The metrics and every model's bytes: what an interrupted run must give back exactly."""
    return metrics(repo), {name: (repo / f"models/{name}.keras").read_bytes() for name in model_names(repo)}


# The first and the last model of the project's params.yaml, which the tiny pipeline trains.
MODELS = model_names(PROJECT)
FIRST, LAST = MODELS[0], MODELS[-1]

# The folders that some stage reads.
READ_BY_STAGES = ("data/raw", "data/prepared", "data/noisy", "models", "dvclive")


def stray_files(repo, folders=READ_BY_STAGES):
    """Temporary files of an interrupted writer (dae.files, dae.mnist.fetch) inside `folders`.
    (A whole output folder is staged in a `.<name>-partial-*` folder beside it, in data/, which
    no stage reads; a killed run's is removed by the next run of its stage. A SIGKILL of
    `evaluate` can leave the temporary file of a figure in reports/, which no stage reads: the
    next write of that figure removes it, and git ignores it meanwhile. The next `dvc repro` may
    not write it: DVC's run cache restores evaluate's outputs, `cache: false` ones included,
    without running the stage.)"""
    return sorted(
        str(path.relative_to(repo)) for folder in folders for path in (repo / folder).rglob("*") if is_leftover(path.relative_to(repo))
    )


def is_leftover(path):
    """Whether `path`, relative to the repo, is or lies in a killed writer's temporary file
    (`.<name>.tmp*`, dae.files) or staging folder (`.<name>-partial-*`)."""
    return any(part.startswith(".") and (".tmp" in part[1:] or "-partial-" in part) for part in path.parts)


class start(subprocess.Popen):
    """`dvc <args>` in its own process group, as a terminal runs it, its output read line by line;
    as a context manager, the whole group is killed on the way out if it still runs."""

    def __init__(self, repo, *args, env=None):
        # A terminal's foreground job has Ctrl-C's SIGINT at its default. A job started with `&`
        # (as a script or CI runner may start the tests) has it ignored, and passes that on to DVC
        # and its stages, which then never see a Ctrl-C: a Python handler is reset at exec instead.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        super().__init__(
            [sys.executable, "-m", "dvc", *args], cwd=repo, env=env or environment(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )

    def __exit__(self, *exc):
        if self.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        return super().__exit__(*exc)


def read_until(process, marker):
    """Read the process's output up to and including the first line that starts with `marker`."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(marker):
            return "".join(lines)
    raise AssertionError(f"no line starting with {marker!r} in:\n{''.join(lines)}")


def stop(process, signum):
    """Send `signum` to the whole process group (dvc and its stage), as Ctrl-C or `kill` would."""
    os.killpg(process.pid, signum)
    rest = process.communicate(timeout=120)[0]
    return rest


@pytest.mark.parametrize(
    "setting, message",
    [
        ("noise_level=-1", "params.yaml: `noise_level` = -1 is invalid: expected a number >= 0"),
        ("train.batch_size=0", "params.yaml: `train.batch_size` = 0 is invalid: expected an integer >= 1"),
        ("train.epochs=many", "params.yaml: `train.epochs` = 'many' is invalid: expected an integer"),
        ("seed=4294967296", "params.yaml: `seed` = 4294967296 is invalid: expected an integer <= 4294967295"),
        ("noise_type=speckle", "params.yaml: `noise_type` = 'speckle' is invalid: expected one of 'gaussian', 'masking'"),
        (f"+models.{LAST}.type=rnn", f"params.yaml: `models.{LAST}.type` = 'rnn' is invalid: expected one of 'dense', 'conv'"),
        (f"+models.{LAST}.dropout=0.5", f"params.yaml: `models.{LAST}` has unknown settings 'dropout': expected `encoder`"),
        (f"+models.{LAST}.activation=relux", f"params.yaml: `models.{LAST}.activation` = 'relux' is invalid: expected the name of a Keras activation"),
        (f"+models.{LAST}.shift=5", f"params.yaml: `models.{LAST}.shift` = 5 is invalid: expected an integer <= 4"),
        (
            f"+models.{LAST}.type=conv +models.{LAST}.initializer=identity",
            f"params.yaml: `models.{LAST}.initializer` = 'identity' is invalid: expected 'reference_uniform' or the name of a "
            "Keras initializer that draws a conv model's kernels",
        ),
        ("train.weight_decay=-0.1", "params.yaml: `train.weight_decay` = -0.1 is invalid: expected a number >= 0"),
        (f"+models.{LAST}.batch_size=7", f"params.yaml: `models.{LAST}.batch_size` = 7 is invalid: expected a divisor of the 10000 training images"),
        # Valid each on its own: a model's own shift, the stored noisy images; refused by the noise
        # stage, before it writes the stored noisy images.
        (
            f"+models.{FIRST}.shift=2 train.noise=stored",
            f"noise: params.yaml: `models.{FIRST}.shift` = 2 is invalid with `train.noise: stored`: the stored noisy images cannot be shifted",
        ),
        # Settings that later stages read stop the first training, not the stage that reads them.
        ("noise_level=0.45 evaluate.dpi=5", "train: params.yaml: `evaluate.dpi` = 5 is invalid: expected an integer >= 20"),
        (f"train.learning_rate=0.02 +models.{LAST}.epochs=0", f"train: params.yaml: `models.{LAST}.epochs` = 0 is invalid: expected an integer >= 1"),
    ],
)
def test_exp_run_with_an_invalid_param_fails_before_training_naming_the_key(done, setting, message):
    began = time.monotonic()
    failed = dvc(done, "exp", "run", *(arg for one in setting.split() for arg in ("-S", one)), check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0 and message in output
    assert "Epoch: " not in output  # refused before any training
    print(f"dvc exp run -S {setting}: refused in {time.monotonic() - began:.1f} s")
    restore(done)
    assert "Data and pipelines are up to date." in dvc(done, "status").stdout


def workspace_contents(repo):
    """Every file (its bytes) and folder (None) of the workspace and of the training's resume
    backups: not git's or DVC's own files, which DVC's locks and state change on every command."""
    paths = [path for path in repo.rglob("*") if path.relative_to(repo).parts[0] not in (".git", ".dvc")]
    paths += (repo / RESUME).rglob("*")
    return {str(path.relative_to(repo)): path.read_bytes() if path.is_file() else None for path in paths}


@pytest.mark.parametrize(
    "name, message",
    [
        # A dot splits DVC's params key `models.${key}`: DVC refuses the stage itself.
        ("../x", "ERROR: failed to reproduce 'train@../x': Parameters 'models.../x' are missing from 'params.yaml'"),
        # DVC's command line splits it: the training gets two words.
        ("a b", "usage: python -m stages.train <model name from params.yaml `models`>"),
        # DVC accepts these as `foreach` keys; the training refuses them (a character that
        # dae.params keeps out of file and stage names; a model passed off as a baseline).
        ("a+b", "train: params.yaml: model name 'a+b' under `models` is invalid: expected 1 to 64 letters"),
        (BASELINE_NAMES[0], f"train: params.yaml: model name '{BASELINE_NAMES[0]}' under `models` is invalid: it is a baseline's name"),
    ],
)
def test_a_model_with_an_invalid_name_is_refused_before_training_and_nothing_is_written(done, name, message):
    params = yaml.safe_load((done / "params.yaml").read_text())
    set_params(done, {"models": {**params["models"], name: {"encoder": [8]}}})
    before = workspace_contents(done)
    failed = dvc(done, "repro", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0 and message in output
    assert "Epoch: " not in output
    assert workspace_contents(done) == before
    restore(done)
    assert "Data and pipelines are up to date." in dvc(done, "status").stdout


def test_back_on_a_commit_whose_models_came_from_another_cpu(done):
    """The README's "Experimenting on another machine": a commit whose models another CPU trained
    (other bytes, so in no cache here). `dvc checkout` fails for them and `dvc repro` retrains,
    though DVC's run cache holds this machine's run of the same params; without dvc.lock, DVC
    takes every stage from its run cache."""
    head = run(done, "git", "rev-parse", "HEAD").stdout.strip()
    ours = results(done)
    names = model_names(done)
    lock = yaml.safe_load((done / "dvc.lock").read_text())
    for name in names:
        (model,) = [out for out in lock["stages"][f"train@{name}"]["outs"] if out["path"] == f"models/{name}.keras"]
        model["md5"] = f"{int(model['md5'], 16) ^ 1:032x}"  # another CPU's model: other bytes
    try:
        (done / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
        run(done, "git", "commit", "-qam", "results from another CPU")
        checkout = dvc(done, "checkout", check=False)
        assert checkout.returncode != 0 and "Checkout failed for following targets:" in checkout.stderr
        assert all(f"models/{name}.keras" in checkout.stderr for name in names)
        retrained = dvc(done, "repro").stdout
        assert {f"train@{name}" for name in names} <= ran(retrained)
        assert results(done) == ours  # the same machine: the same models, retrained
        run(done, "git", "checkout", ".")
        (done / "dvc.lock").unlink()
        restored = dvc(done, "repro").stdout
        assert ran(restored) == set()
        assert all(f"Stage '{stage}' is cached - skipping run" in restored for stage in lock["stages"])
        assert results(done) == ours
    finally:
        run(done, "git", "reset", "-q", "--hard", head)
        dvc(done, "checkout", "-q")
    assert "Data and pipelines are up to date." in dvc(done, "status").stdout


def test_a_non_finite_cost_stops_training_and_nothing_is_kept(done):
    """A fault injected into the repo's copy of the training code: every input of epoch 2 is NaN."""
    training = done / "dae/training/stream.py"
    code = training.read_text()
    line = "        return corrupt(targets, noise_type, noise_level, key, clip), targets\n"
    assert line in code
    batches_per_epoch = TINY["prepare"]["train_size"] // 100
    nan = f"        return tf.where(number >= {batches_per_epoch}, float('nan'), corrupt(targets, noise_type, noise_level, key, clip)), targets\n"
    training.write_text(code.replace(line, nan))
    lock = (done / "dvc.lock").read_text()
    for attempt in range(2):
        failed = dvc(done, "repro", check=False)
        output = failed.stdout + failed.stderr
        assert failed.returncode != 0
        # The second attempt runs the stage again: DVC's run cache holds no result of the first.
        name = next(name for name in model_names(done) if f"Running stage 'train@{name}'" in output)
        assert f"train {name}: the cost became non-finite in epoch 2; no model saved" in output
        assert not (done / f"models/{name}.keras").exists()
        assert not (done / f"dvclive/{name}/metrics.json").exists()
        assert (done / "dvc.lock").read_text() == lock
        assert not (done / f"dvclive/{name}/plots").exists()  # no partial history either
        assert stray_files(done) == [] and not list((done / RESUME).glob(f"{name}-*/epoch-*"))
    restore(done)
    assert "Data and pipelines are up to date." in dvc(done, "status").stdout


def test_sigkill_during_training_then_repro_gives_the_uninterrupted_result(tmp_path, mnist_mirror):
    repo = new_repo(tmp_path / "repo", {**TINY, "train": {"epochs": 8}})
    with start(repo, "repro") as first:
        read_until(first, "Epoch: 1 ")
        # Meanwhile a second `dvc repro` in the same workspace is refused by DVC's lock on what
        # the first one is writing, and the first goes on training.
        second = dvc(repo, "repro", check=False)
        assert second.returncode != 0
        assert "is busy, it is being blocked by" in second.stderr and f"(PID {first.pid})" in second.stderr
        read_until(first, "Epoch: 3 ")
        stop(first, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL

    # Nothing that looks like a result: no model, no metrics summary, no temporary file.
    assert sorted(path.name for path in (repo / "models").iterdir()) in ([], [".gitignore"])
    assert not list(repo.glob("dvclive/*/*")) and stray_files(repo) == []
    (kept,) = (repo / RESUME).glob("*/epoch-*.weights.h5")  # the last finished epoch, kept to resume
    epoch = int(kept.name.split(".")[0].removeprefix("epoch-"))

    resumed = dvc(repo, "repro")
    # Said once that epoch's state is loaded, so training goes on after it.
    assert f"{kept.parent.relative_to(repo)}: resuming an interrupted run after epoch {epoch}, its last finished one" in resumed.stdout
    assert not (repo / RESUME).exists() or not any((repo / RESUME).iterdir())
    after_kill, lock = results(repo), (repo / "dvc.lock").read_text()

    # The same pipeline again, every stage forced to run from the start: the same bytes.
    dvc(repo, "repro", "--force")
    assert results(repo) == after_kill and (repo / "dvc.lock").read_text() == lock
    # dvc.lock records the histories' hashes too: the resumed history is the whole one, epochs 1 to 8.
    history = (repo / f"dvclive/{model_names(repo)[0]}/plots/metrics/train/cost.tsv").read_text().splitlines()
    steps = history[0].split("\t").index("step")
    assert [row.split("\t")[steps] for row in history[1:]] == [str(k) for k in range(1, 9)]


class SlowMirror(http.server.SimpleHTTPRequestHandler):
    """Serves the MNIST files at about 1 MB/s, so that a signal lands in the middle of `fetch`."""

    def copyfile(self, source, outputfile):
        for block in iter(lambda: source.read(1 << 16), b""):
            outputfile.write(block)
            time.sleep(0.06)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_mirror(mnist_mirror):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: SlowMirror(*a, directory=str(mnist_mirror)))
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def output_files(repo):
    """Every file the pipeline writes, with its bytes (not a killed writer's leftovers: see `stray_files`)."""
    return {
        str(path.relative_to(repo)): path.read_bytes()
        for folder in ("data", "models", "dvclive", "reports")
        for path in (repo / folder).rglob("*")
        if path.is_file() and not is_leftover(path.relative_to(repo))
    }


@pytest.mark.parametrize(
    "stage, signum, marker",
    [
        ("fetch", signal.SIGTERM, "Running stage 'fetch'"),
        ("fetch", signal.SIGKILL, "Running stage 'fetch'"),
        ("noise", signal.SIGINT, "Running stage 'noise'"),
        ("noise", signal.SIGKILL, "Running stage 'noise'"),
        ("train", signal.SIGINT, "Epoch: 1 "),
        ("train", signal.SIGTERM, "Epoch: 1 "),
        ("evaluate", signal.SIGTERM, "evaluate noisy_input: "),
        ("evaluate", signal.SIGKILL, "evaluate noisy_input: "),
    ],
)
def test_a_signal_in_the_middle_of_a_stage_leaves_nothing_half_written(done, request, stage, signum, marker):
    """The stage is forced to run again, which would write the very same bytes; stopped midway,
    every output file must be either absent or still the previous one, byte for byte."""
    before, files = results(done), output_files(done)
    env = environment()
    if stage == "fetch":
        env["MNIST_MIRROR"] = request.getfixturevalue("slow_mirror")
    # The signal can land after the stage's end: the tiny `noise` stage runs about 0.2 s, and
    # `evaluate` about 0.8 s after its marker, which a busy machine can take to get the signal out
    # (CI once did). DVC, done or killed while it saves, then leaves every output rewritten with
    # the same bytes and dvc.lock as it was, up to date: nothing half-written, but nothing
    # interrupted either. Then the signal is sent to a new run, up to three times.
    for _ in range(3):
        with start(done, "repro", "--force", "--single-item", stage, env=env) as process:
            read_until(process, marker)
            # fetch: into the download; noise: past DVC's line, into the stage; evaluate's marker is the stage's own.
            time.sleep({"fetch": 0.5, "evaluate": 0}.get(stage, 0.1))
            stop(process, signum)
        assert stray_files(done) == []
        assert all(files.get(path) == data for path, data in output_files(done).items())
        untracked = run(done, "git", "status", "--porcelain", "--untracked-files=all").stdout
        assert [line for line in untracked.splitlines() if line.startswith("??")] == []  # git ignores a killed writer's files
        up_to_date = "Data and pipelines are up to date." in dvc(done, "status").stdout
        assert process.returncode != 0 or up_to_date  # a run that ended well left its stage up to date
        if not up_to_date:
            break
    assert not up_to_date, f"no run of three was left out of date (the last one's exit code: {process.returncode})"

    again = dvc(done, "repro")
    # Run again, or its outputs restored from DVC's run cache (whose entry the killed runs did not touch).
    assert stage in " ".join(ran(again.stdout)) or re.search(rf"Stage '{re.escape(stage)}[^']*' is cached - skipping run", again.stdout)
    assert results(done) == before and output_files(done) == files
    assert "Data and pipelines are up to date." in dvc(done, "status").stdout


# Where DVC's queue keeps a pid file for each worker it starts.
QUEUE_WORKERS = ".dvc/tmp/exps/celery"


def start_queue(repo, workers, log):
    """`dvc queue start -j workers`, its output in the file `log`: the workers, which it leaves
    running in the background, inherit it, so a pipe read to its end would wait for them."""
    with open(log, "w") as output:
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "queue", "start", "-j", str(workers)], cwd=repo, env=environment(),
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, timeout=120,
        )
    assert result.returncode == 0, log.read_text()


def stop_queue_workers(repo):
    """Stop the queue's workers, killing any still alive. A DVC 3.67 worker can miss its own
    shutdown when the queue empties while it still runs a task (its log: "monitor: shutting
    down due to empty queue", then the task's success) and idle on for good."""
    try:
        dvc(repo, "queue", "stop", check=False, timeout=60)
    except subprocess.TimeoutExpired:
        pass  # the kills below still end the workers
    for pid_file in (repo / QUEUE_WORKERS).glob("dvc-exp-worker-*.pid"):
        try:
            pid = int(pid_file.read_text())
            if "queue-worker" in Path(f"/proc/{pid}/cmdline").read_text():  # not another process with its old pid
                os.kill(pid, signal.SIGKILL)
        except (ValueError, OSError):
            pass  # gone already


def test_two_queued_experiments_on_two_workers_equal_runs_one_at_a_time(done, tmp_path):
    levels = [0.3, 0.5]
    for level in levels:
        dvc(done, "exp", "run", "--queue", "-S", f"noise_level={level}")
    try:
        start_queue(done, 2, tmp_path / "queue.log")
        deadline = time.monotonic() + 600
        while any(word in dvc(done, "queue", "status").stdout for word in ("Queued", "Running")):
            assert time.monotonic() < deadline, "queued experiments still running after 10 minutes"
            time.sleep(2)
    finally:
        stop_queue_workers(done)
    status = dvc(done, "queue", "status").stdout
    assert status.count("Success") == len(levels), status
    names = [line.split()[1] for line in status.splitlines() if "Success" in line]  # Task, Name, Created, Status

    for name in names:
        dvc(done, "exp", "apply", name)
        queued = results(done)
        level = yaml.safe_load((done / "params.yaml").read_text())["noise_level"]
        # The same params in the workspace, every stage after prepare forced to run again.
        dvc(done, "repro", "--force", "--single-item", "noise", "train", "evaluate")
        assert results(done) == queued, f"noise_level {level}"
        restore(done)


def test_a_removed_models_files_are_named_before_they_count_as_evaluate_inputs(done):
    names = model_names(done)
    removed = names[-1]
    params = yaml.safe_load((done / "params.yaml").read_text())
    del params["models"][removed]
    (done / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (done / "dvclive/.gitignore").write_text("*.tmp\n")  # no .gitignore that DVC writes: DVC hashes it (.dvcignore)
    failed = dvc(done, "repro", check=False)
    assert failed.returncode != 0
    assert (
        f"evaluate: dvclive/.gitignore, dvclive/{removed}, models/{removed}.keras belong to no model of params.yaml `models`"
        in failed.stderr
    )
    (done / "dvclive/.gitignore").unlink()
    (done / f"models/{removed}.keras").unlink()
    shutil.rmtree(done / f"dvclive/{removed}")
    dvc(done, "repro")
    assert list(metrics(done)) == [*BASELINE_NAMES, *names[:-1]]
    restore(done)


def test_a_model_whose_units_died_is_kept_with_a_warning(done):
    """ReLUs drawn all zero never move (their gradient is 0 there): the model gives one image, its
    output layer's biases, whatever it is shown. The stage says so and keeps it, a poor result but a result."""
    result = dvc(done, "exp", "run", "-S", "+models.dead={encoder: [8], initializer: zeros, activation: relu}")
    assert "train dead: warning: the model gives nearly one image whatever its input" in result.stdout + result.stderr
    assert "dead" in metrics(done) and (done / "models/dead.keras").is_file()
    restore(done)


def test_a_file_damaged_by_hand_is_named_by_the_stage_and_repaired_by_repro(done):
    before = results(done)
    model = done / f"models/{model_names(done)[0]}.keras"
    model.chmod(0o644)  # DVC links outputs read-only from its cache; a user's editor may not care
    model.write_bytes(model.read_bytes()[:5000])
    # Run by hand, outside DVC, the stage names the file.
    direct = run(done, sys.executable, "-m", "stages.evaluate", check=False)
    assert direct.returncode != 0
    assert f"evaluate: {model.relative_to(done)}: cannot load as a Keras model" in direct.stderr
    # DVC sees the output differ from what dvc.lock records, and `dvc repro` brings it back.
    assert "modified" in dvc(done, "status").stdout
    dvc(done, "repro")
    assert results(done) == before
    assert "Data and pipelines are up to date." in dvc(done, "status").stdout



def test_a_training_run_by_hand_on_data_of_another_size_says_so(done):
    """The batch size is checked against `prepare.train_size`; a stage run outside DVC after that
    param changed, on the images prepared before, must not train on them."""
    size = TINY["prepare"]["train_size"]
    set_params(done, {"prepare": {"train_size": size // 2}})
    direct = run(done, sys.executable, "-m", "stages.train", model_names(done)[0], check=False)
    assert direct.returncode == 1 and "Traceback" not in direct.stderr
    assert direct.stderr.strip().endswith(f"data/prepared/train.npz holds {size} images, not `prepare.train_size` = {size // 2}: run `dvc repro`")
    restore(done)

def test_stored_noise_clipped_noise_and_the_split_order_run_end_to_end(done):
    from dae.files import load_arrays
    from dae.idx import read_split

    images, labels = read_split(done / "data/raw/train-images-idx3-ubyte.gz", done / "data/raw/train-labels-idx1-ubyte.gz")
    sizes = TINY["prepare"]
    validation = load_arrays(done / "data/prepared/validation.npz")
    train = load_arrays(done / "data/prepared/train.npz")
    # The first images of the training file are the validation split, the next the training split.
    assert (validation["images"] == images[: sizes["validation_size"]]).all()
    assert (train["images"] == images[sizes["validation_size"] : sizes["validation_size"] + sizes["train_size"]]).all()
    assert (train["labels"] == labels[sizes["validation_size"] : sizes["validation_size"] + sizes["train_size"]]).all()

    baseline = metrics(done)
    # Stored noise alone: the same test noise, other training noise, so other models.
    dvc(done, "exp", "run", "-S", "train.noise=stored")
    stored = load_arrays(done / "data/noisy/train.npz")["images"]
    assert stored.shape == (sizes["train_size"], 784) and stored.min() < 0 < 1 < stored.max()  # unclipped
    scores = metrics(done)
    assert scores["noisy_input"] == baseline["noisy_input"]
    for name in model_names(done):
        assert scores[name]["cost"] < scores["noisy_input"]["cost"] and scores[name] != baseline[name]
    restore(done)
    # Clipped noise: the noisy input itself gets closer to the clean images.
    dvc(done, "exp", "run", "-S", "noise.clip=true")
    assert not (done / "data/noisy/train.npz").exists()  # fresh noise: no stored copy made
    noisy_test = load_arrays(done / "data/noisy_test.npz")["images"]
    assert 0 <= noisy_test.min() and noisy_test.max() <= 1
    scores = metrics(done)
    assert scores["noisy_input"]["cost"] < baseline["noisy_input"]["cost"]
    for name in model_names(done):
        assert scores[name]["cost"] < scores["noisy_input"]["cost"] and scores[name] != baseline[name]
    restore(done)
