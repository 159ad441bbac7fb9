"""The epoch loop of the TF3D recipes: one fit per epoch, checkpoints that resume, progress."""

import json
import os

CHECKPOINT_WEIGHTS = "model.weights.h5"
CHECKPOINT_STATE = "state.json"


def run_epochs(
    model, epochs, fit_epoch, progress=None, checkpoint_dir=None, resume=False, example=None
):
    """Runs `fit_epoch(epoch)` for the epochs not done yet, saving a checkpoint after each.

    With `checkpoint_dir`, two files are written there after every epoch: `model.weights.h5`,
    the model's weights and its compiled optimizer's variables (step counter, learning rate,
    moments: Keras' `save_weights` stores them with the weights), and `state.json`, the epochs
    done and the last logs. With `resume` and a checkpoint there, both weights and optimizer
    state are loaded and training goes on from the next epoch, as if it had not stopped.

    Args:
        model: the compiled model.
        epochs: the total number of epochs.
        fit_epoch: callable `epoch -> dict` of float logs of that epoch.
        progress: optional `progress(done, total, **logs)` called after each epoch.
        checkpoint_dir: optional folder of the checkpoint.
        resume: continue from the checkpoint in `checkpoint_dir` when there is one.
        example: callable returning model inputs that build an unbuilt model before its
            checkpoint is loaded.

    Returns:
        A dict: `first_epoch` (0, or the epochs already done when resuming), `epochs_run` and
        `logs`, the logs of every epoch run.

    Example:

    ```python
    def fit_epoch(epoch):
        history = model.fit(x, y, verbose=0)
        return {"loss": history.history["loss"][-1]}

    run = run_epochs(model, 10, fit_epoch, checkpoint_dir="ckpt", resume=True)
    ```
    """
    first_epoch = 0
    state_path = checkpoint_dir and os.path.join(checkpoint_dir, CHECKPOINT_STATE)
    if resume and state_path and os.path.exists(state_path):
        with open(state_path) as f:
            first_epoch = json.load(f)["epochs_done"]
        if not model.built and example is not None:
            model(example())
        if model.optimizer is not None and not model.optimizer.built:
            # Keras loads the saved optimizer variables only into a built optimizer.
            model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(checkpoint_dir, CHECKPOINT_WEIGHTS))
    history = []
    for epoch in range(first_epoch, epochs):
        logs = {name: float(value) for name, value in fit_epoch(epoch).items()}
        history.append(logs)
        if checkpoint_dir:
            os.makedirs(checkpoint_dir, exist_ok=True)
            model.save_weights(os.path.join(checkpoint_dir, CHECKPOINT_WEIGHTS))
            with open(state_path, "w") as f:
                json.dump({"epochs_done": epoch + 1, "logs": logs}, f)
        if progress is not None:
            progress(epoch + 1, epochs, **logs)
    return {"first_epoch": first_epoch, "epochs_run": len(history), "logs": history}


def stepped_learning_rate(learning_rate, epoch, epochs):
    """The instance and detection recipes' rate: a third of it for the last third of 3+ epochs."""
    if epochs >= 3 and epoch >= (2 * epochs) // 3:
        return learning_rate / 3
    return learning_rate
