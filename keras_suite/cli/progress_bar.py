"""The command line's progress bar: the `progress` callback that the library's recipes take."""

import sys

#: Without a terminal, a plain line is written every this many parts of the total.
PLAIN_LINES = 20


class ProgressBar:
    """A Keras `Progbar` behind the recipes' `progress(done, total, **values)` callback.

    Every long recipe in keras-suite (training, evaluation, collection, search) takes an optional
    `progress` callable and calls it as `progress(done, total, **values)` after each unit of work
    (a step, an episode, an epoch, a trial), `values` holding the latest scalars to show. This
    class draws those calls on standard error, so that standard output keeps only the results:
    as one Keras progress bar on a terminal, and as a plain line every twentieth of the total
    (and at the end) in a log file. `total` may be `None` when unknown; a call whose `done` is
    below the last one's starts a new bar.

    Args:
        unit: the name of one unit of work (`"step"`, `"episode"`).

    Example:

    ```python
    bar = ProgressBar("episode")
    for episode in range(10):
        bar(episode + 1, 10, reward=1.0, solved=episode + 1)
    ```
    """

    def __init__(self, unit):
        self.unit = unit
        self._bar = None
        self._total = None
        self._done = None
        self._last_line = 0

    def __call__(self, done, total, **values):
        restart = self._done is None or total != self._total or done < self._done
        self._done, self._total = done, total
        if sys.stderr.isatty():
            self._update_bar(done, total, values, restart)
        else:
            self._write_line(done, total, values, restart)

    def _update_bar(self, done, total, values, restart):
        from keras.utils import Progbar

        stdout = sys.stdout
        sys.stdout = sys.stderr  # Progbar writes to standard output.
        try:
            if restart:
                self._bar = Progbar(total, stateful_metrics=list(values), unit_name=self.unit)
            self._bar.stateful_metrics.update(values)
            self._bar.update(done, values=list(values.items()))
        finally:
            sys.stdout = stdout

    def _write_line(self, done, total, values, restart):
        if restart:
            self._last_line = 0
        # An unknown total (`None`) gets a line per unit.
        every = 1 if total is None else max(1, total // PLAIN_LINES)
        if done != total and done - self._last_line < every:
            return
        self._last_line = done
        shown = "".join(f" - {name}: {_format(value)}" for name, value in values.items())
        of_total = "" if total is None else f"/{total}"
        print(f"{self.unit} {done}{of_total}{shown}", file=sys.stderr, flush=True)


def _format(value):
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{float(value):.4g}"
