from keras_suite.cli.progress_bar import PLAIN_LINES, ProgressBar


def test_without_a_terminal_it_writes_a_line_every_twentieth_and_at_the_end(capsys):
    bar = ProgressBar("episode")
    for done in range(1, 101):
        bar(done, 100, reward=0.5, solved=done)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == PLAIN_LINES
    assert lines[0] == "episode 5/100 - reward: 0.5 - solved: 5"
    assert lines[-1] == "episode 100/100 - reward: 0.5 - solved: 100"


def test_a_short_job_gets_a_line_per_unit_and_a_new_total_starts_again(capsys):
    bar = ProgressBar("step")
    for done in range(1, 4):
        bar(done, 3)
    bar(1, 2, loss=0.123456)
    assert capsys.readouterr().err.splitlines() == [
        "step 1/3",
        "step 2/3",
        "step 3/3",
        "step 1/2 - loss: 0.1235",
    ]


def test_an_unknown_total_gets_a_line_per_unit_and_a_smaller_done_starts_again(capsys):
    bar = ProgressBar("batch")
    bar(1, None, loss=2.0)
    bar(2, None)
    for done in range(1, 3):
        bar(done, 2)
    bar(1, 2)
    assert capsys.readouterr().err.splitlines() == [
        "batch 1 - loss: 2",
        "batch 2",
        "batch 1/2",
        "batch 2/2",
        "batch 1/2",
    ]
