"""KerasTuner's chief/worker mode with `ModelSearchOracle`: a chief and two workers on loopback."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import keras
    import numpy as np
    from keras_suite.tuner import ModelSearch, ModelSearchOracle

    directory, markers = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    tuner_id = os.environ["KERASTUNER_TUNER_ID"]

    class Marker(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            open(os.path.join(markers, tuner_id + "_" + self.model.name), "w").close()
            if os.environ.get("HANG_IN_TRIAL"):
                time.sleep(300)

    oracle = ModelSearchOracle("val_accuracy", max_trials=4, seed=7, ensemble_every=3,
                               distillation_every=None, num_initial_trials=2)
    tuner = ModelSearch(oracle, num_classes=3, blocks=["dense_32", "dense_64"],
                        directory=directory, project_name="p",
                        run_eagerly=True)
    tuner.search(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0,
                 callbacks=[Marker()])
    """
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.slow
def test_chief_and_two_workers_and_a_worker_killed_mid_trial_loses_nothing(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(_SCRIPT)
    markers = tmp_path / "markers"
    markers.mkdir()
    project = tmp_path / "runs" / "p"
    port = str(_free_port())

    def launch(tuner_id, **extra):
        env = dict(
            os.environ,
            KERASTUNER_ORACLE_IP="127.0.0.1",
            KERASTUNER_ORACLE_PORT=port,
            KERASTUNER_TUNER_ID=tuner_id,
            **extra,
        )
        return subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "runs"), str(markers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    processes = []
    try:
        chief = launch("chief")
        processes.append(chief)
        _wait_for(lambda: (project / "oracle.json").exists(), 120, "the chief to start")
        worker0 = launch("tuner0")
        worker1 = launch("tuner1", HANG_IN_TRIAL="1")
        processes += [worker0, worker1]
        _wait_for(
            lambda: any(m.startswith("tuner1_") for m in os.listdir(markers)),
            120,
            "worker tuner1 to start a trial",
        )
        hung = next(m for m in os.listdir(markers) if m.startswith("tuner1_"))
        hung_trial = hung.split("trial_")[1]
        worker1.send_signal(signal.SIGKILL)
        worker1.wait(30)
        with open(project / f"trial_{hung_trial}" / "trial.json") as f:
            before = json.load(f)
        assert before["status"] == "RUNNING"
        restarted = launch("tuner1")
        processes.append(restarted)
        assert worker0.wait(180) == 0, worker0.stderr.read().decode()[-2000:]
        assert restarted.wait(180) == 0, restarted.stderr.read().decode()[-2000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(30)

    trials = {}
    for index in range(4):
        with open(project / f"trial_{index}" / "trial.json") as f:
            trials[str(index)] = json.load(f)
    assert sorted(d for d in os.listdir(project) if d.startswith("trial_")) == [
        f"trial_{i}" for i in range(4)
    ]
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    # The trial that was running on the killed worker was finished by its restart, unchanged.
    assert trials[hung_trial]["hyperparameters"]["values"] == before["hyperparameters"]["values"]
    assert f"tuner1_trial_{hung_trial}" in os.listdir(markers)
    # Both workers ran trials.
    runners = {m.split("_trial_")[0] for m in os.listdir(markers)}
    assert runners == {"tuner0", "tuner1"}
    with open(project / "oracle.json") as f:
        state = json.load(f)
    assert sorted(state["end_order"], key=int) == [str(i) for i in range(4)]
    assert len(state["end_order"]) == 4
    for trial in trials.values():
        values = trial["hyperparameters"]["values"]
        if values["parent_trial_id"] != "none":
            assert trials[values["parent_trial_id"]]["status"] == "COMPLETED"
