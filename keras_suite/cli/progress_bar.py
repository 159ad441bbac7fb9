"""The command line's progress bar: the `progress` callback that the library's recipes take."""

import sys


class ProgressBar:
    """A Keras `Progbar` behind the recipes' `progress(done, total, **values)` callback.

    Every long recipe in keras-suite (training, evaluation, collection, search) takes an optional
    `progress` callable and calls it as `progress(done, total, **values)` after each unit of work
    (a step, an episode, an epoch, a trial), `values` holding the latest scalars to show. This
    class draws those calls as one Keras progress bar on standard error, so that standard output
    keeps only the results.

    Args:
        unit: the name of one unit of work, shown before the bar (`"step"`, `"episode"`).

    Example:

    ```python
    bar = ProgressBar("episode")
    for episode in range(10):
        bar(episode + 1, 10, reward=1.0)
    ```
    """

    def __init__(self, unit):
        self.unit = unit
        self._bar = None
        self._total = None

    def __call__(self, done, total, **values):
        if self._bar is None or total != self._total:
            from keras.utils import Progbar

            print(f"{self.unit}s:", file=sys.stderr, flush=True)
            self._bar = Progbar(total, stateful_metrics=list(values) or None, unit_name=self.unit)
            self._total = total
            if values:
                self._bar.stateful_metrics.update(values)
        else:
            self._bar.stateful_metrics.update(values)
        stdout = sys.stdout
        sys.stdout = sys.stderr  # Progbar writes to standard output.
        try:
            self._bar.update(done, values=[(name, float(v)) for name, v in values.items()])
        finally:
            sys.stdout = stdout
